"""A warehouse with personal data where a real one has it, and roles to log in as.

Roles are cluster-wide: every module gets its own uniquely named group roles
(passed to ``apply_access``) and login roles, dropped after its database.
Logins connect for real over TCP with a password made up at test time, which
every server checks (the embedded one with SCRAM over loopback).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg import sql

from motcua import summary
from motcua.config import parse_pg_url
from motcua.ingest.loader import ensure_raw_schema
from motcua.quality.store import ensure_schema as ensure_dq_schema
from tests.conftest import create_database, drop_database

PERSONAL_COLUMNS = {"applicant_name", "address", "phone", "email", "comment", "raw_record"}
SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast')"
COMMUNES = ("22534", "22597", "22570")  # Xã Ninh Tây, Xã Ninh Hưng, Phường Ninh Hiệp


@dataclass
class Warehouse:
    """One test database, its group role names and the login roles made for it."""

    admin_url: str
    url: str
    tag: str
    logins: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def roles(self) -> dict[str, str]:
        """Keyword arguments of apply_access / secure_marts."""
        return {
            "bi_role": f"{self.tag}_bi_reader",
            "loader_role": f"{self.tag}_loader",
            "transformer_role": f"{self.tag}_transformer",
            "commune_role": f"{self.tag}_commune_reader",
        }

    @property
    def bi(self) -> str:
        return self.roles["bi_role"]

    @property
    def transformer(self) -> str:
        return self.roles["transformer_role"]

    @property
    def loader(self) -> str:
        return self.roles["loader_role"]

    @property
    def commune(self) -> str:
        return self.roles["commune_role"]

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def create_login(self, suffix: str, *groups: str) -> str:
        """A login role (what an operator creates), member of ``groups``."""
        name = f"{self.tag}_{suffix}"
        password = secrets.token_urlsafe(16)
        with self.admin() as conn:
            conn.execute(
                sql.SQL("create role {} login password {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )
            for group in groups:
                conn.execute(
                    sql.SQL("grant {} to {}").format(sql.Identifier(group), sql.Identifier(name))
                )
        self.logins.append(name)
        self.passwords[name] = password
        return name

    @contextmanager
    def login(self, name: str, autocommit: bool = True) -> Iterator[psycopg.Connection]:
        params = parse_pg_url(self.url)
        conn = psycopg.connect(
            host=params.host,
            port=params.port,
            dbname=params.dbname,
            user=name,
            password=self.passwords[name],
            autocommit=autocommit,
        )
        try:
            assert conn.execute("select session_user::text").fetchone() == (name,)
            yield conn
        finally:
            conn.close()

    def relations(self, kinds: str = "rpvmfS") -> list[tuple[str, str, str]]:
        """(schema, name, relkind) of every user relation of the database."""
        with self.admin() as conn:
            rows = conn.execute(
                "select n.nspname::text, c.relname::text, c.relkind::text from pg_class as c"
                " join pg_namespace as n on n.oid = c.relnamespace"
                f" where n.nspname not in {SYSTEM_SCHEMAS} and n.nspname !~ '^pg_'"
                " and c.relkind = any(%s) order by 1, 2",
                [list(kinds)],
            ).fetchall()
        return [(str(s), str(n), str(k)) for s, n, k in rows]

    def schemas(self) -> list[str]:
        with self.admin() as conn:
            rows = conn.execute(
                "select nspname::text from pg_namespace"
                f" where nspname not in {SYSTEM_SCHEMAS} and nspname !~ '^pg_' order by 1"
            ).fetchall()
        return [r[0] for r in rows]

    def drop(self) -> None:
        drop_database(self.admin_url, self.url)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in [*self.logins, *self.roles.values()]:
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def warehouse(admin_url: str) -> Iterator[Warehouse]:
    """A fresh database with the realistic set-up below, and unique role names."""
    url = create_database(admin_url, prefix="motcua_acl_t")
    wh = Warehouse(admin_url, url, tag=f"t{uuid.uuid4().hex[:8]}")
    try:
        with wh.admin() as conn:
            build_setup(conn)
        yield wh
    finally:
        wh.drop()


def build_setup(conn: psycopg.Connection) -> None:
    """Every layer of the warehouse in miniature, personal data where the real one has it.

    Made by the pipeline's own role (here the server's superuser), as
    ``make run`` does: the raw DDL of the loader, the dq table of the GX store,
    and hand-made dbt-like relations in staging, intermediate, quarantine,
    ops and marts, plus an operator's stray export in public and dbt's target
    schema.
    """
    ensure_raw_schema(conn)
    ensure_dq_schema(conn)
    summary.ensure_schema(conn)
    conn.execute(SETUP_SQL)
    with conn.cursor() as cur:
        cur.executemany(
            "insert into dq.validation_results (run_id, run_date, checked_at, checkpoint, suite,"
            " expectation, check_name, severity, commune_code, element_count, unexpected_count,"
            " observed_value, threshold, success, failing_key, failing_codes)"
            " values (gen_random_uuid(), %s, now() - %s * interval '1 day', 'contacts',"
            " 'onestop_contacts', 'expect_column_values_to_match_regex', 'phone_valid', 'warn',"
            " %s, 40, %s, 0.9, 0.8, %s, 'dossier_code', %s)",
            [
                (date(2017, 7, 13), 1, "22534", 10, False, ["H-001", "H-002"]),
                (date(2017, 7, 14), 0, "22534", 2, True, []),
                (date(2017, 7, 14), 0, "22597", 8, False, ["H-104"]),
                (date(2017, 7, 14), 0, None, 0, True, []),
            ],
        )
    conn.execute("analyze")  # statistics too: pg_stats must not leak personal values


SETUP_SQL = """
insert into raw.load_batches (run_date, inbox_dir) values ('2017-07-14', '/srv/inbox');
insert into raw.load_files (batch_id, source, file_name, sha256, file_format, rows_read, status)
values (1, 'onestop', 'hoso_22534_201707.csv', 'ab12', 'csv-utf8', 2, 'loaded'),
       (1, 'survey', 'khaosat_2016.csv', 'cd34', 'csv-utf8', 1, 'loaded');
