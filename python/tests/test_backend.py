"""backend.py: cheap import, never raises, and real Airflow 2 DAG runs (SQLite, subprocess) vs the stub."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from airflow_openmetadata_lineage import runtime
from airflow_openmetadata_lineage.backend import OpenMetadataLineageBackend
from airflow_openmetadata_lineage.config import deployment_key, load_config, mapping_getter
from omstub import OMStub

HEAVY = ("requests", "urllib3", "boto3", "botocore", "jwt", "msal", "google.auth")
OURS = ("client", "reporter", "config", "secrets", "model", "cache", "auth.okta", "auth.google")


def _imports(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_with_airflow_adds_nothing_heavy() -> None:
    """Airflow itself already imports requests; importing our backend on top adds none of our heavy parts."""
    found = _imports(
        textwrap.dedent(
            """
            import json, sys
            import airflow.lineage.backend
            before = set(sys.modules)
            from airflow_openmetadata_lineage.backend import OpenMetadataLineageBackend
            added = sorted(set(sys.modules) - before)
            print(json.dumps({"added": added,
                               "base": OpenMetadataLineageBackend.__mro__[1].__name__}))
            """
        )
    )
    added = found["added"]
    assert found["base"] == "LineageBackend"
    assert not [m for m in added if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}], added
    assert not [m for m in added if m.removeprefix("airflow_openmetadata_lineage.") in OURS], added
    # how long the import takes is a figure of the benchmark (bench/run.py: "backend import time"), not a test


def test_import_without_airflow_is_light_and_safe() -> None:
    found = _imports(
        textwrap.dedent(
            """
            import json, sys
            sys.modules["airflow"] = None  # as if Airflow were missing or broken
            from airflow_openmetadata_lineage.backend import OpenMetadataLineageBackend
            OpenMetadataLineageBackend().send_lineage(operator=None, inlets=None, outlets=None, context=None)
            print(json.dumps({"heavy": sorted(m for m in sys.modules if m.split(".")[0] in
                              ("requests", "urllib3", "boto3", "botocore", "jwt", "msal")),
                              "base": OpenMetadataLineageBackend.__mro__[1].__name__}))
            """
        )
    )
    assert found == {"heavy": [], "base": "object"}


class Weird:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError("boom")


class RecordingDelivery:
    """The shared delivery's place in runtime: records what the backend hands it."""

    def __init__(self, fail: bool = False) -> None:
        self.reports: list[object] = []
        self.fail = fail
        self.time_budget = 5.0
        self.reporter = None  # as a Delivery has one (the adapters read its config)

    def hand_off(
        self, report: object, claim: bool = True, wait_at_exit: bool = True, hold: bool = False
    ) -> bool:
        assert hold, "the backend runs before Airflow's commit: its record waits for the success hook"
        self.reports.append(report)
        if self.fail:
            raise RuntimeError("secret-looking detail that must not be logged")
        return True


NO_CONTEXT = "OpenMetadata lineage: the task context has no ti/dag_run/dag; nothing sent"


