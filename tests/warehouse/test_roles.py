"""Least privilege, proven by logging in: the BI role reads marts and the dq view, nothing else.

Every relation of the database is enumerated from the catalog (pg_class:
tables, views, materialized views, foreign tables, sequences; a superset of
information_schema.tables) at test time, so a table added to the warehouse
later is covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql

from motcua.warehouse import access
from tests.warehouse.conftest import PERSONAL_COLUMNS, Warehouse, rows_as, snapshot

DQ_VIEW = ("dq", "latest_results_by_commune")
DQ_VIEW_COLUMNS = [
    "commune_code",
    "checkpoint",
    "suite",
    "check_name",
    "column_name",
    "window_name",
    "severity",
    "success",
    "run_date",
    "checked_at",
    "period_start",
    "period_end",
    "element_count",
    "unexpected_count",
    "affected_count",
    "observed_value",
    "threshold",
    "has_error",
]
WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@pytest.fixture(scope="module")
def wh(warehouse: Warehouse) -> Iterator[Warehouse]:
    """The migration applied; operators' logins made; applied again, as every night."""
    with warehouse.admin() as conn:
        report = access.apply_access(conn, **warehouse.roles)
    assert sorted(report.created_roles) == sorted(
        [warehouse.bi, warehouse.loader, warehouse.transformer]
    )
    warehouse.create_login("alice", warehouse.bi)
    warehouse.create_login("dbt", warehouse.transformer)
    warehouse.create_login("dbt_listed", warehouse.transformer)
    warehouse.create_login("loader_login", warehouse.loader)
    warehouse.create_login("nobody")
    with warehouse.admin() as conn:
        report = access.apply_access(
            conn, **warehouse.roles, dbt_roles=[f"{warehouse.tag}_dbt_listed"]
        )
    assert report.created_roles == [] and report.warnings == []
    yield warehouse


def login(wh: Warehouse, suffix: str) -> str:
    return f"{wh.tag}_{suffix}"


def qualified(schema: str, name: str) -> sql.Composable:
    return sql.Identifier(schema, name)


def bi_readable(wh: Warehouse) -> set[tuple[str, str]]:
    marts = {(s, n) for s, n, k in wh.relations("rpvmf") if s == "marts"}
    return marts | {DQ_VIEW}


def assert_denied(conn: psycopg.Connection, statement: sql.Composable) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


# ------------------------------------------------------------------- reading


def test_bi_reads_every_marts_relation_and_the_dq_view(wh: Warehouse) -> None:
    readable = bi_readable(wh)
    assert len(readable) >= 10  # 8 marts tables, 1 marts view, the dq view
    with wh.login(login(wh, "alice")) as conn:
        for schema, name in sorted(readable):
            rows = conn.execute(
                sql.SQL("select * from {}").format(qualified(schema, name))
            ).fetchall()
            assert rows, f"{schema}.{name} is empty for the BI role"


def test_dq_view_has_the_latest_result_per_commune_and_check_and_no_codes(
    wh: Warehouse,
) -> None:
    with wh.login(login(wh, "alice")) as conn:
        cur = conn.execute(
            "select commune_code, check_name, run_date::text, success, unexpected_count"
            " from dq.latest_results_by_commune order by commune_code nulls first"
        )
        columns = [
            c.name
            for c in conn.execute("select * from dq.latest_results_by_commune limit 0").description
            or []
        ]
        rows = cur.fetchall()
    assert columns == DQ_VIEW_COLUMNS
    assert "failing_codes" not in columns and "error" not in columns
    assert rows == [
        (None, "phone_valid", "2017-07-14", True, 0),
        ("22534", "phone_valid", "2017-07-14", True, 2),  # the 13 July failure is history
        ("22597", "phone_valid", "2017-07-14", False, 8),
    ]


