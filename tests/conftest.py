"""Shared fixtures: a real PostgreSQL for every test that needs one.

`make test` exports ``MOTCUA_TEST_ADMIN_URL`` (the embedded server, or the
server of ``WAREHOUSE_URL``); each test module gets its own fresh database,
dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

# Airflow reads its configuration once, at import: settle it before any test imports it.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="motcua-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import psycopg
import pytest

from motcua.config import apply_telemetry_off, parse_pg_url

apply_telemetry_off()


def _admin_url() -> str:
    url = os.environ.get("MOTCUA_TEST_ADMIN_URL")
    if url:
        return url
    from motcua.warehouse.embedded import ensure_server

    return ensure_server().admin_url


@pytest.fixture(scope="session")
def admin_url() -> str:
    return _admin_url()


def create_database(admin: str, prefix: str = "motcua_t") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return parse_pg_url(admin).url(name)


def drop_database(admin: str, url: str) -> None:
    name = parse_pg_url(url).dbname
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def fresh_db_url(admin_url: str) -> Iterator[str]:
    url = create_database(admin_url)
    yield url
    drop_database(admin_url, url)


@pytest.fixture
def db_url(admin_url: str) -> Iterator[str]:
    """A fresh database for one test."""
    url = create_database(admin_url)
    yield url
    drop_database(admin_url, url)
