"""Nightly deltas built incrementally give the marts a full refresh gives.

Generated data (the build benchmark's generator, small): a base export built
in full, then two nights, each a delta of new states of existing dossiers
(results, returns, corrected result dates, contact fixes, old and recent)
and new dossiers, built incrementally with the next run_date (the second
night crosses into a new year: new periods, moved cut-offs). A second
database gets the same files and `dbt build --full-refresh` each night; after
each night every table of schema marts must be equal, row for row, in both.
Left out: the columns that record when a row was computed or its file
loaded (motcua_dev.bench.RUN_BOUND_COLUMNS).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from motcua.ingest import loader
from motcua_dev.bench import marts_columns
from motcua_dev.generator.bench import write_bench, write_delta
from tests.conftest import create_database, drop_database
from tests.dbt_project.conftest import Warehouse, assert_built

pytestmark = pytest.mark.slow

NIGHTS = [
    # (run_date, delta day, seed); the first build's run_date is the base's horizon
    (date(2017, 12, 30), date(2017, 12, 30), 11),
    (date(2018, 1, 2), date(2018, 1, 2), 12),
]
BASE_RUN_DATE = date(2017, 12, 29)


def load(url: str, run_date: date, path: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        batch = loader.start_batch(conn, run_date, path.parent)
        outcome = loader.load_file(conn, batch, "onestop", path)
        loader.finish_batch(conn, batch)
    assert outcome.status == "loaded", outcome


def marts(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every marts table as its sorted rows (without the run-bound columns)."""
    out = {}
    with psycopg.connect(url) as conn:
        for table, columns in marts_columns(conn):
            select = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(f'select {select} from marts."{table}"').fetchall()
            out[table] = sorted(rows, key=repr)
    return out


