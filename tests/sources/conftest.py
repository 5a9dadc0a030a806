"""Fixtures for the API connector tests: a fresh database and a running simulator.

``fresh_db_url`` reads the server from ``MOTCUA_TEST_ADMIN_URL`` (default: the
local PostgreSQL, user postgres, trust), creates a uniquely named database
for the test module and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from motcua.config import parse_pg_url
from motcua.ingest import loader
from motcua.sources.simulator import Simulator

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def fresh_db_url() -> Iterator[str]:
    admin = os.environ.get("MOTCUA_TEST_ADMIN_URL") or DEFAULT_ADMIN_URL
    name = f"motcua_src_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield parse_pg_url(admin).url(name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def conn(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to an empty raw layer (emptied before each test)."""
    with psycopg.connect(fresh_db_url, autocommit=True) as connection:
        loader.ensure_raw_schema(connection)
        connection.execute(
            "truncate raw.onestop_rows, raw.survey_rows, raw.load_files, raw.load_batches,"
            " raw.api_watermarks restart identity cascade"
        )
        yield connection


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """25 synthetic dossiers: with page_size=10, pages of 10, 10 and 5."""
    with Simulator(count=25, seed=7) as simulator:
        yield simulator
