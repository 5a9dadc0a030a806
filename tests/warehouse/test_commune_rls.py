"""Commune row-level security: a commune's account sees only its own commune's rows.

District and provincial staff (the BI group) see every row; a commune account
(the commune group, mapped in access.commune_accounts) sees its communes' rows
of the commune-grain marts, the unit dimension and the district aggregates in
full, and nothing else. dbt's rebuilds fail closed until re-secured.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql

from motcua.warehouse import access
from tests.warehouse.conftest import COMMUNES, Warehouse, rows_as, snapshot

RLS_MARTS = (
    "commune_contact_completeness",
    "commune_lateness",
    "commune_satisfaction",
    "dossiers_due_soon",
    "fct_dossier",
)
SHARED_MARTS = ("dim_commune", "district_lateness", "district_satisfaction")
NINH_TAY, NINH_HUNG, NINH_HIEP = COMMUNES

# What the proposed dbt post-hook macro (`secure_mart()`) renders to for a
# model: `{{ this }}` is "<database>"."marts"."<model>".
POST_HOOK = """
do $secure$
begin
    if to_regprocedure('access.secure_mart(regclass)') is not null then
        perform access.secure_mart('{this}'::regclass);
    end if;
end
$secure$
"""


@pytest.fixture(scope="module")
def wh(warehouse: Warehouse) -> Iterator[Warehouse]:
    with warehouse.admin() as conn:
        report = access.apply_access(conn, **warehouse.roles, commune_rls=True)
    assert report.commune_rls
    assert report.marts == {
        **{f"marts.{t}": "commune_rls" for t in RLS_MARTS},
        **{f"marts.{t}": "shared" for t in SHARED_MARTS},
        "marts.commune_lateness_half_years": "bi_only",
    }
    w = warehouse
    w.create_login("ninhtay", w.commune)
    w.create_login("two_communes", w.commune)
    w.create_login("unmapped", w.commune)
    w.create_login("both", w.commune, w.bi)  # a mistake the restrictive policy still catches
    w.create_login("district", w.bi)
    w.create_login("dbt", w.transformer)
    with w.admin() as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into access.commune_accounts (role_name, commune_code) values (%s, %s)",
            [
                (f"{w.tag}_ninhtay", NINH_TAY),
                (f"{w.tag}_two_communes", NINH_TAY),
                (f"{w.tag}_two_communes", NINH_HUNG),
                (f"{w.tag}_both", NINH_HUNG),
            ],
        )
    yield w


def user(wh: Warehouse, suffix: str) -> str:
    return f"{wh.tag}_{suffix}"


def communes_seen(wh: Warehouse, suffix: str, table: str) -> set[str]:
    rows = rows_as(wh, user(wh, suffix), f"select commune_code from marts.{table}")
    return {r[0] for r in rows}


def assert_denied(wh: Warehouse, suffix: str, query: str) -> None:
    with wh.login(user(wh, suffix)) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(query)


@pytest.mark.parametrize("table", RLS_MARTS)
def test_each_account_sees_its_communes_rows(wh: Warehouse, table: str) -> None:
    with wh.admin() as conn:
        rows = conn.execute(f"select commune_code from marts.{table}").fetchall()
    present = {r[0] for r in rows}
    assert len(present) >= 2
    assert communes_seen(wh, "district", table) == present
    assert communes_seen(wh, "ninhtay", table) == present & {NINH_TAY}
    assert communes_seen(wh, "two_communes", table) == present & {NINH_TAY, NINH_HUNG}
    assert communes_seen(wh, "both", table) == present & {NINH_HUNG}
    assert communes_seen(wh, "unmapped", table) == set()


def test_counts_are_the_communes_own(wh: Warehouse) -> None:
    query = "select commune_code, late_total from marts.commune_lateness order by 1"
    assert rows_as(wh, user(wh, "ninhtay"), query) == [(NINH_TAY, 8)]
    assert len(rows_as(wh, user(wh, "district"), query)) == 3
    others = f"select count(*) from marts.commune_lateness where commune_code <> '{NINH_TAY}'"
    assert rows_as(wh, user(wh, "ninhtay"), others) == [(0,)]


@pytest.mark.parametrize("table", SHARED_MARTS)
def test_unit_dimension_and_district_aggregates_are_shared(wh: Warehouse, table: str) -> None:
    query = f"select count(*) from marts.{table}"
    assert rows_as(wh, user(wh, "ninhtay"), query) == rows_as(wh, user(wh, "district"), query)
    assert rows_as(wh, user(wh, "unmapped"), query)[0][0] > 0


def test_commune_accounts_read_nothing_else(wh: Warehouse) -> None:
    for query in (
        "select * from marts.commune_lateness_half_years",  # a view: no RLS, so no access
        "select * from dq.latest_results_by_commune",
        "select * from dq.validation_results",
        "select * from raw.onestop_rows",
        "select * from quarantine.onestop_rows",
        "select * from access.commune_accounts",
        "insert into access.commune_accounts values ('x', '22534')",
        "create table marts.probe (i int)",
        "create temporary table probe (i int)",
        "alter table marts.commune_lateness disable row level security",
        "select access.secure_mart('marts.commune_lateness'::regclass)",
    ):
        assert_denied(wh, "ninhtay", query)
    # the district staff read the view and the dq summary
    assert rows_as(wh, user(wh, "district"), "select count(*) from dq.latest_results_by_commune")
    assert rows_as(wh, user(wh, "ninhtay"), "select * from access.my_communes") == [(NINH_TAY,)]


def test_a_commune_account_cannot_escape_its_rows(wh: Warehouse) -> None:
    with wh.login(user(wh, "ninhtay")) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(wh.bi)))
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(wh.commune)))
        assert conn.execute("select count(*) from marts.commune_lateness").fetchone() == (0,)


def test_dbt_rebuild_fails_closed_until_secure_marts(wh: Warehouse) -> None:
    """A recreated table has lost its policies and the commune grant: denied, never all rows."""
    with wh.admin() as conn, conn.transaction():
        rebuild(conn, "commune_satisfaction")
    assert_denied(wh, "ninhtay", "select * from marts.commune_satisfaction")
    assert communes_seen(wh, "district", "commune_satisfaction") == set(COMMUNES)
    with wh.admin() as conn:
        report = access.secure_marts(conn, **wh.roles)
    assert report.marts["marts.commune_satisfaction"] == "commune_rls"
    assert communes_seen(wh, "ninhtay", "commune_satisfaction") == {NINH_TAY}


def test_incremental_models_keep_their_policies(wh: Warehouse) -> None:
    with wh.admin() as conn:
        conn.execute(
            "insert into marts.fct_dossier (dossier_code, commune_key, commune_code)"
            " values ('H-900', '22597-20110101', %s)",
            [NINH_HUNG],
        )
    rows = rows_as(wh, user(wh, "ninhtay"), "select dossier_code from marts.fct_dossier")
    assert rows == [("H-001",)]


def test_dbt_post_hook_secures_inside_the_build(wh: Warehouse) -> None:
    """The optional post-hook: a model rebuilt by dbt's non-superuser role, secured on commit."""
    dbname = psycopg.conninfo.conninfo_to_dict(wh.url)["dbname"]
    this = f'"{dbname}"."marts"."commune_workload"'
    with wh.login(user(wh, "dbt")) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(wh.transformer)))
        for _ in range(2):  # first build, then a rebuild of the existing table
            with conn.transaction():
                rebuild(conn, "commune_workload", source="marts.commune_lateness")
                conn.execute(POST_HOOK.format(this=this))
            assert communes_seen(wh, "ninhtay", "commune_workload") == {NINH_TAY}
            assert communes_seen(wh, "district", "commune_workload") == set(COMMUNES)
            assert communes_seen(wh, "dbt", "commune_workload") == set(COMMUNES)  # owner