def reconciliation(url: str) -> list[tuple[Any, ...]]:
    """ops.file_reconciliation in load order, without the load timestamps."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select file_name, status, rows_read, rows_in_raw, rows_loaded, rows_quarantined"
            " from ops.file_reconciliation order by file_id"
        ).fetchall()


def assert_same(incremental: dict, refreshed: dict) -> None:
    assert sorted(incremental) == sorted(refreshed)
    for table, rows in refreshed.items():
        assert len(incremental[table]) == len(rows), table
        extra = set(incremental[table]) - set(rows)
        missing = set(rows) - set(incremental[table])
        assert not extra and not missing, (table, sorted(extra)[:3], sorted(missing)[:3])


@dataclass
class Nights:
    incremental: Warehouse  # built once in full, then incrementally each night
    refreshed: Warehouse  # the same raw data, built with --full-refresh each night
    base: Path


@pytest.fixture(scope="module")
def nights(
    admin_url: str, empty_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Nights]:
    work = tmp_path_factory.mktemp("nights")
    url = create_database(admin_url, prefix="motcua_dbt_t")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            loader.ensure_raw_schema(conn)
        refreshed = Warehouse(url, work / "refreshed")
        base = work / "hoso_base.csv"
        write_bench(base, 10_000, seed=7, vary=True)
        for warehouse in (empty_warehouse, refreshed):
            load(warehouse.url, BASE_RUN_DATE, base)
        assert_built(empty_warehouse.dbt("build", run_date=BASE_RUN_DATE.isoformat()))
        yield Nights(empty_warehouse, refreshed, base)
    finally:
        drop_database(admin_url, url)


@pytest.mark.parametrize("night", range(len(NIGHTS)))
def test_incremental_night_equals_a_full_refresh(
    nights: Nights, tmp_path: Path, night: int
) -> None:
    run_date, day, seed = NIGHTS[night]
    delta = tmp_path / f"hoso_delta_{day:%Y%m%d}.csv"
    report = write_delta(nights.base, delta, 0.05, seed=seed, day=day)
    assert report["changed_dossiers"] > 300 and report["new_dossiers"] > 50
    for warehouse in (nights.incremental, nights.refreshed):
        load(warehouse.url, run_date, delta)

    assert_built(nights.incremental.dbt("build", run_date=run_date.isoformat()))
    assert_built(nights.refreshed.dbt("build", "--full-refresh", run_date=run_date.isoformat()))
    incremental, refreshed = marts(nights.incremental.url), marts(nights.refreshed.url)
    assert incremental["fct_dossier"] and incremental["commune_lateness"]
    assert_same(incremental, refreshed)
    # the incremental reconciliation counts each night's new file once, as a rebuild does
    reconciled = reconciliation(nights.incremental.url)
    assert [name for name, *_ in reconciled] == ["hoso_base.csv"] + [
        f"hoso_delta_{d:%Y%m%d}.csv" for _, d, _ in NIGHTS[: night + 1]
    ]
    assert reconciled == reconciliation(nights.refreshed.url)


UNLOGGED = [
    "intermediate.int_index766__procedure_durations",
    "intermediate.int_onestop__dossiers_current",
    "intermediate.int_onestop__rows_checked",
    "intermediate.int_reporting__commune_days",
    "intermediate.unlogged_builds",  # which of them were built since the last crash
]
REFUSED = "not built since the warehouse server last emptied its unlogged tables"


def refused_models(out: str) -> set[str]:
    return set(re.findall(r"Database Error in model (\w+)", out))


def test_a_crash_empties_the_intermediate_tables_and_the_next_night_rebuilds_them(
    nights: Nights,
) -> None:
    """Unlogged incremental tables: emptied by a crash, never published empty, rebuilt.

    Crash recovery resets every unlogged table to empty; TRUNCATE does the
    same here. A build of the marts, the quarantine and ops alone (as the
    nightly's publish group, or a retry, would run) then fails for every
    model built from them, naming the cause, and leaves them as they were;
    so it does after only int_onestop__rows_checked was rebuilt, and the
    check that valid rows have current dossiers fails. The whole
    night run again rebuilds them from raw as a full refresh does (new
    tables, their build records being gone), fct_dossier too with every
    dossier recomputed, and the marts equal a full refresh's.
    """
    warehouse, run_date = nights.incremental, str(NIGHTS[-1][0])
    persistence = warehouse.rows(
        """select c.oid::regclass::text as name, c.relpersistence as persistence
           from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
           where n.nspname in ('intermediate', 'marts', 'quarantine', 'ops')
             and c.relkind = 'r'
           order by name"""
    )
    unlogged = [r["name"] for r in persistence if r["persistence"] == "u"]
    assert unlogged == UNLOGGED
    assert len(persistence) > 30  # the rest are logged
    before, reconciled = marts(warehouse.url), reconciliation(warehouse.url)
    rebuilt_whole = [*UNLOGGED[:-1], "marts.fct_dossier"]
    tables = (
        "select oid::regclass::text as name, oid from pg_class"
        " where oid::regclass::text = any(%(names)s)"
    )
    oids = {r["name"]: r["oid"] for r in warehouse.rows(tables, names=rebuilt_whole)}
    # the nights before were incremental: rows of earlier runs are still there
    (earlier,) = warehouse.rows(
        "select count(*) as n from marts.fct_dossier where as_of_date < %(day)s", day=run_date
    )
    assert earlier["n"] > 0
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(unlogged)}")

    logged = "path:models/marts path:models/quarantine path:models/ops"
    published = warehouse.dbt("build", "--select", *logged.split(), run_date=run_date)
    out = published.stdout
    assert published.returncode == 1, out[-3000:]
    refused = refused_models(out)
    # the first models read from the emptied tables (the others downstream
    # are skipped); dim_commune and the survey marts read logged tables only
    assert {"fct_dossier", "commune_lateness", "onestop_rows", "file_reconciliation"} <= refused
    assert "dim_commune" not in refused and REFUSED in out, out[-3000:]
    assert marts(warehouse.url) == before and reconciliation(warehouse.url) == reconciled

    # one of them rebuilt is not enough for the models built from the others
    rebuilt = warehouse.dbt("run", "--select", "int_onestop__rows_checked", run_date=run_date)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    published = warehouse.dbt("build", "--select", "fct_dossier", run_date=run_date)
    assert refused_models(published.stdout) == {"fct_dossier"}, published.stdout[-3000:]
    assert f"intermediate.int_onestop__dossiers_current {REFUSED}" in published.stdout
    assert marts(warehouse.url) == before
    # valid rows again, no current dossier: the check on the emptied table fails
    empty = "assert_valid_rows_have_current_dossiers"
    checked = warehouse.dbt("test", "--select", empty, run_date=run_date)
    assert checked.returncode == 1 and f"FAIL 1 {empty}" in checked.stdout, checked.stdout[-3000:]

    assert_built(warehouse.dbt("build", run_date=run_date))
    # rebuilt as --full-refresh does (new tables), not row by row
    after = {r["name"]: r["oid"] for r in warehouse.rows(tables, names=rebuilt_whole)}
    assert sorted(after) == sorted(rebuilt_whole)
    assert all(after[name] != oids[name] for name in rebuilt_whole), (oids, after)
    assert_same(marts(warehouse.url), marts(nights.refreshed.url))
    assert reconciliation(warehouse.url) == reconciliation(nights.refreshed.url)
    # every dossier recomputed with the rebuilt current states
    (as_of,) = warehouse.rows(
        "select array_agg(distinct as_of_date) as days from marts.fct_dossier"
    )
    assert [str(day) for day in as_of["days"]] == [run_date]


def test_night_tests_check_the_rows_of_their_run(nights: Nights) -> None:
    """The data tests of the big incremental tables look at the rows their run wrote.

    A row without its quarantine reasons that an earlier night checked is out
    of tonight's scope (that night's tests saw it); the same row written by
    tonight's run fails the test. The row is removed afterwards.
    """
    last_night = NIGHTS[-1][0]
    warehouse = nights.incremental
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        conn.execute(
            "create temp table bad as select * from intermediate.int_onestop__rows_checked limit 1"
        )
        conn.execute(
            "update bad set row_number = -1, quarantine_reasons = null, checked_for_run_date = %s",
            (BASE_RUN_DATE,),
        )
        conn.execute("insert into intermediate.int_onestop__rows_checked select * from bad")
    try:
        reasons_test = "not_null_int_onestop__rows_checked_quarantine_reasons"
        passed = warehouse.dbt("test", "--select", f"{reasons_test}*", run_date=str(last_night))
        assert passed.returncode == 0 and "PASS=1" in passed.stdout, passed.stdout[-3000:]
        with psycopg.connect(warehouse.url, autocommit=True) as conn:
            conn.execute(
                "update intermediate.int_onestop__rows_checked"
                " set checked_for_run_date = %s where row_number = -1",
                (last_night,),
            )
        failed = warehouse.dbt("test", "--select", f"{reasons_test}*", run_date=str(last_night))
        assert failed.returncode == 1 and "FAIL 1 not_null" in failed.stdout, failed.stdout[-3000:]
    finally:
        with psycopg.connect(warehouse.url, autocommit=True) as conn:
            conn.execute("delete from intermediate.int_onestop__rows_checked where row_number = -1")


def test_key_without_its_unique_index_fails(nights: Nights) -> None:
    """unique_by_index passes on the built tables and fails once the index is gone."""
    warehouse, run_date = nights.incremental, str(NIGHTS[-1][0])
    select = "unique_by_index_int_onestop__dossiers_current*"
    passed = warehouse.dbt("test", "--select", select, run_date=run_date)
    assert passed.returncode == 0 and "PASS=1" in passed.stdout, passed.stdout[-3000:]
    (index,) = warehouse.rows(
        """select indexrelid::regclass::text as name from pg_index
           where indrelid = 'intermediate.int_onestop__dossiers_current'::regclass
             and indisunique"""
    )
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        conn.execute(f"drop index {index['name']}")
    failed = warehouse.dbt("test", "--select", select, run_date=run_date)
    assert failed.returncode == 1 and "FAIL 1 unique_by_index" in failed.stdout, failed.stdout[
        -3000:
    ]


def test_open_dossiers_and_ledger_must_agree(nights: Nights) -> None:
    """The per-dossier and the ledger count of open dossiers are checked against each other."""
    warehouse, run_date = nights.incremental, str(NIGHTS[-1][0])
    select = "assert_open_dossiers_match_the_ledger"
    passed = warehouse.dbt("test", "--select", select, run_date=run_date)
    assert passed.returncode == 0 and "PASS=1" in passed.stdout, passed.stdout[-3000:]
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        conn.execute(
            """update marts.fct_dossier set is_open_at_run_date = false
               where dossier_code = (select min(dossier_code) from marts.fct_dossier
                                     where is_open_at_run_date)"""
        )
    failed = warehouse.dbt("test", "--select", select, run_date=run_date)
    assert failed.returncode == 1 and f"FAIL 1 {select}" in failed.stdout, failed.stdout[-3000:]


def test_the_766_index_drops_the_periods_an_earlier_run_date_has_not_reached(
    nights: Nights,
) -> None:
    """A run for an earlier date leaves no 766 row of a period that date has not begun.

    The grid of commune × periods ends with the run date's periods; the
    index has all fifteen indicators of each, none of a later period. Run
    last: the warehouse is left as of that earlier date.
    """
    warehouse, earlier = nights.incremental, "2017-11-15"
    grid = "int_reporting__periods int_reporting__commune_periods int_index766__commune_periods"
    ran = warehouse.dbt("run", "--select", f"{grid} commune_index_766", run_date=earlier)
    assert ran.returncode == 0 and "PASS=4" in ran.stdout, ran.stdout[-3000:]
    (index,) = warehouse.rows(
        """select count(distinct (commune_key, period_type, period_start)) as periods,
                  max(period_start) as latest, count(*) as rows
           from marts.commune_index_766"""
    )
    (periods,) = warehouse.rows(
        "select count(*) as periods from intermediate.int_index766__commune_periods"
    )
    assert index["periods"] == periods["periods"] > 0
    assert str(index["latest"]) <= earlier and index["rows"] == 15 * periods["periods"]
