"""The run's as-of date: MOTCUA_RUN_DATE reaches the SQL, a run_date var wins, no re-parse.

Without either, or with a malformed one, dbt stops with a message: no default date.

The nightly passes the date as an environment variable so that dbt's
partial parsing survives a new date each night (macro run_date).
"""

from __future__ import annotations

from pathlib import Path

from tests.dbt_project.conftest import Warehouse

PERIODS = "int_reporting__periods"


def _compiled(warehouse: Warehouse) -> str:
    path = (
        warehouse.work / "target" / "compiled" / "motcua" / "models" / "intermediate" / "reporting"
    )
    return (path / f"{PERIODS}.sql").read_text(encoding="utf-8")


def _dbt_log(warehouse: Warehouse) -> Path:
    return warehouse.work / "logs" / "dbt.log"


def test_the_environment_date_reaches_the_sql_and_a_var_wins(empty_warehouse: Warehouse) -> None:
    done = empty_warehouse.dbt("compile", "--select", PERIODS, run_date="2019-03-04")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "'2019-03-04'::date as run_date" in _compiled(empty_warehouse)

    done = empty_warehouse.dbt(
        "compile", "--select", PERIODS, "--vars", "{run_date: '2018-01-02'}", run_date="2019-03-04"
    )
    assert done.returncode == 0, done.stdout[-3000:]
    compiled = _compiled(empty_warehouse)
    assert "'2018-01-02'::date as run_date" in compiled and "2019-03-04" not in compiled


def test_without_a_run_date_the_build_stops_and_says_why(empty_warehouse: Warehouse) -> None:
    done = empty_warehouse.dbt("compile", "--select", PERIODS, run_date=None)
    assert done.returncode != 0
    assert "No run date: set the environment variable MOTCUA_RUN_DATE=YYYY-MM-DD" in done.stdout, (
        done.stdout[-3000:]
    )
    done = empty_warehouse.dbt("compile", "--select", PERIODS, run_date="14/07/2017")
    assert done.returncode != 0
    assert "The run date must be YYYY-MM-DD, got '14/07/2017'" in done.stdout, done.stdout[-3000:]
    # parsing needs no date
    assert empty_warehouse.dbt("parse", run_date=None).returncode == 0


def test_a_new_date_does_not_make_dbt_parse_again(empty_warehouse: Warehouse) -> None:
    assert empty_warehouse.dbt("parse", run_date="2017-12-29").returncode == 0
    _dbt_log(empty_warehouse).unlink()
    assert empty_warehouse.dbt("parse", run_date="2017-12-30").returncode == 0
    second = _dbt_log(empty_warehouse).read_text(encoding="utf-8")
    assert "Partial parsing enabled, no changes found, skipping parsing" in second, second[-3000:]
    assert "Partial parsing: updated file" not in second
