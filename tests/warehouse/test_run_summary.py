"""The summary counts the files and rows of its own run, not the warehouse's history.

A warehouse with two nights of loads (raw.load_files and the reconciliation dbt
builds, made by hand): the summary of night 2 counts night 2's batch only, and
a night that loaded nothing says so instead of repeating the history.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from motcua import summary
from motcua.ingest.loader import ensure_raw_schema

HISTORY = """
insert into raw.load_batches (run_date, inbox_dir) values
    ('2017-07-13', '/srv/inbox'), ('2017-07-14', '/srv/inbox'), ('2017-07-14', null);
insert into raw.load_files (batch_id, source, file_name, sha256, file_format, rows_read, status,
    error)
values (1, 'onestop', 'hoso_22534_20170712.csv', 'a1', 'csv-utf8', 120, 'loaded', null),
       (1, 'onestop', 'hoso_22597_20170712.csv', 'a2', 'csv-utf8', 80, 'loaded', null),
       (1, 'survey', 'khaosat_2016.csv', 'b1', 'csv-utf8', 300, 'loaded', null),
       (1, 'survey', 'khaosat_2016_bis.csv', 'b1', 'csv-utf8', 0, 'duplicate', null),
       (2, 'onestop', 'hoso_22534_20170713.csv', 'a3', 'csv-win1258', 10, 'loaded', null),
       (2, 'onestop', 'hoso_22534_20170713_copy.csv', 'a3', 'csv-win1258', 0, 'duplicate', null),
       (2, 'survey', 'khaosat_hong.xlsx', 'b2', 'xlsx', 0, 'rejected', 'not an XLSX file'),
       (3, 'onestop', 'api:onestop', 'c1', 'api-json', 5, 'loaded', null);
create schema if not exists ops;  -- dbt's (models/ops)
create table ops.file_reconciliation as
select file_id, batch_id, source, file_name, status, rows_read, rows_read as rows_in_raw,
       case file_name when 'hoso_22534_20170712.csv' then 117 when 'hoso_22534_20170713.csv'
            then 8 else rows_read end as rows_loaded,
       case file_name when 'hoso_22534_20170712.csv' then 3 when 'hoso_22534_20170713.csv'
            then 2 else 0 end as rows_quarantined
from raw.load_files;
"""


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        ensure_raw_schema(conn)
        conn.execute(HISTORY)
        yield conn


def _by_source(rows: list[dict]) -> dict[str, tuple[int, ...]]:
    keys = ("files_loaded", "files_duplicate", "files_rejected")
    rows_keys = ("rows_read", "rows_loaded", "rows_quarantined")
    return {r["source"]: tuple(r[k] for k in (*keys, *rows_keys)) for r in rows}


def test_the_second_night_counts_its_own_batches(conn: psycopg.Connection) -> None:
    got = _by_source(summary.files_of_run(conn, [2, 3]))  # the inbox and the API pull
    assert got == {
        "onestop": (2, 1, 0, 15, 13, 2),
        "survey": (0, 0, 1, 0, 0, 0),
    }


def test_a_night_that_loaded_nothing_says_zero(conn: psycopg.Connection) -> None:
    rows = summary.files_of_run(conn, [])
    assert _by_source(rows) == {"onestop": (0,) * 6, "survey": (0,) * 6}
    text = summary.render(
        {
            "run_date": "2017-07-15",
            "sources": rows,
            "half_year": [],
            "over_threshold": [],
            "town_satisfaction": [],
            "low_rated": [],
            "contact": [],
        }
    )
    assert (
        "onestop  files loaded 0, duplicate 0, rejected 0; rows read 0 = loaded 0 + quarantined 0"
        in text
    )
    assert "127" not in text and "DOES NOT RECONCILE" not in text
