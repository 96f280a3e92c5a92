"""Run an MWAA environment's Airflow locally, from exactly what the (emulated) MWAA API and bucket hold.

Like MWAA's workers, it takes GetEnvironment's AirflowConfigurationOptions as `AIRFLOW__SECTION__KEY`
variables, downloads requirements.txt and plugins.zip at the object versions the environment names, unpacks
plugins.zip as the plugins folder, installs requirements.txt (with `/usr/local/airflow/plugins/` rewritten to
that folder) on top of Airflow into a virtualenv, copies the DAGs from DagS3Path, then runs a DAG with
`airflow dags test` (omlineage_devkit/airflow_runner.py).

Differences from MWAA, on purpose: the base is Airflow 2.10.5 (3.0.6 for 3.x environments), the versions the
rest of the project measures, pinned instead of MWAA's constraints file (no network); SQLite and
`dags test` instead of Celery workers; AWS calls of the wheel (Secrets Manager) go to the loopback endpoint
given as `aws_env` instead of the execution role's credentials; the startup script is not run.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .airflow_runner import DagRunResult, run_dag, template_db
from .paths import VENVS

MWAA_PLUGINS = "/usr/local/airflow/plugins/"
VENV_PREFIX = "mwaa-local"  # .venvs/mwaa-local-2, .venvs/mwaa-local-3: one per Airflow major version
# Local stand-ins for MWAA's images: the major version picks the Airflow the venv is built on.
BASE_AIRFLOW = {"2": ["apache-airflow==2.10.5"], "3": ["apache-airflow==3.0.6", "fastapi[standard]<0.132"]}


class MwaaLocalError(RuntimeError):
    """The environment cannot be reproduced locally (missing artifact, failed install)."""


def option_env(options: dict[str, str]) -> dict[str, str]:
    """`section.key` -> `AIRFLOW__SECTION__KEY`, as MWAA exports configuration options to Airflow."""
    env: dict[str, str] = {}
    for key, value in options.items():
        section, sep, name = key.partition(".")
        if not sep or not name:
            raise MwaaLocalError(f"AirflowConfigurationOptions key {key!r} is not 'section.key'")
        env[f"AIRFLOW__{section.upper()}__{name.upper().replace('.', '__')}"] = value
    return env


def rewrite_requirements(text: str, plugins_dir: Path) -> str:
    """Points MWAA's plugins path at the local plugins folder (requirements may install wheels from it)."""
    return text.replace(MWAA_PLUGINS, f"{plugins_dir}/").replace(MWAA_PLUGINS.rstrip("/"), str(plugins_dir))


@dataclass
class LocalEnvironment:
    """An Airflow home and virtualenv reproducing one MWAA environment."""

    name: str
    description: dict[str, Any]
    home: Path
    env: dict[str, str]
    requirements: str
    venv: str
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, dag_id: str, logical_date: str | None = None, timeout: float = 300) -> DagRunResult:
        return run_dag(
            dag_id,
            venv=self.venv,
            home=self.home,
            env=self.env,
            logical_date=logical_date,
            reserialize=self.venv.endswith("-3"),  # Airflow 3 needs serialized DAGs before `dags test`
            timeout=timeout,
        )


def _download(s3: Any, bucket: str, key: str, version: str | None) -> bytes:
    try:
        extra = {"VersionId": version} if version else {}
        return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
    except Exception as err:  # botocore's ClientError; the message names the object, never its content
        raise MwaaLocalError(f"cannot read s3://{bucket}/{key} version {version}: {err}") from err


def _download_dags(s3: Any, bucket: str, prefix: str, target: Path) -> list[str]:
    prefix = prefix.strip("/")
    names: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
    ):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) + 1 :] if prefix else item["Key"]
            if not relative or relative.endswith("/"):
                continue
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_download(s3, bucket, item["Key"], None))
            names.append(relative)
    return sorted(names)


def _uv() -> Path:
    uv = VENVS / "uv" / "bin" / "uv"
    if not uv.exists():
        raise MwaaLocalError(f"{uv} is missing: run scripts/bootstrap.sh (it installs uv first)")
    return uv


def _python_for(major: str) -> str:
    """A python that runs: PATH, then pyenv's installs (its shims may exist and fail), like bootstrap.sh."""
    wanted = "3.12" if major == "3" else "3.11"
    candidates = [shutil.which(f"python{wanted}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{wanted}*/bin/python{wanted}"))
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import sys"], capture_output=True, check=False).returncode == 0:
            return candidate
    raise MwaaLocalError(
        f"no working python{wanted} (needed for Airflow {major}.x): install it or add it to PATH"
    )


