"""The real dbt project, built by a login of the transformer group, read by the BI group.

Split credentials end to end: the loader's login loads the hand-made raw rows
of tests/dbt_project, the transformer's login (no superuser, no CREATE on the
database) runs ``dbt build`` twice, and then the BI login reads every real
mart (none holding a personal-data column) and nothing else, while a commune
account reads its commune's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import errors, sql

from motcua.config import PgParams, parse_pg_url
from motcua.warehouse import access
from tests.conftest import create_database
from tests.dbt_project.conftest import Warehouse as DbtWarehouse
from tests.dbt_project.conftest import assert_built
from tests.warehouse.conftest import PERSONAL_COLUMNS, Warehouse, rows_as

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parents[1] / "dbt_project" / "fixtures"
NINH_TAY = "22534"


class Built(Warehouse):
    dbt: DbtWarehouse  # the project, run as the transformer group's login


@pytest.fixture(scope="module")
def built(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    url = create_database(admin_url, prefix="motcua_acl_t")
    wh = Built(admin_url, url, tag=f"t{uuid.uuid4().hex[:8]}")
    try:
        dbt_login = f"{wh.tag}_dbt"
        with wh.admin() as conn:
            access.apply_access(conn, **wh.roles, commune_rls=True)
        wh.create_login("dbt", wh.transformer)
        wh.create_login("load", wh.loader)
        wh.create_login("alice", wh.bi)
        wh.create_login("ninhtay", wh.commune)
        with wh.admin() as conn:
            access.apply_access(conn, **wh.roles, dbt_roles=[dbt_login])
            conn.execute(
                "insert into access.commune_accounts (role_name, commune_code) values (%s, %s)",
                [f"{wh.tag}_ninhtay", NINH_TAY],
            )
        with wh.login(f"{wh.tag}_load") as conn:
            conn.execute((FIXTURES / "raw_rows.sql").read_text(encoding="utf-8"))
        params = parse_pg_url(wh.url)
        dbt_url = PgParams(
            params.host, params.port, dbt_login, wh.passwords[dbt_login], params.dbname
        ).url()
        wh.dbt = DbtWarehouse(dbt_url, tmp_path_factory.mktemp("dbt_acl"))
        assert_built(wh.dbt.dbt("build", run_date="2017-07-14"))
        with wh.login(dbt_login) as conn:  # the step after dbt, as dbt's own role
            report = access.secure_marts(conn, **wh.roles)
        assert report.warnings == [] and "skipped" not in report.marts.values()
        yield wh
    finally:
        wh.drop()


def test_bi_reads_every_real_mart(built: Built) -> None:
    marts = [(s, n) for s, n, _ in built.relations("rpvmf") if s == "marts"]
    assert {n for _, n in marts} >= {
        "commune_lateness",
        "district_lateness",
        "commune_satisfaction",
        "district_satisfaction",
        "commune_contact_completeness",
        "dim_commune",
        "fct_dossier",
        "dossiers_due_soon",
    }
    with built.login(f"{built.tag}_alice") as conn:
        for schema, name in marts:
            conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(schema, name)))
        conn.execute("select * from dq.latest_results_by_commune")


def test_no_real_mart_has_a_personal_data_column(built: Built) -> None:
    with built.admin() as conn:
        rows = conn.execute(
            "select c.relname::text, a.attname::text from pg_attribute as a"
            " join pg_class as c on c.oid = a.attrelid"
            " where c.relnamespace = 'marts'::regnamespace and a.attnum > 0"
            " and a.attname = any(%s)",
            [sorted(PERSONAL_COLUMNS)],
        ).fetchall()
    assert rows == []


def test_bi_reads_nothing_outside_marts(built: Built) -> None:
    others = [
        (s, n)
        for s, n, _ in built.relations()
        if s != "marts" and (s, n) != ("dq", "latest_results_by_commune")
    ]
    assert {s for s, _ in others} >= {"raw", "staging", "intermediate", "quarantine", "ops"}
    with built.login(f"{built.tag}_alice") as conn:
        for schema, name in others:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("select 1 from {}").format(sql.Identifier(schema, name)))


def test_rebuild_keeps_bi_access_and_fails_closed_for_communes(built: Built) -> None:
    query = "select distinct commune_code from marts.commune_lateness"
    assert rows_as(built, f"{built.tag}_ninhtay", query) == [(NINH_TAY,)]
    assert_built(built.dbt.dbt("build", run_date="2017-07-14"))
    assert len(rows_as(built, f"{built.tag}_alice", query)) > 1
    with (
        built.login(f"{built.tag}_ninhtay") as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(query)
    with built.login(f"{built.tag}_dbt") as conn:
        access.secure_marts(conn, **built.roles)
    assert rows_as(built, f"{built.tag}_ninhtay", query) == [(NINH_TAY,)]