insert into raw.onestop_rows (file_id, batch_id, file_name, row_number, dossier_code, unit_code,
    received_at, status, applicant_name, address, phone, email)
values (1, 1, 'hoso_22534_201707.csv', 1, 'H-001', '22534', '01/07/2017', 'Đã tiếp nhận',
        'Nguyễn Văn An', 'Thôn Tân Mỹ, Ninh Tây', '0905 123 456', 'an.nguyen@example.vn'),
       (1, 1, 'hoso_22534_201707.csv', 2, 'H-002', '22597', '02/07/2017', 'Đã trả kết quả',
        'Trần Thị Bình', 'Thôn Phú Hữu, Ninh Hưng', '0258 3844 123', 'binh.tran@example.vn');
insert into raw.survey_rows (file_id, batch_id, file_name, row_number, response_id,
    survey_year, unit_code, agency, comment)
values (2, 1, 'khaosat_2016.csv', 1, 'P-1', '2016', '22534', 'UBND',
        'Chị Lan ở thôn Tân Mỹ, số 0912 345 678, bị hẹn lại ba lần');
insert into raw.api_watermarks (source_name, changed_since) values ('onestop', now());

-- staging: a view over raw, and a seed
create schema if not exists staging;
create view staging.stg_onestop__dossier_rows as
select dossier_code, unit_code, applicant_name, address, phone, email from raw.onestop_rows;
create table staging.admin_units (unit_code text, unit_name text);
insert into staging.admin_units values ('22534', 'Xã Ninh Tây'), ('22597', 'Xã Ninh Hưng');

-- intermediate: a table, a view, a materialized view
create schema if not exists intermediate;
create table intermediate.int_onestop__rows_checked as
select dossier_code, unit_code, address, phone, email, true as phone_valid
from raw.onestop_rows;
create view intermediate.int_onestop__dossier_facts as
select dossier_code, unit_code, address from intermediate.int_onestop__rows_checked;
create materialized view intermediate.int_survey__responses as
select response_id, unit_code, comment from raw.survey_rows;

