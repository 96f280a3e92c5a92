"""scripts/build_artifacts.py: byte-reproducible plugins.zip, the wheel at its root, plugins_dir included,
deterministic entry metadata, clear errors naming the bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from omlineage_devkit.terraform import REPO

SCRIPT = REPO / "scripts" / "build_artifacts.py"
WHEEL = "airflow_openmetadata_lineage-0.1.0-py3-none-any.whl"
SHIM = "openmetadata_lineage_shim.py"
# What MWAA 2.10.3's image lacks for every extra (msal, google-auth and its deps), at its constraints' pins.
WHEELHOUSE_2_10_3 = [
    "cachetools-5.5.0-py3-none-any.whl",
    "google_auth-2.35.0-py2.py3-none-any.whl",
    "msal-1.31.0-py3-none-any.whl",
    "pyasn1-0.6.1-py3-none-any.whl",
    "pyasn1_modules-0.4.0-py3-none-any.whl",
    "rsa-4.9-py3-none-any.whl",
]


# sqlglot (SQL lineage) is a core dependency no MWAA image has installed: every wheelhouse carries it, at the
# image's pin where its constraints have one (3.3.1), else the newest release.
def sqlglot_wheels(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("sqlglot-") and n.endswith("-py3-none-any.whl")]


def without_sqlglot(names: list[str]) -> list[str]:
    found = sqlglot_wheels(names)
    assert len(found) == 1, f"expected one sqlglot wheel in {names}"
    return [n for n in names if n not in found]


def build(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "-q", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugins")
    (root / "my_plugin.py").write_text("VALUE = 1\n")
    (root / "sub").mkdir()
    (root / "sub" / "helper.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "sub" / "helper.sh").chmod(0o755)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "my_plugin.cpython-311.pyc").write_bytes(b"\0")
    return root


def test_two_builds_are_byte_identical(built_artifacts: Path, tmp_path: Path) -> None:
    assert build(tmp_path).returncode == 0
    assert sha(tmp_path / "plugins.zip") == sha(built_artifacts / "plugins.zip")
    assert sha(tmp_path / WHEEL) == sha(built_artifacts / WHEEL)
    manifest = json.loads((tmp_path / "artifacts.json").read_text())
    assert manifest["wheel"] == WHEEL and manifest["plugins_zip_sha256"] == sha(tmp_path / "plugins.zip")


def test_plugins_zip_layout(built_artifacts: Path) -> None:
    with zipfile.ZipFile(built_artifacts / "plugins.zip") as zf:
        infos = zf.infolist()
        assert without_sqlglot([i.filename for i in infos]) == sorted([WHEEL, SHIM, *WHEELHOUSE_2_10_3])
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
        with zf.open(WHEEL) as fh, zipfile.ZipFile(fh) as wheel:
            names = wheel.namelist()
    assert "airflow_openmetadata_lineage/__init__.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_plugins_dir_included_sorted_without_caches(plugins_dir: Path, tmp_path: Path) -> None:
    assert build(tmp_path / "a", "--plugins-dir", str(plugins_dir)).returncode == 0
    assert build(tmp_path / "b", "--plugins-dir", str(plugins_dir)).returncode == 0
    assert sha(tmp_path / "a" / "plugins.zip") == sha(tmp_path / "b" / "plugins.zip")
    with zipfile.ZipFile(tmp_path / "a" / "plugins.zip") as zf:
        names = zf.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert without_sqlglot(names) == sorted(
        [WHEEL, SHIM, *WHEELHOUSE_2_10_3, "my_plugin.py", "sub/helper.sh"]
    )
    assert modes["sub/helper.sh"] == 0o755 and modes["my_plugin.py"] == 0o644


def test_source_change_changes_bytes(tmp_path: Path) -> None:
    python = tmp_path / "python"
    ignore = __import__("shutil").ignore_patterns("__pycache__", "*.pyc", "tests")
    __import__("shutil").copytree(REPO / "python", python, ignore=ignore)
    assert build(tmp_path / "a", "--python-dir", str(python)).returncode == 0
    init = python / "src" / "airflow_openmetadata_lineage" / "__init__.py"
    init.write_text(init.read_text() + "\n# changed\n")
    assert build(tmp_path / "b", "--python-dir", str(python)).returncode == 0
    assert sha(tmp_path / "a" / "plugins.zip") != sha(tmp_path / "b" / "plugins.zip")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--plugins-dir", "/nonexistent/plugins"), "--plugins-dir: /nonexistent/plugins is not a directory"),
        (("--python-dir", "/nonexistent/python"), "--python-dir: no pyproject.toml in /nonexistent/python"),
        (("--expect-wheel", "other-1.0-py3-none-any.whl"), "expects other-1.0-py3-none-any.whl"),
        (("--airflow-version", "2.10.5"), "--airflow-version 2.10.5: not in mwaa/versions.json (2.9.2, "),
        (("--extras", "azure,snowflake"), "--extras: the wheel has no extra ['snowflake']"),
    ],
)
def test_bad_inputs_named(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    proc = build(tmp_path, *args)
    assert proc.returncode == 1
    assert message in proc.stderr


DEAD_INDEX = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_CONFIG_FILE": "/dev/null"}


def zip_names(out: Path) -> list[str]:
    with zipfile.ZipFile(out / "plugins.zip") as zf:
        return zf.namelist()


def test_extras_the_image_has_add_nothing_to_the_wheelhouse(tmp_path: Path) -> None:
    """no-auth / openmetadata / auth0 / custom-oidc / okta (and aws: boto3 is in every image): the image has
    every dependency of those extras, so only the core dependency it lacks (sqlglot) is downloaded."""
    proc = build(tmp_path, "--extras", "aws,okta")
    assert proc.returncode == 0, proc.stderr
    assert without_sqlglot(zip_names(tmp_path)) == [WHEEL, SHIM]
    manifest = json.loads((tmp_path / "artifacts.json").read_text())
    assert manifest["extras"] == "aws,okta" and manifest["wheelhouse"].startswith("sqlglot-")


def test_wheelhouse_follows_the_image_and_its_python(tmp_path: Path) -> None:
    """azure on 3.3.1 (Python 3.12): msal at 3.3.1's pin; nothing the image has (requests, PyJWT, ...)."""
    assert build(tmp_path, "--airflow-version", "3.3.1", "--extras", "azure").returncode == 0
    assert zip_names(tmp_path) == sorted(
        [WHEEL, SHIM, "msal-1.37.0-py3-none-any.whl", "sqlglot-30.15.0-py3-none-any.whl"]
    )
    manifest = json.loads((tmp_path / "artifacts.json").read_text())
    assert (manifest["airflow_version"], manifest["python"]) == ("3.3.1", "3.12")


def test_wheelhouse_reads_the_wheels_own_requirements(tmp_path: Path) -> None:
    """A dependency another engineer adds to pyproject.toml is picked up with no change here: msal made
    unconditional joins the wheelhouse with no extra selected; sqlparse (in the image) does not."""
    import shutil

    python = tmp_path / "python"
    shutil.copytree(REPO / "python", python, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"))
    pyproject = python / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace(
            'dependencies = ["requests>=2.27", "sqlglot>=30.15"]',
            'dependencies = ["requests>=2.27", "sqlglot>=30.15", "msal>=1.20", "sqlparse"]',
        )
    )
    assert build(tmp_path / "out", "--python-dir", str(python), "--extras", "").returncode == 0
    assert without_sqlglot(zip_names(tmp_path / "out")) == sorted(
        [WHEEL, SHIM, "msal-1.31.0-py3-none-any.whl"]
    )
