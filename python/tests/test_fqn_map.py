"""fqn_map: the service_map option and the rules that turn partial dataset names into OpenMetadata FQNs."""

from __future__ import annotations

import pytest

from airflow_openmetadata_lineage.fqn_map import (
    Defaults,
    ServiceTarget,
    container_fqn,
    lookup,
    parse_service_map,
    split_fqn,
    table_fqn,
)

MAP = parse_service_map(
    '{"warehouse_pg": "pg_prod", "postgres://db.internal": "pg_any", "postgres://db.internal:5432": '
    '"pg_prod.analytics", "local_sqlite": "lake.main.main", "s3://landing": "s3_lake", "\\"a.b\\"": "x"}'
)


def test_values_split_into_service_database_schema() -> None:
    assert MAP["warehouse_pg"] == ServiceTarget("pg_prod")
    assert MAP["local_sqlite"] == ServiceTarget("lake", "main", "main")
    assert split_fqn('svc."db.with.dots".public') == ["svc", "db.with.dots", "public"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ('["a"]', "must be a JSON object"),
        ('{"pg": "a.b.c.d"}', "service.database.schema"),
        ('{"pg": "svc..public"}', "service.database.schema"),
        ('{"pg": 3}', "service.database.schema"),
        ('{" ": "svc"}', "empty key"),
    ],
)
def test_bad_maps_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match="service_map") as info:
        parse_service_map(text)
    assert says in str(info.value)


def test_blank_is_empty() -> None:
    assert parse_service_map(None) == {} and parse_service_map("  ") == {}


def test_connection_id_wins_then_longest_namespace_prefix_at_a_boundary() -> None:
    assert lookup(MAP, "warehouse_pg", "postgres://db.internal:5432") == ("warehouse_pg", MAP["warehouse_pg"])
    assert lookup(MAP, "other", "postgres://db.internal:5432")[0] == "postgres://db.internal:5432"
    assert lookup(MAP, None, "postgres://db.internal:6543")[0] == "postgres://db.internal"
    assert lookup(MAP, None, "postgres://db.internal2:5432") is None  # not a boundary
    assert lookup(MAP, "nope", None) is None


def test_partial_names_completed_map_value_first_then_connection() -> None:
    sqlite = MAP["local_sqlite"]
    assert table_fqn(sqlite, ("orders",)) == ("lake.main.main.orders", None)
    pg = MAP["warehouse_pg"]
    assert table_fqn(pg, ("analytics", "public", "orders")) == ("pg_prod.analytics.public.orders", None)
    assert table_fqn(pg, ("public", "orders"), Defaults("analytics")) == (
        "pg_prod.analytics.public.orders",
        None,
    )
    fqn, missing = table_fqn(pg, ("public", "orders"))
    assert fqn is None and "service.database" in str(missing)
    fqn, missing = table_fqn(pg, ("orders",), Defaults("analytics"))
    assert fqn is None and "schema" in str(missing)
    assert table_fqn(ServiceTarget("s", "d"), ("x", "orders"), Defaults("other"))[0] == "s.d.x.orders"
    assert table_fqn(pg, ("db", "my.schema", "t"))[0] == 'pg_prod.db."my.schema".t'


def test_s3_maps_to_a_bucket_container_only_when_mapped() -> None:
    assert container_fqn(MAP, "s3://landing/events/2024/x.json") == ("s3_lake.landing", "s3://landing")
    assert container_fqn(MAP, "s3://elsewhere/x") == (None, None)


def test_config_reads_and_validates_the_option() -> None:
    from airflow_openmetadata_lineage.config import ConfigError, load_config, mapping_getter

    base = {"airflow_service_name": "MWAA", "openmetadata_api_endpoint": "http://om:8585/api"}
    config = load_config(mapping_getter({**base, "service_map": '{"pg": "svc.db.public", "p%%ct": "s"}'}))
    assert config.service_map == {"pg": ServiceTarget("svc", "db", "public"), "p%ct": ServiceTarget("s")}
    assert load_config(mapping_getter(base)).service_map == {}
    with pytest.raises(ConfigError) as info:
        load_config(mapping_getter({**base, "service_map": '{"pg": "a.b.c.d"}'}))
    assert info.value.key == "service_map" and "[lineage] service_map" in info.value.message
