#!/usr/bin/env python3
"""Refresh mwaa/: each supported MWAA image's constraints and installed-package list, from a local clone of
aws/amazon-mwaa-docker-images (https://github.com/aws/amazon-mwaa-docker-images).

Usage: scripts/refresh_mwaa_data.py <path to a clone or bare git dir of aws/amazon-mwaa-docker-images>

For every version in mwaa/versions.json it writes mwaa/<version>/:
  - airflow_constraints.txt          = images/airflow/<v>/etc/airflow_constraints.txt (verbatim)
  - mwaa_essential_constraints.txt   = images/airflow/<v>/etc/mwaa_essential_constraints.txt (verbatim)
  - bom_python_packages.txt          = `name==version` of every dist-info listed in
                                       images/airflow/<v>/BillOfMaterials/<v>/Python-Packages-BOM.txt
                                       (the licence texts of the BOM are left out)
and checks the image's Python (ENV PYTHON_VERSION in its Dockerfiles) against versions.json.
The commit read is recorded in versions.json ("source.commit"). Stdlib + git only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "mwaa"
DIST_INFO = re.compile(r"site-packages/([^/\s]+?)-([^-/\s]+)\.dist-info/")
SITE_PACKAGES = "/usr/local/airflow/.local/lib/python"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
VERSION = re.compile(r"\d[0-9A-Za-z.+!-]*")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def bom_packages(text: str) -> list[str]:
    """Every package of the BOM: its `name / version / licence / url / <site-packages file>` block headers,
    plus any `<name>-<version>.dist-info` path (a few packages appear only that way)."""
    found = {normalize(m.group(1)): m.group(2) for m in DIST_INFO.finditer(text)}
    lines = text.splitlines()
    for i in range(len(lines) - 4):
        if (
            lines[i + 4].startswith(SITE_PACKAGES)
            and NAME.fullmatch(lines[i])
            and VERSION.fullmatch(lines[i + 1])
        ):
            found[normalize(lines[i])] = lines[i + 1]
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    clone = Path(argv[0])
    table_path = DATA / "versions.json"
    table = json.loads(table_path.read_text())
    commit = git(clone, "rev-parse", "HEAD").strip()
    for version, row in table["versions"].items():
        base = f"images/airflow/{version}"
        out = DATA / version
        out.mkdir(parents=True, exist_ok=True)
        for name in ("airflow_constraints.txt", "mwaa_essential_constraints.txt"):
            (out / name).write_text(git(clone, "show", f"HEAD:{base}/etc/{name}"))
        bom = git(clone, "show", f"HEAD:{base}/BillOfMaterials/{version}/Python-Packages-BOM.txt")
        header = [
            f"# Installed Python packages of the MWAA {version} image, from",
            f"# aws/amazon-mwaa-docker-images@{commit}:",
            f"# {base}/BillOfMaterials/{version}/Python-Packages-BOM.txt",
            "# (package names and versions only). Refresh: scripts/refresh_mwaa_data.py.",
        ]
        (out / "bom_python_packages.txt").write_text("\n".join(header + bom_packages(bom)) + "\n")
        pythons = set(
            re.findall(
                r"PYTHON_VERSION=(\d+\.\d+)", git(clone, "grep", "-h", "PYTHON_VERSION=", "HEAD", "--", base)
            )
        )
        if pythons != {row["python"]}:
            print(
                f"refresh: {version}: image Python {sorted(pythons)} but versions.json says {row['python']}",
                file=sys.stderr,
            )
            return 1
        print(f"refresh: {version} (Python {row['python']}): {len(bom_packages(bom))} packages")
    table["source"]["commit"] = commit
    table_path.write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
