"""`python -m airflow_openmetadata_lineage check`: the self-check; exit code 0 when all works, else 1.
`python -m airflow_openmetadata_lineage coverage <dags folder>`: where each task's lineage comes from
(coverage.py); exit 0 when every task has lineage, 1 when some have none, 2 on a usage or load error."""

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
    cov = sub.add_parser("coverage", help="per task: where its lineage comes from, the FQNs, server check")
    cov.add_argument("dags_folder", help="a DAGs folder (or one DAG file)")
    cov.add_argument("--service-map", help="JSON like [lineage] service_map (default: that option)")
    cov.add_argument("--json", action="store_true", help="machine-readable output")
    cov.add_argument("--no-server", action="store_true", help="do not look the tables up on the server")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2 already; --help exits 0
        return int(exc.code or 0)

    if args.command == "coverage":
        from .coverage import main as coverage_main

        return coverage_main(args.dags_folder, args.service_map, args.json, not args.no_server)

    from .check import run_check

    result = run_check(log_result=False)
    print(result.text())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
