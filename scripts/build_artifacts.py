#!/usr/bin/env python3
"""Build the wheel and a byte-reproducible plugins.zip for the Terraform module (``make artifacts``).

Outputs (default ``<repo>/build/``, the path the module reads by default):
  - ``airflow_openmetadata_lineage-<version>-py3-none-any.whl``
  - ``plugins.zip`` (MWAA unpacks it to /usr/local/airflow/plugins/), entries sorted, timestamps fixed to
    1980-01-01, modes 0644 (0755 if executable):
      * the wheel, and ``openmetadata_lineage_shim.py`` (the ``[lineage] backend`` target that never breaks
        Airflow when the wheel is missing: python/shim/),
      * the wheelhouse: every wheel the wheel's requirements (with ``--extras``) need that the MWAA image for
        ``--airflow-version`` lacks (its BOM, mwaa/<v>/bom_python_packages.txt), pinned by that image's
        constraints, for that image's Python (mwaa/versions.json), binary wheels only,
      * the files of ``--plugins-dir`` (if given; wheels at its root join the wheelhouse).
  - ``artifacts.json``: file names and sha256 of the above, the Airflow version and extras it was built for

The wheelhouse needs ``pip download`` (PyPI or the index of PIP_INDEX_URL, or only ``--find-links`` with
``--no-index``) when the extras need a package the image lacks (azure: msal; google: google-auth); for the
other providers it is empty and the build needs no network.

Same inputs -> same bytes -> same S3 object content, so no MWAA update is triggered for nothing.
Stdlib only. The wheel is built by hatchling (``python -m hatchling build``) when importable, else by
``python -m pip wheel --no-deps`` (which fetches hatchling into an isolated build environment).
SOURCE_DATE_EPOCH (default 315532800, 1980-01-01) fixes the wheel's timestamps.
"""

from __future__ import annotations