def test_bi_cannot_read_any_other_relation(wh: Warehouse) -> None:
    readable = bi_readable(wh)
    others = [(s, n, k) for s, n, k in wh.relations() if (s, n) not in readable]
    assert {s for s, _, _ in others} >= {
        "raw", "staging", "intermediate", "quarantine", "ops", "dq", "public", "analytics"
    }  # fmt: skip
    alice = login(wh, "alice")
    with wh.login(alice) as conn:
        for schema, name, _ in others:
            assert_denied(conn, sql.SQL("select * from {} limit 1").format(qualified(schema, name)))
    with wh.admin() as conn:
        for schema, name, _ in others:
            granted = conn.execute(
                "select has_table_privilege(%s, format('%%I.%%I', %s::text, %s::text), 'SELECT')",
                [alice, schema, name],
            ).fetchone()
            assert granted == (False,), f"{schema}.{name}"


def test_personal_data_is_only_where_the_bi_role_cannot_read(wh: Warehouse) -> None:
    with wh.admin() as conn:
        rows = conn.execute(
            "select distinct n.nspname::text, c.relname::text from pg_attribute as a"
            " join pg_class as c on c.oid = a.attrelid"
            " join pg_namespace as n on n.oid = c.relnamespace"
            " where a.attname = any(%s) and a.attnum > 0 and not a.attisdropped"
            " and n.nspname not in ('pg_catalog', 'information_schema')",
            [sorted(PERSONAL_COLUMNS)],
        ).fetchall()
    holders = set(rows)
    # raw, staging, intermediate (table, view, materialized view), quarantine, public
    assert len(holders) >= 9
    assert not holders & bi_readable(wh), "personal data in a relation the BI role reads"


def test_statistics_do_not_leak_personal_values(wh: Warehouse) -> None:
    """pg_stats shows most common values only of columns the role may read."""
    rows = rows_as(
        wh,
        login(wh, "alice"),
        "select distinct schemaname::text from pg_stats"
        " where schemaname not in ('pg_catalog', 'information_schema')",
    )
    assert {r[0] for r in rows} == {"marts"}


def test_a_login_in_no_group_reads_nothing(wh: Warehouse) -> None:
    """PUBLIC holds no privilege on any relation, marts included."""
    with wh.login(login(wh, "nobody")) as conn:
        for schema, name, _ in wh.relations():
            assert_denied(conn, sql.SQL("select * from {} limit 1").format(qualified(schema, name)))
        assert_denied(conn, sql.SQL("create temporary table t (i int)"))


# ------------------------------------------------------------------- writing


def test_bi_cannot_write_any_relation(wh: Warehouse) -> None:
    alice = login(wh, "alice")
    relations = wh.relations()
    with wh.admin() as conn:
        for schema, name, kind in relations:
            check, privileges = (
                ("has_sequence_privilege", "UPDATE, USAGE")
                if kind == "S"
                else ("has_table_privilege", ", ".join(WRITE_PRIVILEGES))
            )
            row = conn.execute(
                sql.SQL("select {}(%s, %s, %s)").format(sql.Identifier(check)),
                [alice, f"{schema}.{name}", privileges],
            ).fetchone()
            assert row == (False,), f"{schema}.{name}"
    # a view that cannot be updated, or a materialized view, refuses before privileges
    refused = (
        errors.InsufficientPrivilege,
        errors.ObjectNotInPrerequisiteState,
        errors.WrongObjectType,
    )
    with wh.login(alice) as conn:
        for schema, name, kind in relations:
            target = qualified(schema, name)
            if kind == "S":
                assert_denied(
                    conn, sql.SQL("select nextval({})").format(sql.Literal(f"{schema}.{name}"))
                )
                continue
            column = first_column(wh, schema, name)
            statements = [
                sql.SQL("insert into {} default values").format(target),
                sql.SQL("update {} set {} = {} where false").format(target, column, column),
                sql.SQL("delete from {} where false").format(target),
            ]
            if kind in "rp":
                statements.append(sql.SQL("truncate {}").format(target))
            for statement in statements:
                with pytest.raises(refused):
                    conn.execute(statement)


def first_column(wh: Warehouse, schema: str, name: str) -> sql.Identifier:
    """A column an UPDATE may set (not an identity column: that fails before privileges)."""
    with wh.admin() as conn:
        row = conn.execute(
            "select attname::text from pg_attribute where attrelid = %s::regclass"
            " and attnum > 0 and not attisdropped and attidentity = '' and attgenerated = ''"
            " order by attnum limit 1",
            [f"{schema}.{name}"],
        ).fetchone()
    assert row is not None
    return sql.Identifier(row[0])


