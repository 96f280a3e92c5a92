#!/usr/bin/env python3
"""Build the wheel and a byte-reproducible plugins.zip for the Terraform module (``make artifacts``).

Outputs (default ``<repo>/build/``, the path the module reads by default):
  - ``airflow_openmetadata_lineage-<version>-py3-none-any.whl``
  - ``plugins.zip``: the wheel at its root (MWAA unpacks it to /usr/local/airflow/plugins/) plus the files of
    ``--plugins-dir`` (if given), entries sorted, timestamps fixed to 1980-01-01, modes 0644 (0755 if
    executable)
  - ``artifacts.json``: file names and sha256 of the above

Same inputs -> same bytes -> same S3 object content, so no MWAA update is triggered for nothing.
Stdlib only. The wheel is built by hatchling (``python -m hatchling build``) when importable, else by
``python -m pip wheel --no-deps`` (which fetches hatchling into an isolated build environment).
SOURCE_DATE_EPOCH (default 315532800, 1980-01-01) fixes the wheel's timestamps.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DIST_NAME = "airflow_openmetadata_lineage"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DEFAULT_SOURCE_DATE_EPOCH = "315532800"
SKIP_PARTS = {"__pycache__", ".git", ".DS_Store"}


class BuildError(RuntimeError):
    """A build step failed; the message says which and what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def build_wheel(python_dir: Path, workdir: Path) -> Path:
    """Build the wheel of ``python_dir`` into ``workdir`` and return its path."""
    if not (python_dir / "pyproject.toml").is_file():
        raise BuildError(f"--python-dir: no pyproject.toml in {python_dir}")
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if importlib.util.find_spec("hatchling") is not None:
        cmd = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(workdir)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(workdir), str(python_dir)]
    proc = subprocess.run(cmd, cwd=python_dir, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(
            f"wheel build failed ({' '.join(cmd[:4])} ...): {proc.stderr.strip()[-2000:]}\n"
            "Install hatchling into this interpreter (pip install hatchling) or run `make artifacts`."
        )
    wheels = sorted(workdir.glob(f"{DIST_NAME}-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one {DIST_NAME} wheel in {workdir}, found {[w.name for w in wheels]}")
    return wheels[0]


def plugin_files(plugins_dir: Path) -> list[tuple[str, Path]]:
    """(archive name, path) of every file under ``plugins_dir``, sorted, caches skipped."""
    if not plugins_dir.is_dir():
        raise BuildError(f"--plugins-dir: {plugins_dir} is not a directory")
    found = []
    for path in plugins_dir.rglob("*"):
        rel = path.relative_to(plugins_dir)
        if path.is_file() and not (SKIP_PARTS & set(rel.parts)) and path.suffix != ".pyc":
            found.append((rel.as_posix(), path))
    return sorted(found)


def write_zip(target: Path, entries: list[tuple[str, Path]]) -> None:
    """Write a deterministic zip: sorted entries, fixed time, fixed modes, fixed compression."""
    names = [name for name, _ in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BuildError(f"--plugins-dir: {dupes} clash with the wheel's file name in plugins.zip")
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # unix, so external_attr carries the mode
            mode = 0o755 if os.access(path, os.X_OK) and not name.endswith(".whl") else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(target)


def build(out: Path, python_dir: Path, plugins_dir: Path | None, expect_wheel: str | None) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-artifacts-") as tmp:
        wheel_tmp = build_wheel(python_dir, Path(tmp))
        if expect_wheel and wheel_tmp.name != expect_wheel:
            raise BuildError(
                f"built {wheel_tmp.name} but the module expects {expect_wheel}: "
                "set artifacts.wheel_filename or rebuild from the module's python/ folder"
            )
        for stale in out.glob(f"{DIST_NAME}-*.whl"):
            stale.unlink()
        wheel = out / wheel_tmp.name
        shutil.copyfile(wheel_tmp, wheel)
    entries = [(wheel.name, wheel)]
    if plugins_dir is not None:
        entries += plugin_files(plugins_dir)
    plugins_zip = out / "plugins.zip"
    write_zip(plugins_zip, entries)
    manifest = {
        "wheel": wheel.name,
        "wheel_sha256": sha256_of(wheel),
        "plugins_zip": plugins_zip.name,
        "plugins_zip_sha256": sha256_of(plugins_zip),
        "plugins_zip_entries": ", ".join(name for name, _ in sorted(entries)),
    }
    (out / "artifacts.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build", help="output folder (default: build/)")
    parser.add_argument("--python-dir", type=Path, default=REPO / "python", help="the wheel's project folder")
    parser.add_argument("--plugins-dir", type=Path, default=None, help="extra files to put into plugins.zip")
    parser.add_argument("--expect-wheel", default=None, help="fail unless the wheel has this file name")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.out.resolve(), args.python_dir.resolve(), args.plugins_dir, args.expect_wheel)
    except BuildError as exc:
        print(f"build_artifacts: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"build_artifacts: {args.out}/{manifest['wheel']} sha256={manifest['wheel_sha256']}")
        print(f"build_artifacts: {args.out}/plugins.zip sha256={manifest['plugins_zip_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
