"""cache.py: the worker-wide file cache, as two task processes on one worker see it (two DiskCache objects
on one directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_openmetadata_lineage import cache
from airflow_openmetadata_lineage.cache import DiskCache


def test_a_miss_rereads_the_file_only_after_another_writer_replaced_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real_load = json.load

    def counting_load(f: Any) -> Any:
        reads.append(1)
        return real_load(f)

    monkeypatch.setattr(cache.json, "load", counting_load)
    mine, other = DiskCache(str(tmp_path)), DiskCache(str(tmp_path))
    other.set("service", {"id": "s1"}, ttl=60)
    assert mine.get("pipeline") is None and len(reads) == 1  # the first miss parses the file
    for _ in range(20):
        assert mine.get("pipeline") is None
    assert len(reads) == 1, "misses on an unchanged file must not lock, read and parse it again"
    assert mine.get("service") == {"id": "s1"} and len(reads) == 1  # from the parsed file, then memory
    other.set("pipeline", {"id": "p1"}, ttl=60)  # another process fills it: the file is replaced
    assert mine.get("pipeline") == {"id": "p1"}
    assert len(reads) == 3  # other's set read it once, and mine again after the replace


def test_an_expired_entry_in_the_parsed_file_is_a_miss(tmp_path: Path) -> None:
    mine, other = DiskCache(str(tmp_path)), DiskCache(str(tmp_path))
    other.set("table", {"id": "t1"}, ttl=-1)
    assert mine.get("table") is None
    other.set("table", {"id": "t2"}, ttl=60)
    assert mine.get("table") == {"id": "t2"}