def test_bi_cannot_create_anywhere(wh: Warehouse) -> None:
    alice = login(wh, "alice")
    schemas = wh.schemas()
    assert {"public", "marts", "dq", "raw"} <= set(schemas)
    with wh.login(alice) as conn:
        for schema in schemas:
            for statement in (
                "create table {}.acl_probe (i int)",
                "create view {}.acl_probe as select 1 as i",
                "create function {}.acl_probe() returns int language sql as 'select 1'",
            ):
                assert_denied(conn, sql.SQL(statement).format(sql.Identifier(schema)))
        assert_denied(conn, sql.SQL("create schema acl_probe"))
        assert_denied(conn, sql.SQL("create temporary table acl_probe (i int)"))
    with wh.admin() as conn:
        for schema in schemas:
            row = conn.execute("select has_schema_privilege(%s, %s, 'CREATE')", [alice, schema])
            assert row.fetchone() == (False,), schema
        row = conn.execute(
            "select has_database_privilege(%s, current_database(), 'CREATE, TEMPORARY')", [alice]
        )
        assert row.fetchone() == (False,)


# ---------------------------------------------------- tables created later


def test_marts_tables_created_after_the_migration_are_readable(wh: Warehouse) -> None:
    """Default privileges: dbt recreates its tables on every run."""
    alice = login(wh, "alice")
    # dbt with `role: <transformer>` in its profile: the group owns what it builds
    with wh.login(login(wh, "dbt")) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(wh.transformer)))
        conn.execute("create table marts.later_by_group as select '22534'::text as commune_code")
    # a dbt login listed in dbt_roles, and the pipeline's own role
    with wh.login(login(wh, "dbt_listed")) as conn:
        conn.execute("create table marts.later_by_listed as select 1 as n")
    with wh.admin() as conn:
        conn.execute("create table marts.later_by_runner as select 1 as n")
    with wh.login(alice) as conn:
        for name in ("later_by_group", "later_by_listed", "later_by_runner"):
            assert conn.execute(f"select count(*) from marts.{name}").fetchone() == (1,)
            assert_denied(conn, sql.SQL(f"insert into marts.{name} default values"))
            assert_denied(conn, sql.SQL(f"delete from marts.{name}"))


def test_a_table_of_an_unlisted_dbt_login_is_readable_after_secure_marts(wh: Warehouse) -> None:
    alice = login(wh, "alice")
    dbt = login(wh, "dbt")
    with wh.login(dbt) as conn:
        conn.execute("create table marts.later_by_unlisted as select 1 as n")
    with wh.login(alice) as conn:
        assert_denied(conn, sql.SQL("select * from marts.later_by_unlisted"))
    with wh.login(dbt) as conn:  # the step after dbt, run by dbt's own (non-superuser) role
        report = access.secure_marts(conn, **wh.roles)
    assert report.marts["marts.later_by_unlisted"] == "bi_only"
    assert rows_as(wh, alice, "select n from marts.later_by_unlisted") == [(1,)]


def test_private_tables_created_after_the_migration_stay_private(wh: Warehouse) -> None:
    with wh.login(login(wh, "dbt")) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(wh.transformer)))
        conn.execute(
            "create table intermediate.later_contacts as"
            " select '0905 123 456'::text as phone, 'a@example.vn'::text as email"
        )
        conn.execute("create table quarantine.later_rows as select 'x'::text as address")
    with wh.admin() as conn:
        conn.execute("create table raw.later_raw as select 'Thôn Tân Mỹ'::text as address")
    for name in ("alice", "nobody"):
        with wh.login(login(wh, name)) as conn:
            for table in ("intermediate.later_contacts", "quarantine.later_rows", "raw.later_raw"):
                assert_denied(conn, sql.SQL(f"select * from {table}"))


# ---------------------------------------------------- loader and transformer


