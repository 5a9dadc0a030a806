"""End to end: the dbt project built on hand-made raw rows, exact figures.

A fresh database gets the loader's raw schema and fixtures/raw_rows.sql
(Ninh Hòa, first half of 2017); `dbt build` (seeds, models, data and unit
tests) must pass and the marts must hold the figures worked out by hand in
the fixture's comments. A second batch then checks that the incremental
models give what a full refresh gives.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.dbt_project.conftest import Warehouse, assert_built

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
PERSONAL = {"applicant_name", "address", "phone", "email", "comment"}


@pytest.fixture(scope="module")
def warehouse(empty_warehouse: Warehouse) -> Warehouse:
    empty_warehouse.run_sql(FIXTURES / "raw_rows.sql")
    assert_built(empty_warehouse.dbt("build", run_date="2017-07-14", unit_tests=True))
    return empty_warehouse


def test_every_dbt_unit_test_ran_and_passed(warehouse: Warehouse) -> None:
    """The one build of the suite that runs dbt's unit tests ran every one of them."""
    target = warehouse.work / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    defined = set(manifest["unit_tests"])
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(defined) >= 30
    assert ran == dict.fromkeys(defined, "pass")


LATENESS = """
select received_total, received_online, received_direct, received_postal, carried_over,
       resolved_total, resolved_early, resolved_on_time, resolved_late, in_progress_total,
       in_progress_on_time, in_progress_overdue, withdrawn_or_refused, late_total,
       late_rate::text as late_rate, over_threshold, late_without_apology,
       received_outside_one_stop, commune_name, period_end, cut_off_date
from marts.commune_lateness
where commune_code = %(code)s and period_type = %(type)s and period_start = %(start)s
"""


def test_ninh_tay_first_half_of_2017(warehouse: Warehouse) -> None:
    (row,) = warehouse.rows(LATENESS, code="22534", type="half_year", start="2017-01-01")
    assert row == {
        "received_total": 5,
        "received_online": 2,
        "received_direct": 3,
        "received_postal": 0,
        "carried_over": 1,
        "resolved_total": 4,
        "resolved_early": 2,
        "resolved_on_time": 1,
        "resolved_late": 1,
        "in_progress_total": 1,
        "in_progress_on_time": 0,
        "in_progress_overdue": 1,
        "withdrawn_or_refused": 1,
        "late_total": 2,
        "late_rate": "40.00",
        "over_threshold": True,
        "late_without_apology": 1,
        "received_outside_one_stop": 1,
        "commune_name": "Xã Ninh Tây",
        "period_end": date(2017, 6, 30),
        "cut_off_date": date(2017, 6, 30),
    }


def test_current_period_is_cut_off_at_run_date(warehouse: Warehouse) -> None:
    (row,) = warehouse.rows(LATENESS, code="22534", type="month", start="2017-07-01")
    assert (str(row["period_end"]), str(row["cut_off_date"])) == ("2017-07-31", "2017-07-14")
    assert (row["received_total"], row["carried_over"], row["in_progress_total"]) == (2, 1, 3)
    assert (row["in_progress_overdue"], row["late_rate"]) == (1, "33.33")


def test_ninh_da_late_without_compliant_apology(warehouse: Warehouse) -> None:
    (row,) = warehouse.rows(LATENESS, code="22570", type="half_year", start="2017-01-01")
    assert (row["received_total"], row["withdrawn_or_refused"], row["resolved_total"]) == (5, 1, 4)
    assert (row["resolved_late"], row["late_rate"], row["late_without_apology"]) == (3, "75.00", 3)
    assert (row["received_online"], row["received_direct"], row["received_postal"]) == (1, 3, 1)


def test_a_2017_dossier_keeps_its_2017_unit(warehouse: Warehouse) -> None:
    (row,) = warehouse.rows(LATENESS, code="22606", type="half_year", start="2017-01-01")
    assert (row["commune_name"], row["received_postal"], row["resolved_on_time"]) == (
        "Xã Ninh Vân",
        1,
        1,
    )


def test_district_sums_and_every_commune_in_every_period(warehouse: Warehouse) -> None:
    (row,) = warehouse.rows(
        """select communes, received_total, resolved_total, in_progress_total, late_total,
                  late_rate::text as late_rate, communes_over_threshold, district_name
           from marts.district_lateness
           where district_code = '572' and period_type = 'half_year'
             and period_start = '2017-01-01'"""
    )
    assert row == {
        "communes": 27,
        "received_total": 11,
        "resolved_total": 9,
        "in_progress_total": 1,
        "late_total": 5,
        "late_rate": "50.00",
        "communes_over_threshold": 2,
        "district_name": "Thị xã Ninh Hòa",
    }
    counts = warehouse.rows(
        """select period_type, period_start, count(*) as communes
           from marts.commune_lateness where district_code = '572'
           group by period_type, period_start"""
    )
    assert len(counts) == 8 + 4 + 3 + 2  # Dec 2016 .. Jul 2017
    assert {c["communes"] for c in counts} == {27}


