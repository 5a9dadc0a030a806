"""Fixtures for the API connector tests: an emptied raw layer and a running simulator.

``fresh_db_url`` (one database per module) comes from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from motcua.ingest import loader
from motcua_dev.simulator import Simulator


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