def test_loader_writes_raw_and_nothing_else(wh: Warehouse) -> None:
    with wh.login(login(wh, "loader_login")) as conn:
        batch = conn.execute(
            "insert into raw.load_batches (run_date) values ('2017-07-15') returning batch_id"
        ).fetchone()
        assert batch is not None
        conn.execute("update raw.load_batches set finished_at = now() where batch_id = %s", batch)
        conn.execute("select nextval('raw.copy_row_seq')")
        conn.execute("create temporary table api_keys (k text) on commit drop")  # API connector
        assert conn.execute("select count(*) from raw.onestop_rows").fetchone() == (2,)
        assert_denied(conn, sql.SQL("delete from raw.onestop_rows"))
        assert_denied(conn, sql.SQL("truncate raw.onestop_rows"))
        assert_denied(conn, sql.SQL("create table raw.loader_probe (i int)"))
        assert_denied(conn, sql.SQL("create schema loader_probe"))
        for table in ("quarantine.onestop_rows", "staging.admin_units", "marts.fct_dossier"):
            assert_denied(conn, sql.SQL(f"select * from {table}"))


def test_transformer_builds_every_dbt_schema_and_writes_dq(wh: Warehouse) -> None:
    with wh.login(login(wh, "dbt")) as conn:
        assert conn.execute("select count(*) from raw.onestop_rows").fetchone() == (2,)
        for schema in ("staging", "intermediate", "quarantine", "ops", "marts", "dq"):
            conn.execute(f"create table {schema}.dbt_probe (i int)")
            conn.execute(f"drop table {schema}.dbt_probe")
        conn.execute("create temporary table dbt_tmp (i int)")  # incremental models
        conn.execute(
            "insert into dq.validation_results (run_id, run_date, checked_at, checkpoint, suite,"
            " expectation, check_name, severity, success)"
            " values (gen_random_uuid(), '2017-07-15', now(), 'c', 's', 'e', 'n', 'warn', true)"
        )
        conn.execute("insert into ops.run_summaries (run_date, summary) values (now(), '{}')")
        assert_denied(conn, sql.SQL("insert into raw.api_watermarks values ('x', now())"))
        assert_denied(conn, sql.SQL("create table raw.dbt_probe (i int)"))
        assert_denied(conn, sql.SQL("create schema dbt_probe"))


# ------------------------------------------------------------- idempotency


def test_rerunning_the_migration_changes_no_privilege(wh: Warehouse) -> None:
    with wh.admin() as conn:
        # the tables the tests above created get their grants once...
        access.apply_access(conn, **wh.roles, dbt_roles=[f"{wh.tag}_dbt_listed"])
        before = snapshot(conn, wh)
        # ...and then nothing changes any more
        for _ in range(2):
            report = access.apply_access(conn, **wh.roles, dbt_roles=[f"{wh.tag}_dbt_listed"])
            assert report.created_roles == [] and report.warnings == []
            after = snapshot(conn, wh)
            for key in before:
                assert after[key] == before[key], (
                    key,
                    [r for r in after[key] if r not in before[key]],
                    [r for r in before[key] if r not in after[key]],
                )


def test_concurrent_runs_in_one_database(wh: Warehouse) -> None:
    import threading

    with wh.admin() as conn:
        before = snapshot(conn, wh)
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            with wh.admin() as conn:
                barrier.wait()
                access.apply_access(conn, **wh.roles, dbt_roles=[f"{wh.tag}_dbt_listed"])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with wh.admin() as conn:
        assert snapshot(conn, wh) == before


def test_reader_groups_are_hardened(wh: Warehouse) -> None:
    """A BI group given a powerful membership or attribute is put back."""
    with wh.admin() as conn:
        before = snapshot(conn, wh)
        conn.execute(sql.SQL("grant pg_read_all_data to {}").format(sql.Identifier(wh.bi)))
        conn.execute(sql.SQL("alter role {} createdb bypassrls").format(sql.Identifier(wh.bi)))
        assert rows_as(wh, login(wh, "alice"), "select count(*) from raw.onestop_rows") == [(2,)]
        report = access.apply_access(conn, **wh.roles, dbt_roles=[f"{wh.tag}_dbt_listed"])
        assert any("pg_read_all_data" in w for w in report.warnings)
        assert any("createdb" in w and "bypassrls" in w for w in report.warnings)
        assert snapshot(conn, wh) == before
    with wh.login(login(wh, "alice")) as conn:
        assert_denied(conn, sql.SQL("select * from raw.onestop_rows"))