def test_quarantine_reasons(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        "select file_id, row_number, reasons from quarantine.onestop_rows order by 1, 2"
    )
    assert [(r["file_id"], r["row_number"], r["reasons"]) for r in rows] == [
        (1, 7, ["unparseable_date"]),
        (1, 8, ["unknown_unit_code"]),
        (1, 9, ["unknown_status"]),
        (1, 10, ["due_before_received"]),
        (1, 11, ["result_status_without_result_date"]),
        (1, 12, ["malformed_row"]),
        (2, 11, ["empty_dossier_code"]),
    ]
    survey = warehouse.rows(
        "select reason from quarantine.survey_rows order by file_id, row_number"
    )
    assert [r["reason"] for r in survey] == [
        "Năm 'năm 2016' does not parse",
        "Mã đơn vị '12345' not in the administrative-unit reference",
        "malformed row: expected 12 fields, got 2",
    ]


def test_every_row_is_loaded_or_quarantined(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        """select file_id, rows_read, rows_loaded, rows_quarantined
           from ops.file_reconciliation order by file_id"""
    )
    assert [tuple(r.values()) for r in rows] == [
        (1, 12, 6, 6),
        (2, 11, 10, 1),
        (3, 0, 0, 0),
        (4, 8, 6, 2),
        (5, 3, 2, 1),
    ]


def test_satisfaction_pooled_for_the_town(warehouse: Warehouse) -> None:
    (town,) = warehouse.rows(
        """select responses, satisfaction_index::text as idx, rating, target::text as target,
                  meets_target, reliable, communes_below_target, communes_by_rating
           from marts.district_satisfaction
           where district_code = '572' and survey_year = 2016 and agency_type = 'UBND'"""
    )
    assert town == {
        "responses": 5,
        "idx": "85.33",
        "rating": "Tốt",
        "target": "75",
        "meets_target": True,
        "reliable": False,
        "communes_below_target": 1,
        "communes_by_rating": {"Tốt": 2, "Trung bình": 1},
    }
    (ninh_tay,) = warehouse.rows(
        """select responses, satisfaction_index::text as idx, rating, idx_feedback::text as fb
           from marts.commune_satisfaction
           where commune_code = '22534' and survey_year = 2016 and agency_type = 'UBND'"""
    )
    assert ninh_tay == {"responses": 3, "idx": "66.67", "rating": "Trung bình", "fb": "0.00"}


def test_due_soon_list(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        """select dossier_code, due_status, working_days_late, working_days_to_due
           from marts.dossiers_due_soon order by dossier_code"""
    )
    assert [tuple(r.values()) for r in rows] == [
        ("HS-0004", "overdue", 21, None),
        ("HS-0008", "due_soon", 0, 2),
    ]


def test_no_personal_data_in_marts(warehouse: Warehouse) -> None:
    columns = warehouse.rows(
        """select table_name, column_name from information_schema.columns
           where table_schema = 'marts'"""
    )
    assert columns
    assert not [c for c in columns if c["column_name"] in PERSONAL]
    leaked = warehouse.rows(
        """select dossier_code from marts.fct_dossier as f
           where f::text ilike '%%example.invalid%%' or f::text like '%%0900%%'
              or f::text like '%%Người nộp%%' or f::text like '%%Địa chỉ mẫu%%'"""
    )
    assert leaked == []


def test_incremental_run_matches_a_full_refresh(warehouse: Warehouse) -> None:
    warehouse.run_sql(FIXTURES / "raw_rows_batch2.sql")
    assert_built(warehouse.dbt("build", run_date="2017-07-21"))
    snapshot = """
        select md5(string_agg(t::text, '|' order by t::text)) as digest from (
            select dossier_code, commune_key, status, done_date, resolution_status,
                   working_days_late, is_open_at_run_date, is_late_at_run_date,
                   last_batch_id
            from marts.fct_dossier) as t
        union all
        select md5(string_agg(t::text, '|' order by t::text)) from marts.commune_lateness as t
        union all
        select md5(string_agg(t::text, '|' order by t::text)) from (
            -- every column but computed_for_run_date, the run that wrote the row
            select dossier_code, commune_key, commune_code, procedure_code, procedure_name,
                   sector, channel, reception_place, status, received_at, due_at, result_at,
                   returned_at, apology_at, apology_due_at, updated_at, address_present,
                   phone_valid, email_valid, source_file_id, source_file_name,
                   source_row_number, valid_rows_seen, last_batch_id, last_arrival_at
            from intermediate.int_onestop__dossiers_current) as t
    """
    incremental = warehouse.rows(snapshot)
    (hs4,) = warehouse.rows(
        """select resolution_status, working_days_late, is_open_at_run_date
           from marts.fct_dossier where dossier_code = 'HS-0004'"""
    )
    assert hs4 == {
        "resolution_status": "late",
        "working_days_late": 23,
        "is_open_at_run_date": False,
    }
    assert_built(warehouse.dbt("build", "--full-refresh", run_date="2017-07-21"))
    assert warehouse.rows(snapshot) == incremental
