"""Who runs the migration: several warehouses at once; a non-superuser owner.

The advisory lock serialises runs within a database; the roles are
cluster-wide, so runs in different databases race to create them.
"""

from __future__ import annotations

import secrets
import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from motcua.config import PgParams, parse_pg_url
from motcua.warehouse import access
from tests.conftest import create_database, drop_database


def test_first_runs_in_several_databases_at_once(admin_url: str) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    roles = {
        "bi_role": f"{tag}_bi_reader",
        "loader_role": f"{tag}_loader",
        "transformer_role": f"{tag}_transformer",
        "commune_role": f"{tag}_commune_reader",
    }
    urls = [create_database(admin_url, prefix="motcua_acl_t") for _ in range(3)]
    reports: list[access.AccessReport] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(urls))

    def run(url: str) -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                barrier.wait()
                reports.append(access.apply_access(conn, **roles, commune_rls=True))
        except BaseException as exc:
            failures.append(exc)

    try:
        threads = [threading.Thread(target=run, args=(url,)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        created = [name for report in reports for name in report.created_roles]
        assert sorted(created) == sorted(roles.values())  # each role made once
        for url in urls:
            with psycopg.connect(url, autocommit=True) as conn:
                assert access.commune_rls_enabled(conn)
                row = conn.execute(
                    "select has_schema_privilege(%s, 'marts', 'USAGE'),"
                    " has_schema_privilege(%s, 'raw', 'USAGE')",
                    [roles["bi_role"], roles["bi_role"]],
                ).fetchone()
                assert row == (True, False)
    finally:
        for url in urls:
            drop_database(admin_url, url)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for name in roles.values():
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def test_a_createrole_owner_of_the_warehouse_can_run_it(admin_url: str) -> None:
    """An external warehouse: the pipeline's role owns the database, has CREATEROLE, no more."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    owner = f"{tag}_owner"
    roles = {
        "bi_role": f"{tag}_bi_reader",
        "loader_role": f"{tag}_loader",
        "transformer_role": f"{tag}_transformer",
        "commune_role": f"{tag}_commune_reader",
    }
    password = secrets.token_urlsafe(16)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login createrole password {}").format(
                sql.Identifier(owner), sql.Literal(password)
            )
        )
    url = create_database(admin_url, prefix="motcua_acl_t")
    params = parse_pg_url(url)
    owner_url = PgParams(params.host, params.port, owner, password, params.dbname).url()
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("alter database {} owner to {}").format(
                    sql.Identifier(params.dbname), sql.Identifier(owner)
                )
            )
        with psycopg.connect(owner_url, autocommit=True) as conn:
            first = access.apply_access(conn, **roles, commune_rls=True)
            assert sorted(first.created_roles) == sorted(roles.values())
            conn.execute(
                sql.SQL(
                    "create table marts.after as select 1 as n;"
                    " create role {} login password {} in role {}"
                ).format(
                    sql.Identifier(f"{tag}_alice"),
                    sql.Literal(password),
                    sql.Identifier(roles["bi_role"]),
                )
            )
            again = access.apply_access(conn, **roles)
            assert again.created_roles == [] and again.warnings == []
        alice_url = PgParams(params.host, params.port, f"{tag}_alice", password, params.dbname)
        with psycopg.connect(alice_url.url(), autocommit=True) as conn:
            assert conn.execute("select n from marts.after").fetchone() == (1,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from raw.onestop_rows")
    finally:
        drop_database(admin_url, url)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for name in [f"{tag}_alice", *roles.values(), owner]:
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
