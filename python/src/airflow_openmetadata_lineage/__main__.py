"""`python -m airflow_openmetadata_lineage check`: the self-check; exit code 0 when all works, else 1."""

from __future__ import annotations

import argparse
import sys
from typing import Optional


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_openmetadata_lineage")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "check", help="read [lineage], get a token, call GET /v1/system/version, report what is wrong"
    )
    parser.parse_args(argv)

    from .check import run_check

    result = run_check(log_result=False)
    print(result.text())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