import argparse
import email
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DIST_NAME = "airflow_openmetadata_lineage"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DEFAULT_SOURCE_DATE_EPOCH = "315532800"
SKIP_PARTS = {"__pycache__", ".git", ".DS_Store"}
SHIM = REPO / "python" / "shim" / "openmetadata_lineage_shim.py"
MWAA_DATA = REPO / "mwaa"
# MWAA runs on x86_64 Amazon Linux 2023 (glibc 2.34): the manylinux tags a wheel of the wheelhouse may carry.
MWAA_PLATFORMS = (
    "manylinux_2_34_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)


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


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def mwaa_versions() -> dict[str, Any]:
    return json.loads((MWAA_DATA / "versions.json").read_text())


def image_packages(airflow_version: str) -> set[str]:
    """Normalized names of the packages the MWAA image for this version has installed (its BOM)."""
    lines = (MWAA_DATA / airflow_version / "bom_python_packages.txt").read_text().splitlines()
    return {normalize(line.split("==")[0]) for line in lines if line and not line.startswith("#")}


def wheel_requirements(wheel: Path, extras: set[str]) -> list[str]:
    """The wheel's Requires-Dist for these extras (and the unconditional ones), extra markers removed."""
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(zf.read(meta_name))
    selected = []
    for requirement in metadata.get_all("Requires-Dist") or []:
        spec, _, marker = requirement.partition(";")
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        if extra and extra.group(1) not in extras:
            continue
        rest = re.sub(r"""\(?\s*(and\s+)?extra\s*==\s*["'][^"']+["']\s*\)?""", "", marker).strip()
        rest = re.sub(r"^\s*and\s+|\s+and\s*$", "", rest).strip()
        selected.append(f"{spec.strip()}; {rest}" if rest else spec.strip())
    return selected


def wheel_extras(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(zf.read(meta_name))
    return sorted(set(metadata.get_all("Provides-Extra") or []) - {"all"})


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise BuildError(f"cannot read the requirement {requirement!r} of the wheel's metadata")
    return normalize(match.group(1))


def wheel_dist_name(filename: str) -> str:
    return normalize(filename.split("-")[0])


def build_wheelhouse(
    wheel: Path, airflow_version: str, extras: set[str], workdir: Path, find_links: list[Path], no_index: bool
) -> list[Path]:
    """Wheels for every requirement (transitively) of ``wheel[extras]`` that the MWAA image lacks."""
    table = mwaa_versions()["versions"]
    if airflow_version not in table:
        raise BuildError(
            f"--airflow-version {airflow_version}: not in mwaa/versions.json ({', '.join(table)})"
        )
    unknown = extras - set(wheel_extras(wheel))
    if unknown:
        raise BuildError(f"--extras: the wheel has no extra {sorted(unknown)} (it has {wheel_extras(wheel)})")
    in_image = image_packages(airflow_version)
    wanted = [r for r in wheel_requirements(wheel, extras) if requirement_name(r) not in in_image]
    if not wanted:
        return []
    python = table[airflow_version]["python"]
    data = MWAA_DATA / airflow_version
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "-d", str(workdir)]
    cmd += ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    cmd += ["--abi", f"cp{python.replace('.', '')}"]
    for platform in MWAA_PLATFORMS:
        cmd += ["--platform", platform]
    cmd += ["-c", str(data / "airflow_constraints.txt"), "-c", str(data / "mwaa_essential_constraints.txt")]
    for folder in find_links:
        cmd += ["--find-links", str(folder)]
    if no_index:
        cmd.append("--no-index")
    proc = subprocess.run([*cmd, *wanted], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(
            f"pip download of {wanted} for MWAA {airflow_version} (Python {python}) failed: "
            f"{proc.stderr.strip()[-2000:]}\n"
            "The build needs PyPI (or PIP_INDEX_URL, or --find-links <folder of wheels>) for these packages."
        )
    found = sorted(workdir.glob("*.whl"))
    return [w for w in found if wheel_dist_name(w.name) not in in_image]


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


def build(
    out: Path,
    python_dir: Path,
    plugins_dir: Path | None,
    expect_wheel: str | None,
    airflow_version: str | None = None,
    extras: set[str] | None = None,
    find_links: list[Path] | None = None,
    no_index: bool = False,
) -> dict[str, Any]:
    """Build into ``out``. ``extras`` None: every extra of the wheel (one plugins.zip for every provider)."""
    out.mkdir(parents=True, exist_ok=True)
    airflow_version = airflow_version or mwaa_versions()["default"]
    with tempfile.TemporaryDirectory(prefix="build-artifacts-") as tmp:
        wheel_tmp = build_wheel(python_dir, Path(tmp))
        if expect_wheel and wheel_tmp.name != expect_wheel:
            raise BuildError(
                f"built {wheel_tmp.name} but the module expects {expect_wheel}: "
                "set artifacts.wheel_filename or rebuild from the module's python/ folder"
            )
        chosen = set(wheel_extras(wheel_tmp)) if extras is None else extras
        house_dir = Path(tmp) / "wheelhouse"
        house_dir.mkdir()
        house_tmp = build_wheelhouse(
            wheel_tmp, airflow_version, chosen, house_dir, find_links or [], no_index
        )
        for stale in out.glob("*.whl"):
            stale.unlink()
        wheel = out / wheel_tmp.name
        shutil.copyfile(wheel_tmp, wheel)
        house = []
        for found in house_tmp:
            shutil.copyfile(found, out / found.name)
            house.append(out / found.name)
    entries = [(wheel.name, wheel), (SHIM.name, SHIM)] + [(w.name, w) for w in house]
    if plugins_dir is not None:
        entries += plugin_files(plugins_dir)
    plugins_zip = out / "plugins.zip"
    write_zip(plugins_zip, entries)
    manifest = {
        "airflow_version": airflow_version,
        "python": mwaa_versions()["versions"][airflow_version]["python"],
        "extras": ",".join(sorted(chosen)),
        "wheel": wheel.name,
        "wheel_sha256": sha256_of(wheel),
        "wheelhouse": ", ".join(w.name for w in house),
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
    parser.add_argument(
        "--airflow-version",
        default=None,
        help="MWAA Airflow version (mwaa/versions.json; default: its default)",
    )
    parser.add_argument(
        "--extras",
        default=None,
        help="comma-separated wheel extras the wheelhouse serves ('' for none; default: every extra)",
    )
    parser.add_argument(
        "--find-links", type=Path, action="append", default=[], help="a folder of wheels for pip download"
    )
    parser.add_argument("--no-index", action="store_true", help="pip download from --find-links only")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    extras = None if args.extras is None else {e.strip() for e in args.extras.split(",") if e.strip()}
    try:
        manifest = build(
            args.out.resolve(),
            args.python_dir.resolve(),
            args.plugins_dir,
            args.expect_wheel,
            airflow_version=args.airflow_version,
            extras=extras,
            find_links=args.find_links,
            no_index=args.no_index,
        )
    except BuildError as exc:
        print(f"build_artifacts: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"build_artifacts: {args.out}/{manifest['wheel']} sha256={manifest['wheel_sha256']}")
        print(f"build_artifacts: {args.out}/plugins.zip sha256={manifest['plugins_zip_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
