"""A throw-away PostgreSQL database per test, with the relations the checks read.

The admin URL comes from ``MOTCUA_TEST_ADMIN_URL`` (default: the local
server, user postgres). The dbt relations are minimal hand-made stand-ins with
the columns the GX assets select (plus personal-data columns where the real
models have them), so these tests do not depend on dbt.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from motcua import config
from motcua.ingest.loader import ensure_raw_schema

ADMIN_URL = os.environ.get("MOTCUA_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_DATE = date(2017, 7, 14)

A, B, C = "22528", "22531", "22534"  # Phường Ninh Hiệp, Xã Ninh Sơn, Xã Ninh Tây

# Personal data planted in every relation that has such columns: none of it may
# reach dq.validation_results, the summary, the GX results or the quality report.
NAME = "Nguyễn Thị Hồng Nhung"
ADDRESS = "Thôn Phú Gia, Ninh Hiệp"
PHONE = "0905 123 456"
EMAIL = "hongnhung.phugia@example.vn"
COMMENT = "Cán bộ Lê Văn Tám tiếp nhận chậm"
BAD_PHONE = "090-12"
PERSONAL = [NAME, ADDRESS, PHONE, "0905123456", EMAIL, COMMENT, BAD_PHONE, "Lê Văn Tám"]

STATUSES = "Đã tiếp nhận"

SCHEMA_SQL = """
create schema if not exists marts;
create schema if not exists intermediate;
create schema if not exists staging;
create schema if not exists ops;

create table marts.dim_commune (
    commune_key text primary key,
    commune_code text not null,
    commune_name text not null,
    valid_from date not null,
    valid_to date
);
create table marts.fct_dossier (
    dossier_code text,
    commune_key text,
    commune_code text,
    status text,
    received_at timestamp,
    received_date date,
    due_date date,
    address_present boolean,
    phone_valid boolean,
    email_valid boolean
);
-- the current state the pipeline checks read before the marts are published;
-- a view over the fixture's fct_dossier so each test edits one place
create view intermediate.int_onestop__dossiers_current as
select dossier_code, commune_code, status, received_date::timestamp as received_at,
       due_date::timestamp as due_at
from marts.fct_dossier;
create table intermediate.int_onestop__rows_checked (
    file_id bigint,
    row_number integer,
    dossier_code text,
    status text,
    received_at timestamp,
    due_at timestamp,
    applicant_name text,
    address text,
    phone text,
    email text,
    is_valid boolean,
    malformed_optional_values text[]
);
-- the published 766 index the progress check reads (empty unless a test fills it)
create table marts.commune_lateness (cut_off_date date);
create table marts.commune_index_766 (
    commune_key text,
    commune_code text,
    indicator_code text,
    period_type text,
    period_start date,
    period_end date,
    points numeric
);
create table ops.file_reconciliation (
    file_id bigint,
    source text,
    file_name text,
    status text,
    rows_read bigint,
    rows_in_raw bigint,
    rows_loaded bigint,
    rows_quarantined bigint
);
create table staging.stg_survey__responses (
    file_id bigint,
    file_name text,
    row_number integer,
    response_id text,
    unit_code text,
    ans_access integer,
    ans_procedure integer,
    ans_staff integer,
    ans_result integer,
    ans_feedback integer,
    comment text
);
"""


def _db_url(admin_url: str, name: str) -> str:
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


@pytest.fixture
def fresh_db_url() -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards (even if connections linger)."""
    name = f"motcua_dq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield _db_url(ADMIN_URL, name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def gx_project(tmp_path: Path) -> Path:
    """A copy of the reviewed GX project, so runs write their results under tmp_path."""
    target = tmp_path / "expectations"
    shutil.copytree(
        config.expectations_dir() / "gx",
        target / "gx",
        ignore=shutil.ignore_patterns("uncommitted"),
    )
    return target


@pytest.fixture
def warehouse(fresh_db_url: str) -> str:
    """The fresh database with raw (the loader's DDL), stand-in dbt relations and known rows."""
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        ensure_raw_schema(conn)
        conn.execute(SCHEMA_SQL)
        load_known_rows(conn)
    return fresh_db_url


