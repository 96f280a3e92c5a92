"""auto_lineage: a task without inlets/outlets -> table FQNs and column lineage, from OpenLineage facets or
the SQL it ran. Operators here are stand-ins carrying the providers' attribute names (the real ones run
in tests/sql_lineage against a real PostgreSQL); one test uses the real SQLExecuteQueryOperator."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

import pytest

from airflow_openmetadata_lineage import auto_lineage
from airflow_openmetadata_lineage.auto_lineage import ConnInfo, extract
from airflow_openmetadata_lineage.fqn_map import parse_service_map
from airflow_openmetadata_lineage.model import ColumnLineage

CONNS = {
    "warehouse_pg": ConnInfo("warehouse_pg", "postgres", "db.internal", 5432, "analytics"),
    "local_sqlite": ConnInfo("local_sqlite", "sqlite", "/tmp/x.db"),
    "shop_mysql": ConnInfo("shop_mysql", "mysql", "mysql.internal", 3306, "shop"),
    "dw": ConnInfo("dw", "redshift", "dw.eu-west-1", 5439, "dev"),
}
MAP = parse_service_map(
    '{"warehouse_pg": "pg_prod", "local_sqlite": "lake.main.main", "shop_mysql": "mysql_prod", '
    '"dw": "redshift", "aws_default": "athena_svc", "s3://landing": "s3_lake"}'
)


def conns(conn_id: str) -> Optional[ConnInfo]:
    return CONNS.get(conn_id)


class SQLExecuteQueryOperator:
    def __init__(self, sql: Any, conn_id: str, **attrs: Any) -> None:
        self.sql, self.conn_id = sql, conn_id
        self.__dict__.update(attrs)


class PostgresOperator(SQLExecuteQueryOperator):  # a subclass, as the providers define them
    pass


def test_postgres_ctas_with_join_and_column_lineage() -> None:
    task = PostgresOperator(
        "CREATE TABLE mart.order_facts AS SELECT o.id, c.name AS customer FROM raw.orders o "
        "JOIN public.customers c ON c.id = o.customer_id",
        "warehouse_pg",
    )
    found = extract(task, service_map=MAP, get_connection=conns, use_openlineage=False)
    assert found.source == "sql"
    # the connection's database completes schema.table; Postgres' default schema is public
    assert found.inlets == ("pg_prod.analytics.raw.orders", "pg_prod.analytics.public.customers")
    assert found.outlets == ("pg_prod.analytics.mart.order_facts",)
    assert set(found.column_lineage) == {
        ColumnLineage("pg_prod.analytics.raw.orders", "pg_prod.analytics.mart.order_facts", "id", ("id",)),
        ColumnLineage(
            "pg_prod.analytics.public.customers", "pg_prod.analytics.mart.order_facts", "customer", ("name",)
        ),
    }
    assert not found.unmapped


def test_sqlite_one_part_names_use_the_map_defaults() -> None:
    task = SQLExecuteQueryOperator(["INSERT INTO report SELECT id, total FROM orders"], "local_sqlite")
    found = extract(task, service_map=MAP, get_connection=conns, use_openlineage=False)
    assert (found.inlets, found.outlets) == (("lake.main.main.orders",), ("lake.main.main.report",))


def test_mysql_database_is_the_openmetadata_schema() -> None:
    task = SQLExecuteQueryOperator("INSERT INTO daily SELECT d FROM other.src", "shop_mysql")
    found = extract(task, service_map=MAP, get_connection=conns, use_openlineage=False)
    assert (found.inlets, found.outlets) == (
        ("mysql_prod.default.other.src",),
        ("mysql_prod.default.shop.daily",),
    )


def test_unmapped_connection_is_reported_with_the_key_to_add() -> None:
    task = SQLExecuteQueryOperator("CREATE TABLE a.b AS SELECT x FROM a.c", "warehouse_pg")
    found = extract(task, service_map={}, get_connection=conns, use_openlineage=False)
    assert (found.inlets, found.outlets) == ((), ())
    assert {u.key for u in found.unmapped} == {"warehouse_pg"} and len(found.unmapped) == 2
    assert 'add "warehouse_pg"' in found.summary()["lineage_notes"][0]


def test_partial_name_without_defaults_is_not_guessed() -> None:
    task = SQLExecuteQueryOperator("CREATE TABLE b AS SELECT x FROM c", "nowhere")
    found = extract(
        task, service_map=parse_service_map('{"nowhere": "svc"}'), get_connection=conns, use_openlineage=False
    )
    assert found.inlets == () and all("default database" in u.missing for u in found.unmapped)
    assert any("connection 'nowhere' not found" in n for n in found.notes)


def test_select_only_and_non_sql_tasks_have_no_lineage() -> None:
    found = extract(
        SQLExecuteQueryOperator("SELECT 1", "warehouse_pg"),
        service_map=MAP,
        get_connection=conns,
        use_openlineage=False,
    )
    assert found.source == "none" and found.inlets == found.outlets == ()
    assert extract(SimpleNamespace(task_id="bash"), service_map=MAP, use_openlineage=False).source == "none"


class AthenaOperator:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update({"aws_conn_id": "aws_default", "catalog": "AwsDataCatalog", **attrs})


def test_athena_uses_catalog_and_database_defaults() -> None:
    task = AthenaOperator(
        query="INSERT INTO curated.s SELECT id FROM events", database="raw", region_name="eu-west-1"
    )
    found = extract(task, service_map=MAP, get_connection=conns, use_openlineage=False)
    assert found.inlets == ("athena_svc.awsdatacatalog.raw.events",)
    assert found.outlets == ("athena_svc.awsdatacatalog.curated.s",)


class S3ToRedshiftOperator:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


class RedshiftToS3Operator:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def test_s3_to_redshift_maps_bucket_to_a_container_and_table() -> None:
    task = S3ToRedshiftOperator(
        schema="Sales", table="events", s3_bucket="landing", s3_key="ev/2024", redshift_conn_id="dw"
    )
    found = extract(task, service_map=MAP, get_connection=conns, use_openlineage=False)
    assert found.outlets == ("redshift.dev.sales.events",)
    assert found.containers_in == ("s3_lake.landing",)
    assert found.source == "sql"


def test_redshift_to_s3_unmapped_bucket_is_skipped_with_a_note() -> None:
    task = RedshiftToS3Operator(
        schema="sales",
        table="events",
        select_query="SELECT * FROM sales.orders",
        s3_bucket="exports",
        s3_key="x/",
        redshift_conn_id="dw",
    )
    found = extract(task, service_map=MAP, get_connection=conns, use_openlineage=False)
    assert found.inlets == ("redshift.dev.sales.orders",) and found.containers_out == ()
    assert any("s3://exports/x/: skipped" in n for n in found.notes)


# -- OpenLineage: objects shaped like openlineage.client's Dataset / ColumnLineageDatasetFacet ------------


def ol_dataset(namespace: str, name: str, **facets: Any) -> SimpleNamespace:
    return SimpleNamespace(namespace=namespace, name=name, facets=facets)


class OLOperator(SQLExecuteQueryOperator):
    def __init__(self, lineage: Any, fail: bool = False) -> None:
        super().__init__("INSERT INTO raw.never SELECT 1 FROM raw.parsed", "warehouse_pg")
        self.lineage, self.fail = lineage, fail

    def get_openlineage_facets_on_complete(self, ti: Any) -> Any:
        if self.fail:
            raise RuntimeError("boom")
        return self.lineage


def test_openlineage_facets_win_over_the_sql_and_carry_columns() -> None:
    ns = "postgres://db.internal:5432"
    column_facet = SimpleNamespace(
        fields={
            "total": SimpleNamespace(
                inputFields=[SimpleNamespace(namespace=ns, name="analytics.raw.orders", field="amount")],
                transformationDescription="SUM",
            )
        }
    )
    lineage = SimpleNamespace(
        inputs=[ol_dataset(ns, "analytics.raw.orders")],
        outputs=[ol_dataset(ns, "analytics.mart.totals", columnLineage=column_facet)],
    )
    service_map = parse_service_map('{"postgres://db.internal": "pg_ol", "warehouse_pg": "pg_prod"}')
    found = extract(
        OLOperator(lineage), ti=object(), service_map=service_map, get_connection=conns, use_openlineage=True
    )
    assert found.source == "openlineage"
    assert (found.inlets, found.outlets) == (
        ("pg_ol.analytics.raw.orders",),
        ("pg_ol.analytics.mart.totals",),
    )
    assert found.column_lineage == (
        ColumnLineage(
            "pg_ol.analytics.raw.orders", "pg_ol.analytics.mart.totals", "total", ("amount",), "SUM"
        ),
    )


def test_openlineage_failure_or_empty_falls_back_to_the_sql() -> None:
    for task in (OLOperator(None, fail=True), OLOperator(SimpleNamespace(inputs=[], outputs=[]))):
        found = extract(task, ti=object(), service_map=MAP, get_connection=conns, use_openlineage=True)
        assert found.source == "sql" and found.inlets == ("pg_prod.analytics.raw.parsed",)


def test_never_raises_on_odd_operators() -> None:
    class Odd(SQLExecuteQueryOperator):
        @property
        def sql(self) -> str:  # type: ignore[override]
            raise RuntimeError("template not rendered")

        @sql.setter
        def sql(self, value: str) -> None:
            pass

    found = extract(Odd("x", "warehouse_pg"), service_map=MAP, get_connection=conns, use_openlineage=False)
    assert found.source == "none" and found.notes


def test_real_sql_execute_query_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real common-sql operator's attributes, and the connection read through Airflow (env var)."""
    common_sql = pytest.importorskip("airflow.providers.common.sql.operators.sql")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_PG", "postgres://u:p@db.internal:5432/analytics")
    task = common_sql.SQLExecuteQueryOperator(
        task_id="t", conn_id="warehouse_pg", sql="INSERT INTO mart.x (a) SELECT b FROM raw.y"
    )
    found = extract(task, service_map=MAP, use_openlineage=False)
    assert (found.inlets, found.outlets) == (("pg_prod.analytics.raw.y",), ("pg_prod.analytics.mart.x",))
    assert found.column_lineage == (
        ColumnLineage("pg_prod.analytics.raw.y", "pg_prod.analytics.mart.x", "a", ("b",)),
    )
    assert auto_lineage.airflow_connection("warehouse_pg") == ConnInfo(
        "warehouse_pg", "postgres", "db.internal", 5432, "analytics", {}
    )