def venv_name(airflow_version: str) -> str:
    return f"{VENV_PREFIX}-{airflow_version.split('.', 1)[0]}"


def build_venv(requirements: str, plugins_dir: Path, airflow_version: str, log: Any = None) -> float:
    """Installs Airflow + requirements.txt into .venvs/mwaa-local-<major>; reused while its inputs match.

    Returns the seconds spent (0 when reused). The key covers the requirements text and every file of the
    plugins folder, so a new wheel inside plugins.zip always means a fresh install.
    """
    major = airflow_version.split(".", 1)[0]
    if major not in BASE_AIRFLOW:
        raise MwaaLocalError(f"AirflowVersion {airflow_version!r}: no local base for major version {major}")
    digest = hashlib.sha256("\n".join([*BASE_AIRFLOW[major], requirements]).encode())
    for path in sorted(plugins_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(plugins_dir).as_posix().encode() + path.read_bytes())
    key = digest.hexdigest()[:24]
    venv = VENVS / venv_name(airflow_version)
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = venv / ".mwaa-key"
        if stamp.exists() and stamp.read_text() == key and (venv / "bin" / "airflow").exists():
            return 0.0
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        req_file = plugins_dir.parent / "requirements.local.txt"
        req_file.write_text(rewrite_requirements(requirements, plugins_dir))
        env = {**os.environ, "UV_NATIVE_TLS": "1", "UV_LINK_MODE": os.environ.get("UV_LINK_MODE", "copy")}
        python = str(venv / "bin" / "python")
        steps = [
            [str(_uv()), "venv", "-q", "--python", _python_for(major), str(venv)],
            [
                str(_uv()),
                "pip",
                "install",
                "-q",
                "--python",
                python,
                *BASE_AIRFLOW[major],
                "-r",
                str(req_file),
            ],
        ]
        for step in steps:
            if log:
                log(f"$ {' '.join(step)}")
            proc = subprocess.run(step, env=env, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                raise MwaaLocalError(
                    f"`{' '.join(step[:3])}` failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}"
                )
        stamp.write_text(key)
        return time.monotonic() - started


def prepare(
    mwaa: Any,
    s3: Any,
    name: str,
    *,
    aws_env: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    log: Any = None,
) -> LocalEnvironment:
    """Reads environment `name` through the MWAA API and lays out its Airflow home and virtualenv."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    description = mwaa.get_environment(Name=name)["Environment"]
    if description["Status"] != "AVAILABLE":
        raise MwaaLocalError(f"environment {name} is {description['Status']}, not AVAILABLE")
    bucket = description["SourceBucketArn"].split(":::", 1)[1]
    requirements = ""
    if description.get("RequirementsS3Path"):
        raw = _download(
            s3, bucket, description["RequirementsS3Path"], description.get("RequirementsS3ObjectVersion")
        )
        requirements = raw.decode()
    home = Path(tempfile.mkdtemp(prefix=f"mwaa-local-{name}-"))
    (home / "dags").mkdir()
    plugins = home / "plugins"
    plugins.mkdir()
    if description.get("PluginsS3Path"):
        blob = _download(s3, bucket, description["PluginsS3Path"], description.get("PluginsS3ObjectVersion"))
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            archive.extractall(plugins)
    dags = _download_dags(s3, bucket, description.get("DagS3Path", ""), home / "dags")
    timings["fetch_s"] = time.monotonic() - started
    timings["venv_s"] = build_venv(requirements, plugins, description["AirflowVersion"], log=log)
    venv = venv_name(description["AirflowVersion"])
    shutil.copy2(template_db(venv), home / "airflow.db")  # migrated once per venv build
    env = option_env(description.get("AirflowConfigurationOptions", {}))
    env.update(aws_env or {})
    env.update(extra_env or {})
    # MWAA's essential settings win over user options; these are their local equivalents.
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        }
    )
    if log:
        log(f"environment {name}: {len(env)} variables, DAGs {dags}, plugins {sorted(os.listdir(plugins))}")
    return LocalEnvironment(name, description, home, env, requirements, venv, timings)


def aws_env_for(endpoint: str, region: str) -> dict[str, str]:
    """What a task needs to reach the loopback AWS endpoint in place of the execution role's credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