def contact_dossiers() -> list[tuple[str, str, date, bool, bool, bool]]:
    """(code, commune, received, address_present, phone_valid, email_valid)."""
    rows = []
    # Commune A: 10 dossiers in the last 7 days, 3 of them without a valid phone.
    for i in range(1, 11):
        rows.append((f"HS-A-{i:02d}", A, date(2017, 7, 10), True, i not in (3, 7, 9), True))
    # Commune B: 6 dossiers, all complete.
    for i in range(1, 7):
        rows.append((f"HS-B-{i:02d}", B, date(2017, 7, 12), True, True, True))
    # Commune C: 5 dossiers early in the month (outside the last 7 days), 4 without email,
    # and one complete dossier from June (outside both windows).
    for i in range(1, 6):
        rows.append((f"HS-C-{i:02d}", C, date(2017, 7, 3), True, True, i == 5))
    rows.append(("HS-C-00", C, date(2017, 6, 20), False, False, False))
    return rows


def load_known_rows(conn: psycopg.Connection) -> None:
    conn.execute(
        "insert into marts.dim_commune values"
        " (%s, %s, 'Phường Ninh Hiệp', '2008-01-01', null),"
        " (%s, %s, 'Xã Ninh Sơn', '2008-01-01', null),"
        " (%s, %s, 'Xã Ninh Tây', '2008-01-01', null)",
        (f"{A}-20080101", A, f"{B}-20080101", B, f"{C}-20080101", C),
    )
    batch = conn.execute(
        "insert into raw.load_batches (run_date) values (%s) returning batch_id", (RUN_DATE,)
    ).fetchone()
    assert batch is not None
    dossiers = contact_dossiers()
    files = {
        "hoso_20170714_a.csv": [d for d in dossiers if d[1] == A],
        "hoso_20170714_bc.csv": [d for d in dossiers if d[1] != A],
    }
    for file_name, rows in files.items():
        file_id = _register_file(conn, batch[0], "onestop", file_name, len(rows))
        for n, (code, commune, received, _addr, phone_ok, _email) in enumerate(rows, start=1):
            phone = PHONE if phone_ok else BAD_PHONE
            conn.execute(
                "insert into raw.onestop_rows (file_id, batch_id, file_name, row_number,"
                " loaded_at, dossier_code, unit_code, received_at, due_at, status,"
                " applicant_name, address, phone, email, updated_at)"
                " values (%s, %s, %s, %s, now(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    file_id, batch[0], file_name, n, code, commune,
                    received.strftime("%d/%m/%Y"), "20/07/2017", STATUSES,
                    NAME, ADDRESS, phone, EMAIL, "14/07/2017 08:00:00",
                ),
            )  # fmt: skip
            conn.execute(
                "insert into intermediate.int_onestop__rows_checked values"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true)",
                (
                    file_id, n, code, STATUSES, received, date(2017, 7, 20),
                    NAME, ADDRESS, phone, EMAIL,
                ),
            )  # fmt: skip
        _reconcile(conn, file_id, "onestop", file_name, len(rows), len(rows), 0)
    for code, commune, received, addr, phone_ok, email_ok in dossiers:
        conn.execute(
            "insert into marts.fct_dossier values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                code, f"{commune}-20080101", commune, STATUSES, received, received,
                date(2017, 7, 20), addr, phone_ok, email_ok,
            ),
        )  # fmt: skip
    survey_file = "khaosat_2017.csv"
    survey_id = _register_file(conn, batch[0], "survey", survey_file, 3)
    for n in range(1, 4):
        conn.execute(
            "insert into raw.survey_rows (file_id, batch_id, file_name, row_number, loaded_at,"
            " response_id, survey_year, unit_code, agency, comment)"
            " values (%s, %s, %s, %s, now(), %s, '2017', %s, 'UBND', %s)",
            (survey_id, batch[0], survey_file, n, f"PKS-{n:03d}", A, COMMENT),
        )
        conn.execute(
            "insert into staging.stg_survey__responses values"
            " (%s, %s, %s, %s, %s, 4, 5, 3, null, 1, %s)",
            (survey_id, survey_file, n, f"PKS-{n:03d}", A, COMMENT),
        )
    _reconcile(conn, survey_id, "survey", survey_file, 3, 3, 0)


def _register_file(
    conn: psycopg.Connection, batch_id: int, source: str, name: str, rows: int
) -> int:
    row = conn.execute(
        "insert into raw.load_files (batch_id, source, file_name, sha256, file_format, rows_read,"
        " status) values (%s, %s, %s, %s, 'csv-utf8', %s, 'loaded') returning file_id",
        (batch_id, source, name, uuid.uuid4().hex, rows),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _reconcile(
    conn: psycopg.Connection,
    file_id: int,
    source: str,
    name: str,
    read: int,
    loaded: int,
    quarantined: int,
) -> None:
    conn.execute(
        "insert into ops.file_reconciliation values (%s, %s, %s, 'loaded', %s, %s, %s, %s)",
        (file_id, source, name, read, read, loaded, quarantined),
    )
