"""The same lineage DAG (tests/airflow3/dags/om_parity.py) on each Airflow line MWAA offers, each installed
the way MWAA installs it: the image stand-in `.venvs/mwaa-<v>` plus the module's requirements.txt from
its plugins.zip with no index reachable, the module's `[lineage] backend` (the shim) on 2.x, the listener
plugin on 3.x. Every version must leave identical entities, edges and statuses in the OpenMetadata emulator,
and the failing task must be reported Failed on each."""

from __future__ import annotations

from typing import Any

import pytest

from omlineage_devkit.lineage_settings import lineage_env
from omlineage_devkit.mwaa_image import install
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected
from omlineage_devkit.parity import EXPECTED_EDGES, PIPELINE, RAN, Recorded, edges, normalise, record_run

LINES = ["2.9.2", "2.10.3", "2.11.2", "3.0.6", "3.3.1"]
SHIM = "openmetadata_lineage_shim.OpenMetadataLineageBackend"


@pytest.fixture(scope="module")
def line_runs(
    om_server: OpenMetadataEmulator,
    plugins: dict[str, Any],
    module_outputs: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Recorded]:
    tmp = tmp_path_factory.mktemp("airflow-lines")
    runs = {}
    for version in LINES:
        venv = install(version, plugins, module_outputs["no-auth"]["requirements"], tmp)
        env = lineage_env(om_server.api_url, **om_server.bot_env())  # auth is on, like the server
        airflow3 = version.startswith("3.")
        if airflow3:
            env.pop("AIRFLOW__LINEAGE__BACKEND")
        else:
            env["AIRFLOW__LINEAGE__BACKEND"] = SHIM  # what the module writes
        env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(plugins[version]["dir"])
        runs[version] = record_run(om_server, venv, env, reserialize=airflow3)
        print(f"\n[airflow line] {version}: dags test {runs[version].run.wall_s:.1f} s")
    om_server.reset()
    return runs


def test_each_line_runs_the_dag_as_written(line_runs: dict[str, Recorded]) -> None:
    expected = {**dict.fromkeys(RAN, "success"), "boom": "failed", "after": "upstream_failed"}
    for version, rec in line_runs.items():
        assert rec.run.states == expected, f"{version}:\n{rec.run.output[-4000:]}"
        bad = rejected(rec.requests)  # lookup 404s of get-or-create are not rejections
        assert not bad, f"{version}: requests rejected: {bad}"
        assert "OpenMetadata lineage is OFF" not in rec.run.output, version


def test_identical_entities_edges_and_statuses_on_every_line(line_runs: dict[str, Recorded]) -> None:
    reference = line_runs[LINES[0]]
    for version, rec in line_runs.items():
        assert edges(rec) == EXPECTED_EDGES, version
        for part in ("services", "statuses", "edges"):
            assert normalise(rec.state[part]) == normalise(reference.state[part]), (version, part)
        [pipeline] = rec.state["pipelines"]
        tasks = {t["name"]: t["downstreamTasks"] for t in pipeline["tasks"]}
        [ref] = reference.state["pipelines"]
        assert tasks == {t["name"]: t["downstreamTasks"] for t in ref["tasks"]}, version


def test_failing_task_reported_failed_on_every_line(line_runs: dict[str, Recorded]) -> None:
    for version, rec in line_runs.items():
        [status] = rec.state["statuses"][PIPELINE]
        by_task = {s["name"]: s["executionStatus"] for s in status["taskStatus"]}
        assert by_task["boom"] == "Failed", (version, by_task)
        assert status["executionStatus"] == "Failed", version