-- quarantine (built by dbt): every rejected row with its raw values
create schema if not exists quarantine;
create table quarantine.onestop_rows as
select file_name, row_number, dossier_code, address, phone, email,
       array['phone_invalid'] as reasons
from raw.onestop_rows;
create table quarantine.survey_rows as
select file_name, row_number, response_id, comment, array['answer_out_of_range'] as reasons
from raw.survey_rows;

-- ops
create table ops.file_reconciliation (file_name text, rows_read bigint, rows_loaded bigint);
insert into ops.file_reconciliation values ('hoso_22534_201707.csv', 2, 2);
insert into ops.run_summaries (run_date, summary) values ('2017-07-14', '{"late": 7}');

-- dbt's target schema, and an operator's ad hoc export in public
create schema if not exists analytics;
create table analytics.my_first_dbt_model as select 1 as id;
create table public.contacts_export as
select applicant_name, phone, email from raw.onestop_rows;
create sequence public.export_seq;

-- marts: no personal data (docs/rules.md); commune grain with commune_code
create schema if not exists marts;
create table marts.dim_commune (
    commune_key text primary key, commune_code text not null, commune_name text not null,
    district_code text, valid_from date not null
);
insert into marts.dim_commune values
    ('22534-20110101', '22534', 'Xã Ninh Tây', '568', '2011-01-01'),
    ('22597-20110101', '22597', 'Xã Ninh Hưng', '568', '2011-01-01'),
    ('22570-20110101', '22570', 'Phường Ninh Hiệp', '568', '2011-01-01');
create table marts.commune_lateness (
    commune_key text, commune_code text, commune_name text, district_code text,
    period_type text, period_start date, period_end date,
    received_total bigint, late_total bigint, late_rate numeric, over_threshold boolean
);
insert into marts.commune_lateness values
    ('22534-20110101', '22534', 'Xã Ninh Tây', '568', 'half_year', '2017-01-01', '2017-06-30',
     50, 8, 16.00, true),
    ('22597-20110101', '22597', 'Xã Ninh Hưng', '568', 'half_year', '2017-01-01', '2017-06-30',
     45, 9, 20.00, true),
    ('22570-20110101', '22570', 'Phường Ninh Hiệp', '568', 'half_year', '2017-01-01',
     '2017-06-30', 120, 3, 2.50, false);
create table marts.district_lateness (
    district_code text, district_name text, period_type text, period_start date,
    late_total bigint, late_rate numeric, communes_over_threshold bigint
);
insert into marts.district_lateness values
    ('568', 'Thị xã Ninh Hòa', 'half_year', '2017-01-01', 20, 9.52, 2);
create table marts.commune_satisfaction (
    commune_key text, commune_code text, commune_name text, district_code text,
    survey_year int, agency_type text, responses bigint, satisfaction_index numeric,
    rating text
);
insert into marts.commune_satisfaction values
    ('22534-20110101', '22534', 'Xã Ninh Tây', '568', 2016, 'UBND', 51, 60.78, 'Trung bình'),
    ('22597-20110101', '22597', 'Xã Ninh Hưng', '568', 2016, 'UBND', 62, 58.06, 'Trung bình'),
    ('22570-20110101', '22570', 'Phường Ninh Hiệp', '568', 2016, 'UBND', 80, 81.20, 'Tốt');
create table marts.district_satisfaction (
    district_code text, district_name text, survey_year int, agency_type text,
    responses bigint, satisfaction_index numeric
);
insert into marts.district_satisfaction values
    ('568', 'Thị xã Ninh Hòa', 2016, 'UBND', 1989, 72.12);
create table marts.commune_contact_completeness (
    commune_key text, commune_code text, commune_name text, period_type text,
    period_start date, dossiers bigint, contact_complete bigint, completeness_rate numeric
);
insert into marts.commune_contact_completeness values
    ('22534-20110101', '22534', 'Xã Ninh Tây', 'half_year', '2017-01-01', 50, 5, 10.00),
    ('22597-20110101', '22597', 'Xã Ninh Hưng', 'half_year', '2017-01-01', 45, 9, 20.00),
    ('22570-20110101', '22570', 'Phường Ninh Hiệp', 'half_year', '2017-01-01', 120, 30, 25.00);