@pytest.mark.parametrize(
    ("kwargs", "logged"),
    [
        ({}, NO_CONTEXT),
        ({"operator": None, "inlets": None, "outlets": None, "context": None}, NO_CONTEXT),
        (
            {"operator": Weird(), "inlets": [Weird()], "outlets": Weird(), "context": {"ti": Weird()}},
            "OpenMetadata lineage: report skipped after an unexpected RuntimeError",
        ),
        (
            {"operator": object(), "context": {"ti": object(), "dag_run": object(), "dag": object()}},
            "OpenMetadata lineage: report skipped after an unexpected AttributeError",
        ),
    ],
)
def test_send_lineage_never_raises(
    kwargs: dict[str, object], logged: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever Airflow hands over, send_lineage returns, says why in one warning, and reports nothing."""
    recorder = RecordingDelivery()
    monkeypatch.setattr(runtime, "get_delivery", lambda: recorder)
    OpenMetadataLineageBackend().send_lineage(**kwargs)  # type: ignore[arg-type]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [logged]
    assert recorder.reports == []


def test_a_reporter_that_raises_does_not_fail_the_task(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pendulum
    from airflow.models import DAG, DagRun, TaskInstance
    from airflow.operators.empty import EmptyOperator

    with DAG("raising", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
        task = EmptyOperator(task_id="t")
    dag_run = DagRun(dag_id="raising", run_id="manual__1", execution_date=pendulum.datetime(2024, 1, 2))
    ti = TaskInstance(task, run_id="manual__1")
    ti.dag_run = dag_run
    recorder = RecordingDelivery(fail=True)
    monkeypatch.setattr(runtime, "get_delivery", lambda: recorder)
    OpenMetadataLineageBackend().send_lineage(
        operator=task, context={"ti": ti, "dag_run": dag_run, "dag": dag}
    )
    assert len(recorder.reports) == 1, "the report was built and handed over"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["OpenMetadata lineage: report skipped after an unexpected RuntimeError"]
    assert "secret-looking" not in caplog.text


def test_a_failed_state_read_rolls_the_tasks_session_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sibling read runs in the task's own session: when the database refuses it, the session is rolled
    back (as Airflow's create_session() does), so Airflow's next statement (saving the success) still works,
    and the report goes out with this task only (merged with the server's copy)."""
    import pendulum
    from airflow import settings
    from airflow.models import DAG, DagRun, TaskInstance
    from airflow.operators.empty import EmptyOperator
    from sqlalchemy.exc import OperationalError

    class RefusingSession:
        rolled_back = 0

        def execute(self, statement: object) -> object:
            raise OperationalError(
                "SELECT ...", {}, Exception("canceling statement due to statement timeout")
            )

        def rollback(self) -> None:
            RefusingSession.rolled_back += 1

    with DAG("refused", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
        task = EmptyOperator(task_id="t")
    dag_run = DagRun(dag_id="refused", run_id="manual__1", execution_date=pendulum.datetime(2024, 1, 2))
    ti = TaskInstance(task, run_id="manual__1")
    ti.dag_run = dag_run
    recorder = RecordingDelivery()
    monkeypatch.setattr(runtime, "get_delivery", lambda: recorder)
    monkeypatch.setattr(settings, "Session", RefusingSession)
    OpenMetadataLineageBackend().send_lineage(
        operator=task, context={"ti": ti, "dag_run": dag_run, "dag": dag}
    )
    assert RefusingSession.rolled_back == 1
    [report] = recorder.reports
    assert not report.run.complete and [tr.task_id for tr in report.run.task_runs] == ["t"]  # type: ignore[attr-defined]


def test_config_error_logged_once_nothing_sent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AIRFLOW__LINEAGE__AIRFLOW_SERVICE_NAME", raising=False)
    monkeypatch.setenv("AIRFLOW__LINEAGE__OPENMETADATA_API_ENDPOINT", "http://127.0.0.1:9/api")
    caplog.set_level(logging.INFO, logger="airflow_openmetadata_lineage")
    backend = OpenMetadataLineageBackend()
    for _ in range(3):
        backend.send_lineage(operator=object(), context={"ti": object()})
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "OpenMetadata lineage is off for this process: [lineage] airflow_service_name is missing: "
        "set it to the pipeline service name, e.g. MWAA"
    ]
    assert runtime.get_delivery() is None and runtime.get_reporter() is None


# -- a real Airflow 2 run ------------------------------------------------------------------------------------

DAG_FILE = """
from datetime import datetime
from airflow import DAG
from airflow.datasets import Dataset
from airflow.lineage.entities import File, Table
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

with DAG("wheel_unit_dag", start_date=datetime(2024, 1, 1), schedule=None, doc_md="Unit DAG") as dag:
    extract = PythonOperator(
        task_id="extract", python_callable=lambda: 1, doc_md="Extracts",
        inlets=[{"tables": ["mysql.shop.public.orders"]}, File(url="s3://b/k")],
        outlets=[{"entity": "table", "fqn": "mysql.shop.public.staging"}],
    )
    load = BashOperator(
        task_id="load", bash_command="true",
        inlets=[Table(cluster="mysql", database="shop", name="public.staging")],
        outlets=[Dataset("openmetadata://mysql/shop/public/report"), {"tables": ["mysql.shop.public.nope"]}],
    )
    extract >> load
"""


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow_home")
    (home / "dags").mkdir()
    (home / "dags" / "wheel_unit_dag.py").write_text(DAG_FILE)
    out = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env=_env(home, "http://127.0.0.1:9/api"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return home


def _env(home: Path, endpoint: str, **lineage: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LINEAGE__BACKEND="airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend",
        AIRFLOW__LINEAGE__AIRFLOW_SERVICE_NAME="MWAA",
        AIRFLOW__LINEAGE__OPENMETADATA_API_ENDPOINT=endpoint,
        AIRFLOW__LINEAGE__SPOOL_DIR=str(home / "spool"),
        AIRFLOW__WEBSERVER__BASE_URL="http://airflow.example:8080",
    )
    env.update({f"AIRFLOW__LINEAGE__{k.upper()}": v for k, v in lineage.items()})
    return env


def _dags_test(home: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    out = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "dags", "test", "wheel_unit_dag"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out, time.monotonic() - started


def test_real_airflow_run_reports_everything(airflow_home: Path, stub: OMStub) -> None:
    stub.seed_tables("mysql.shop.public.orders", "mysql.shop.public.staging", "mysql.shop.public.report")
    out, _ = _dags_test(airflow_home, _env(airflow_home, stub.url.removesuffix("/api")))
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert log.count("Marking task as SUCCESS") == 2
    assert "table mysql.shop.public.nope is not in OpenMetadata" in log
    assert "is not a table reference" in log  # the File inlet, logged once and skipped

    assert stub.services["MWAA"]["connection"]["config"]["hostPort"] == "http://airflow.example:8080"
    pipeline = stub.pipelines["MWAA.wheel_unit_dag"]
    assert pipeline["description"] == "Unit DAG"
    assert [(t["name"], t["taskType"], t["downstreamTasks"]) for t in pipeline["tasks"]] == [
        ("extract", "PythonOperator", ["load"]),
        ("load", "BashOperator", []),
    ]
    (status,) = stub.statuses["MWAA.wheel_unit_dag"].values()
    assert status["executionStatus"] == "Successful"
    assert {s["name"]: s["executionStatus"] for s in status["taskStatus"]} == {
        "extract": "Successful",
        "load": "Successful",
    }
    ids = {v: k for k, v in stub.tables.items()}
    assert sorted((ids[a], ids[b]) for a, b in stub.edges) == [
        ("mysql.shop.public.orders", "mysql.shop.public.staging"),
        ("mysql.shop.public.staging", "mysql.shop.public.report"),
    ]
    assert len(stub.calls("POST", "/v1/services")) == 1 and not stub.calls("PUT", "/v1/services")


def test_slow_server_task_succeeds_within_budget(airflow_home: Path) -> None:
    stub = OMStub()
    stub.delay = 5.0  # answers far too slowly
    try:
        out, _ = _dags_test(airflow_home, _env(airflow_home, stub.url, time_budget="1", timeout="0.5"))
    finally:
        stub.close()
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert log.count("Marking task as SUCCESS") == 2
    # At most one attempt per hand-off (each task's, the run's record; hand-offs that arrive while the thread
    # is busy join its next pass): the spool goes oldest first and stops at the first record the server can't
    # take, so every attempt meets extract's kept report.
    attempts = len(re.findall(r"wheel_unit_dag\.\w+ not delivered", log))
    assert 1 <= attempts <= 3, attempts
    # the reporter's own line: "... reported|replayed: status not sent, 0/1 edges, N requests, 1.00s"
    took = [
        float(t)
        for t in re.findall(
            r"wheel_unit_dag\.\w+ (?:reported|replayed): status (?:not sent|in a newer record), .*,"
            r" ([0-9.]+)s",
            log,
        )
    ]
    assert len(took) == attempts and all(t <= 1.0 + 0.3 for t in took), took
    # Nothing lost: this deployment's spool keeps, for the next drain, the run's record and a record of
    # every task's success (a record whose status a newer waiting one carries may go once its pipeline and
    # edges are sent: here extract's, delivered at exit behind load's).
    endpoint = load_config(
        mapping_getter({"airflow_service_name": "MWAA", "openmetadata_api_endpoint": stub.url})
    )
    kept = [
        json.loads(p.read_text())["report"]
        for p in (airflow_home / "spool" / "spool" / deployment_key(endpoint.endpoint, "MWAA")).glob("*.json")
    ]
    assert "" in {r["task_id"] for r in kept}, "the run's final record is kept"
    carried = {(tr["task_id"], tr["state"]) for r in kept for tr in r["run"]["task_runs"]}
    assert {("extract", "success"), ("load", "success")} <= carried, carried
