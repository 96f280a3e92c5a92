"""One small DAG per fault of the reliability matrix (tests/reliability/test_fault_matrix.py), plus one for
the recovery run. Each has its own tables, so the edges and statuses OpenMetadata holds afterwards can be
traced back to the run that met the fault: `rel_<fault>`: extract (a -> b) >> load (b -> c) in
`mysql.rel.<fault>`.
"""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

FAULTS = (
    "unauthorized_once",
    "server_down",
    "connection_reset",
    "http_503",
    "too_many_requests",
    "slow",
    "malformed_json",
    "token_endpoint_down",
    "dns_failure",
    "recovery",
)


def tables(fault: str) -> tuple[str, str, str]:
    return tuple(f"mysql.rel.{fault}.{t}" for t in "abc")  # type: ignore[return-value]


for fault in FAULTS:
    a, b, c = tables(fault)
    with DAG(f"rel_{fault}", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
        extract = PythonOperator(
            task_id="extract",
            python_callable=lambda: "ok",
            inlets=[{"tables": [a]}],
            outlets=[{"tables": [b]}],
        )
        load = PythonOperator(
            task_id="load",
            python_callable=lambda: "ok",
            inlets=[{"tables": [b]}],
            outlets=[{"tables": [c]}],
        )
        extract >> load
    globals()[f"rel_{fault}"] = dag
