"""model.log_url: the task-instance log links written into each task status, per Airflow major, mapped or not.

Airflow 3's UI (airflow-core/src/airflow/ui/src/router.tsx) routes a task instance as
`dags/:dagId/runs/:runId/tasks/:taskId` and a mapped one as
`dags/:dagId/runs/:runId/tasks/:taskId/mapped/:mapIndex`;
Airflow 2's grid view takes `dag_run_id`, `task_id`, `map_index` and `tab=logs` as query parameters.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_openmetadata_lineage.model import log_url

BASE = "https://airflow.example"


@pytest.mark.parametrize(
    ("map_index", "path"),
    [
        (-1, "/dags/etl/runs/manual__2024-01-01T00%3A00%3A00%2B00%3A00/tasks/load"),
        (0, "/dags/etl/runs/manual__2024-01-01T00%3A00%3A00%2B00%3A00/tasks/load/mapped/0"),
        (12, "/dags/etl/runs/manual__2024-01-01T00%3A00%3A00%2B00%3A00/tasks/load/mapped/12"),
    ],
)
def test_airflow3_task_log_urls_mapped_and_not(map_index: int, path: str) -> None:
    url = log_url(BASE, "etl", "manual__2024-01-01T00:00:00+00:00", "load", map_index, airflow_major=3)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    assert parts.path == path
    assert parse_qs(parts.query) == {"tab": ["logs"]}


def test_airflow3_quotes_every_segment() -> None:
    url = log_url(BASE, "a/b", "r?1", "group.task#x", 3, airflow_major=3)
    assert urlsplit(url).path == "/dags/a%2Fb/runs/r%3F1/tasks/group.task%23x/mapped/3"


@pytest.mark.parametrize(
    ("map_index", "extra"), [(-1, {}), (0, {"map_index": ["0"]}), (7, {"map_index": ["7"]})]
)
def test_airflow2_task_log_urls_mapped_and_not(map_index: int, extra: dict[str, list[str]]) -> None:
    url = log_url(BASE, "etl", "scheduled__x", "load", map_index, airflow_major=2)
    assert url.startswith(f"{BASE}/dags/etl/grid?")
    query = parse_qs(urlsplit(url).query)
    assert query == {"dag_run_id": ["scheduled__x"], "task_id": ["load"], "tab": ["logs"], **extra}
