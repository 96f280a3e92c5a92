"""A failed or partial install of the wheel never takes Airflow down (MWAA starts Airflow after a failed pip
install). Real Airflow from each MWAA image's packages (`.venvs/mwaa-<v>`, no wheel of ours), the module's own
planned options, its plugins.zip unpacked as the plugins folder: the DAG succeeds, lineage is off, and one
error line per process says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.airflow_runner import DagRunResult, run_dag
from omlineage_devkit.mwaa_image import constraints, local_requirements, offline_pip, overlay

DAG = Path(__file__).resolve().parent / "dags" / "om_guard.py"
OFF = "OpenMetadata lineage is OFF in this process"
WHEEL_BACKEND = "airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend"


def airflow_env(options: dict[str, str], plugins_dir: Path, *, airflow3: bool = False) -> dict[str, str]:
    """MWAA turns each `section.key` option into AIRFLOW__SECTION__KEY; its plugins folder is plugins.zip."""
    env = {
        f"AIRFLOW__{k.split('.', 1)[0].upper()}__{k.split('.', 1)[1].upper()}": v for k, v in options.items()
    }
    if airflow3:  # the module writes no [lineage] backend for 3.x
        env.pop("AIRFLOW__LINEAGE__BACKEND", None)
    env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(plugins_dir)
    return env


def off_lines(run: DagRunResult) -> list[str]:
    return [line for line in run.output.splitlines() if OFF in line]


@pytest.mark.parametrize("version", ["2.9.2", "2.10.3"])
def test_airflow2_without_the_wheel_runs_the_dag(
    version: str, plugins: dict[str, Any], module_outputs: dict[str, Any]
) -> None:
    env = airflow_env(module_outputs["no-auth"]["options"], plugins[version]["dir"])
    assert env["AIRFLOW__LINEAGE__BACKEND"] == "openmetadata_lineage_shim.OpenMetadataLineageBackend"
    run = run_dag("om_guard", [DAG], venv=f"mwaa-{version}", env=env)
    run.assert_ok()
    assert run.states == {"extract": "success", "load": "success"}, run.output[-4000:]
    lines = off_lines(run)
    assert len(lines) == 1, f"want one error line in the one `dags test` process:\n{lines}"
    assert "airflow-openmetadata-lineage wheel is not installed" in lines[0]
    assert "requirements" in lines[0]  # what to check


def test_airflow2_pointing_into_the_wheel_would_die(
    plugins: dict[str, Any], module_outputs: dict[str, Any]
) -> None:
    """Why the guard exists: the same run with `[lineage] backend` set to the wheel's class does not start."""
    env = airflow_env(module_outputs["no-auth"]["options"], plugins["2.10.3"]["dir"])
    env["AIRFLOW__LINEAGE__BACKEND"] = WHEEL_BACKEND
    run = run_dag("om_guard", [DAG], venv="mwaa-2.10.3", env=env)
    assert run.rc != 0
    assert "could not be loaded" in run.output


def test_airflow3_without_the_wheel_runs_the_dag(
    plugins: dict[str, Any], module_outputs: dict[str, Any]
) -> None:
    env = airflow_env(module_outputs["no-auth"]["options"], plugins["3.3.1"]["dir"], airflow3=True)
    run = run_dag("om_guard", [DAG], venv="mwaa-3.3.1", env=env)
    run.assert_ok()
    assert run.states == {"extract": "success", "load": "success"}, run.output[-4000:]
    lines = off_lines(run)
    assert lines and all("wheel is not installed" in line for line in lines), run.output[-4000:]


def test_missing_extra_turns_lineage_off_once(
    plugins: dict[str, Any], module_outputs: dict[str, Any], tmp_path: Path
) -> None:
    """A partial install: the wheel is there, msal (its [azure] extra) is not. One line names what lacks."""
    version = "2.10.3"
    venv = overlay(version, f"mwaa-{version}-wheel-only")
    plugins_dir = Path(plugins[version]["dir"])
    req = local_requirements(
        module_outputs["azure"]["requirements"], plugins_dir, tmp_path / "requirements.txt"
    )
    wheel_line = next(line for line in req.read_text().splitlines() if ".whl" in line).split("[")[0]
    python = Path(__file__).resolve().parents[2] / ".venvs" / venv / "bin" / "python"
    installed = offline_pip(
        python,
        ["--no-deps", "--find-links", str(plugins_dir), wheel_line, *constraints(version)],
        tmp_path / "r.json",
    )
    assert installed.rc == 0, installed.output[-3000:]
    env = airflow_env(module_outputs["azure"]["options"], plugins_dir)
    run = run_dag("om_guard", [DAG], venv=venv, env=env)
    run.assert_ok()
    assert run.states == {"extract": "success", "load": "success"}, run.output[-4000:]
    lines = off_lines(run)
    assert len(lines) == 1 and "msal (extra [azure])" in lines[0], lines