def test_new_marts_are_denied_to_communes_until_secured(wh: Warehouse) -> None:
    with wh.admin() as conn:
        conn.execute(
            "create table marts.commune_new as select commune_code from marts.dim_commune;"
            " create table marts.town_new as select 1 as n"
        )
    for table in ("commune_new", "town_new"):
        assert_denied(wh, "ninhtay", f"select * from marts.{table}")
        assert rows_as(wh, user(wh, "district"), f"select count(*) from marts.{table}")[0][0] > 0
    with wh.admin() as conn:
        report = access.secure_marts(conn, **wh.roles)
    assert report.marts["marts.commune_new"] == "commune_rls"
    assert report.marts["marts.town_new"] == "bi_only"  # not listed as shared: fail closed
    assert communes_seen(wh, "ninhtay", "commune_new") == {NINH_TAY}
    assert_denied(wh, "ninhtay", "select * from marts.town_new")


def test_warnings_name_the_accounts_to_fix(wh: Warehouse) -> None:
    with wh.admin() as conn:
        report = access.secure_marts(conn, **wh.roles)
    ours = [w for w in report.warnings if wh.tag in w]
    assert any(user(wh, "unmapped") in w and "sees no row" in w for w in ours)
    assert any(user(wh, "both") in w and "both" in w for w in ours)
    assert not any(user(wh, "ninhtay") in w for w in ours)


def test_rerunning_with_rls_changes_no_privilege(wh: Warehouse) -> None:
    with wh.admin() as conn:
        access.apply_access(conn, **wh.roles)
        before = snapshot(conn, wh)
        assert before["policies"]  # RLS stays on: commune_rls=None keeps the state
        for _ in range(2):
            report = access.apply_access(conn, **wh.roles)
            assert report.commune_rls
            access.secure_marts(conn, **wh.roles)
            assert snapshot(conn, wh) == before


def test_disable_then_enable(wh: Warehouse) -> None:
    with wh.admin() as conn:
        report = access.disable_commune_rls(conn, **wh.roles)
        assert not report.commune_rls and not access.commune_rls_enabled(conn)
        policies = conn.execute("select count(*) from pg_policy").fetchone()
        secured = conn.execute(
            "select count(*) from pg_class where relrowsecurity"
            " and relnamespace = 'marts'::regnamespace"
        ).fetchone()
    assert policies == (0,) and secured == (0,)
    for table in (*RLS_MARTS, *SHARED_MARTS):
        assert_denied(wh, "ninhtay", f"select * from marts.{table}")
    assert communes_seen(wh, "district", "commune_lateness") == set(COMMUNES)
    with wh.admin() as conn:
        access.enable_commune_rls(conn, **wh.roles)
    assert communes_seen(wh, "ninhtay", "commune_lateness") == {NINH_TAY}


def rebuild(conn: psycopg.Connection, name: str, source: str | None = None) -> None:
    """What dbt's table materialization does: build aside, swap, drop the old one."""
    source = source or f"marts.{name}"
    conn.execute(f"create table marts.{name}__dbt_tmp as select * from {source}")
    if conn.execute("select to_regclass(%s)", [f"marts.{name}"]).fetchone() != (None,):
        conn.execute(f"alter table marts.{name} rename to {name}__dbt_backup")
    conn.execute(f"alter table marts.{name}__dbt_tmp rename to {name}")
    conn.execute(f"drop table if exists marts.{name}__dbt_backup cascade")