create table marts.fct_dossier (
    dossier_code text primary key, commune_key text not null, commune_code text,
    district_code text, status text, received_date date, due_date date,
    address_present boolean, phone_valid boolean, email_valid boolean
);
insert into marts.fct_dossier values
    ('H-001', '22534-20110101', '22534', '568', 'Đã tiếp nhận', '2017-07-01', '2017-07-10',
     true, true, true),
    ('H-002', '22597-20110101', '22597', '568', 'Đã trả kết quả', '2017-07-02', '2017-07-12',
     true, true, true),
    ('H-003', '22570-20110101', '22570', '568', 'Đã tiếp nhận', '2017-07-03', '2017-07-13',
     false, false, false);
create table marts.dossiers_due_soon as
select '2017-07-14'::date as as_of_date, commune_key, commune_code, dossier_code, due_date,
       'overdue'::text as due_status
from marts.fct_dossier where status = 'Đã tiếp nhận';
-- a view in marts (BI reads it; no row-level security on views)
create view marts.commune_lateness_half_years as
select commune_code, commune_name, period_start, late_rate
from marts.commune_lateness where period_type = 'half_year';
"""


def rows_as(wh: Warehouse, login: str, query: str) -> list[tuple[Any, ...]]:
    with wh.login(login) as conn:
        return conn.execute(query).fetchall()


def snapshot(conn: psycopg.Connection, wh: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    """Every privilege that matters, with ACLs as sorted sets (their order is not meaning)."""
    ours = [*wh.roles.values(), *wh.logins]
    acl = "coalesce((select array_agg(a::text order by a::text) from unnest({}) as a), '{{}}')"
    queries = {
        "database": f"select {acl.format('datacl')} from pg_database"
        " where datname = current_database()",
        "schemas": f"select nspname, nspowner::regrole::text, {acl.format('nspacl')}"
        " from pg_namespace where nspname !~ '^pg_' order by 1",
        "relations": "select c.oid::regclass::text, c.relkind, c.relowner::regrole::text,"
        f" {acl.format('c.relacl')}, c.relrowsecurity, c.relforcerowsecurity"
        " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname !~ '^pg_' and n.nspname <> 'information_schema' order by 1",
        "columns": "select attrelid::regclass::text, attname, attacl::text from pg_attribute"
        " where attacl is not null and attrelid >= 16384 order by 1, 2",
        "default_acl": "select defaclrole::regrole::text, defaclnamespace::regnamespace::text,"
        f" defaclobjtype, {acl.format('defaclacl')} from pg_default_acl order by 1, 2, 3",
        "policies": "select polrelid::regclass::text, polname, polcmd, polpermissive,"
        " polroles::regrole[]::text, pg_get_expr(polqual, polrelid) from pg_policy order by 1, 2",
        "functions": f"select oid::regprocedure::text, md5(prosrc), {acl.format('proacl')}"
        " from pg_proc where pronamespace::regnamespace::text !~ '^(pg_|information_schema)'"
        " order by 1",
        "views": "select oid::regclass::text, pg_get_viewdef(oid) from pg_class"
        " where relkind = 'v' and relnamespace::regnamespace::text in ('dq', 'marts', 'access')"
        " order by 1",
        "roles": "select rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,"
        " rolcanlogin, rolreplication, rolbypassrls from pg_roles"
        " where rolname = any(%(ours)s) order by 1",
        "memberships": "select roleid::regrole::text, member::regrole::text, admin_option"
        " from pg_auth_members where roleid::regrole::text = any(%(ours)s)"
        " or member::regrole::text = any(%(ours)s) order by 1, 2",
    }
    return {
        key: [tuple(r) for r in conn.execute(query, {"ours": ours}).fetchall()]
        for key, query in queries.items()
    }
