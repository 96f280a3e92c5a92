"""checkov on the module and its examples (from .venvs/checkov): no failed check, no parsing error, and every
skip carries its reason inline (#checkov:skip=<id>:<reason>)."""

from __future__ import annotations

import json
import subprocess

import pytest

from omlineage_devkit.terraform import REPO

CHECKOV = REPO / ".venvs" / "checkov" / "bin" / "checkov"


def test_checkov_module_and_examples_clean() -> None:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `scripts/bootstrap.sh checkov`", pytrace=False)
    cmd = [
        str(CHECKOV),
        "-d",
        str(REPO),
        "--framework",
        "terraform",
        "--skip-download",
        "--compact",
        "-o",
        "json",
    ]
    # The examples too: they instantiate the optional VPC and endpoints, and hold a KMS key policy.
    for path in (".venvs", "tests", "python", "bench", "build"):
        cmd += ["--skip-path", path]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], f"checkov failures: {failed}"
    assert summary["parsing_errors"] == 0, report["results"].get("parsing_errors")
    assert summary["passed"] >= 50 and summary["resource_count"] >= 25
    for check in report["results"]["skipped_checks"]:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} skipped without a reason"
