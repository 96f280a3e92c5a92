"""MWAA images as they install: the support table, plugins.zip per version, pip with no index, stand-ins.

- `.venvs/mwaa-<v>` (scripts/bootstrap.sh mwaa) stands for the image of MWAA <v>: its BOM's packages on its
  Python, under its constraints, and nothing of ours.
- `offline_pip` runs pip the way an environment without internet does: no pip config, a dead index
  (connection refused), `--find-links` only where requirements.txt says so.
- `overlay` is a venv on top of a stand-in (its site-packages through a .pth file) that receives what
  requirements.txt installs, so the stand-in is never modified (MWAA installs with `pip --user` alike).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import REPO, VENVS, venv_python

MWAA_DATA = REPO / "mwaa"
TABLE: dict[str, Any] = json.loads((MWAA_DATA / "versions.json").read_text())
VERSIONS: list[str] = list(TABLE["versions"])
PLUGINS_ON_MWAA = "/usr/local/airflow/plugins"
DEAD_INDEX = "http://127.0.0.1:9/simple"  # port 9 (discard): nothing listens, connection refused at once


def python_of(version: str) -> str:
    return TABLE["versions"][version]["python"]


def constraints(version: str) -> list[str]:
    """The `-c` arguments MWAA adds when requirements.txt has no -c line (and its essential pins)."""
    data = MWAA_DATA / version
    return ["-c", str(data / "airflow_constraints.txt"), "-c", str(data / "mwaa_essential_constraints.txt")]


def build_plugins(version: str, out: Path, extras: str | None = None) -> dict[str, Any]:
    """scripts/build_artifacts.py for this MWAA version into `out`; returns artifacts.json."""
    args = [sys.executable, str(REPO / "scripts" / "build_artifacts.py"), "--out", str(out), "-q"]
    args += ["--airflow-version", version]
    if extras is not None:
        args.append(f"--extras={extras}")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"build_artifacts.py for {version} failed:\n{proc.stderr[-3000:]}")
    return json.loads((out / "artifacts.json").read_text())


def unpack(plugins_zip: Path, dest: Path) -> Path:
    """What MWAA does with plugins.zip: unpack it into the plugins folder."""
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(plugins_zip) as zf:
        zf.extractall(dest)
    return dest


def local_requirements(requirements_txt: str, plugins_dir: Path, dest: Path) -> Path:
    """requirements.txt with /usr/local/airflow/plugins pointing at `plugins_dir` (the only change)."""
    dest.write_text(requirements_txt.replace(PLUGINS_ON_MWAA, str(plugins_dir)))
    return dest


@dataclass
class PipResult:
    rc: int
    output: str
    seconds: float
    installed: list[str] = field(default_factory=list)  # normalized names pip installed (or would)
    sources: dict[str, str] = field(default_factory=dict)  # name -> where it came from (url)


def offline_pip(python: Path, args: list[str], report: Path, timeout: float = 600) -> PipResult:
    """`pip install <args>` for `python` with no pip config and a dead index; `--report` parsed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    )
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--index-url", DEAD_INDEX]
    # Speed only: a dead index fails at once; no retries (MWAA's pip retries, which changes nothing here).
    cmd += ["--retries", "0", "--timeout", "2", "--report", str(report), *args]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    result = PipResult(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)
    if proc.returncode == 0 and report.exists():
        for item in json.loads(report.read_text()).get("install", []):
            name = item["metadata"]["name"].lower().replace("_", "-")
            result.installed.append(name)
            result.sources[name] = item.get("download_info", {}).get("url", "")
    return result


def image_python(version: str) -> Path:
    return venv_python(f"mwaa-{version}")


def overlay(version: str, name: str) -> str:
    """A fresh venv `.venvs/<name>` layered on `.venvs/mwaa-<version>`; returns its venv name (for run_dag).

    Its own site-packages come first, then the stand-in's (a .pth file), so pip sees the image's packages as
    installed and writes only what requirements.txt adds. `bin/airflow` runs Airflow on the overlay's python.
    """
    base = image_python(version)
    target = VENVS / name
    shutil.rmtree(target, ignore_errors=True)
    base_prefix = subprocess.run(
        [str(base), "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    real_python = Path(base_prefix) / "bin" / f"python{python_of(version)}"
    subprocess.run([str(real_python), "-m", "venv", "--without-pip", str(target)], check=True)
    purelib = subprocess.run(
        [str(base), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    own = target / "lib" / f"python{python_of(version)}" / "site-packages"
    (own / "_mwaa_image.pth").write_text(purelib + "\n")
    airflow = target / "bin" / "airflow"
    airflow.write_text(
        f"#!{target / 'bin' / 'python'}\nimport sys\nfrom airflow.__main__ import main\nsys.exit(main())\n"
    )
    airflow.chmod(0o755)
    return name


def install(version: str, plugins: dict[str, Any], requirements: str, tmp: Path, tag: str = "lineage") -> str:
    """An overlay on the image stand-in with requirements.txt installed offline from plugins.zip (`plugins`:
    version -> {"dir": the unpacked plugins.zip, ...}, tests/mwaa's `plugins` fixture)."""
    venv = overlay(version, f"mwaa-{version}-with-{tag}")
    req = local_requirements(requirements, plugins[version]["dir"], tmp / f"requirements-{version}.txt")
    result = offline_pip(
        VENVS / venv / "bin" / "python",
        ["-q", "-r", str(req), *constraints(version)],
        tmp / f"r-{version}.json",
    )
    assert result.rc == 0, f"{version}: offline install failed:\n{result.output[-3000:]}"
    return venv
