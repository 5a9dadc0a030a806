"""Values outside their vocabulary or range go to quarantine with a reason, exact figures.

fixtures/raw_rows.sql (the hand-made Ninh Hòa rows of test_dbt_build) plus
fixtures/raw_rows_out_of_range.sql: a dossier received in 1985 (before the
unit reference knows its unit), dates after the day their file was loaded,
a due date 54 years after reception, an unknown channel and reception place
(a date after 30/6/2025 also finds Xã Ninh Tây's code 22534 naming no unit),
a survey with an unknown or empty Cơ quan, Năm far from Ngày khảo sát, Năm
1900, answers written 05, ` 4 `, 3.0, 4,0. Every such row is quarantined
with its reason, none reaches a mart, and the period grid still starts at
the first valid dossier (December 2016), not in 1985.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.dbt_project.conftest import Warehouse, assert_built
from tests.dbt_project.test_dbt_build import FIXTURES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(empty_warehouse: Warehouse) -> Warehouse:
    empty_warehouse.run_sql(FIXTURES / "raw_rows.sql")
    empty_warehouse.run_sql(FIXTURES / "raw_rows_out_of_range.sql")
    assert_built(empty_warehouse.dbt("build", run_date="2017-07-14"))
    return empty_warehouse


def test_one_stop_rows_out_of_range_are_quarantined_with_their_reason(
    warehouse: Warehouse,
) -> None:
    rows = warehouse.rows(
        """select row_number, dossier_code, reasons, reason from quarantine.onestop_rows
           where file_id = 7 order by row_number"""
    )
    loaded = "more than 1 day after its file was loaded (2017-07-14)"
    assert [tuple(r.values()) for r in rows] == [
        (
            1,
            "HS-0901",
            ["received_before_unit_valid"],
            "Ngày tiếp nhận '01/03/1985' is before 2011-01-01, the first day on which"
            " the administrative-unit reference knows Mã đơn vị '22534'",
        ),
        (
            2,
            "HS-0902",
            ["unit_not_valid_on_received_date", "received_after_load"],
            # 22534 (Xã Ninh Tây) names no unit after 30/6/2025
            "Mã đơn vị '22534' names no unit of the administrative-unit reference on Ngày"
            f" tiếp nhận '01/03/2085 08:00'; Ngày tiếp nhận '01/03/2085 08:00' {loaded}",
        ),
        (3, "HS-0903", ["result_after_load"], f"Ngày có kết quả '09/03/2071' {loaded}"),
        (
            4,
            "HS-0904",
            ["due_too_far"],
            "Ngày hẹn trả '01/03/2071' more than 366 days after Ngày tiếp nhận",
        ),
        (5, "HS-0905", ["updated_after_load"], f"Cập nhật lúc '01/01/2099 10:00:00' {loaded}"),
        (6, "HS-0906", ["unknown_channel"], "unknown Kênh nộp 'Fax'"),
        (7, "HS-0907", ["unknown_reception_place"], "unknown Nơi tiếp nhận 'Nhà văn hóa thôn'"),
        (9, "HS-0910", ["apology_after_load"], f"Ngày xin lỗi '01/01/2090' {loaded}"),
        (
            10,
            "HS-0911",
            ["apology_due_too_far"],
            "Ngày hẹn trả lại '20/03/2071' more than 366 days after Ngày tiếp nhận",
        ),
        (11, "HS-0001", ["updated_after_load"], f"Cập nhật lúc '01/01/2099 00:00:00' {loaded}"),
    ]


def test_survey_rows_out_of_range_are_quarantined_with_their_reason(
    warehouse: Warehouse,
) -> None:
    rows = warehouse.rows(
        """select row_number, response_id, reasons, reason from quarantine.survey_rows
           where file_id = 8 order by row_number"""
    )
    after_load = "more than 1 day after its file was loaded (2017-07-14)"
    assert [tuple(r.values()) for r in rows] == [
        (
            1,
            "P-101",
            ["unknown_agency"],
            "Cơ quan 'Sở Tư pháp' is not UBND, Trạm y tế or Trường học",
        ),
        (2, "P-102", ["unknown_agency"], "Cơ quan empty: not UBND, Trạm y tế or Trường học"),
        (
            3,
            "P-103",
            ["survey_date_outside_year", "unit_not_valid_on_survey_date", "survey_date_after_load"],
            "Ngày khảo sát '15/10/2031' neither in Năm 2016 nor in the year after;"
            " Mã đơn vị '22534' names no unit of the administrative-unit reference on the"
            f" survey day 2031-10-15; Ngày khảo sát '15/10/2031' {after_load}",
        ),
        (
            4,
            "P-104",
            ["surveyed_before_unit_valid"],
            "survey day 1900-07-01 (1 July of Năm, no Ngày khảo sát) is before 2011-01-01,"
            " the first day on which the administrative-unit reference knows Mã đơn vị '22534'",
        ),
        (
            5,
            "P-105",
            ["unit_not_valid_on_survey_date", "survey_year_after_load", "survey_date_after_load"],
            "Mã đơn vị '22534' names no unit of the administrative-unit reference on the"
            " survey day 2031-10-15; Năm 2031 after its file was loaded (2017-07-14);"
            f" Ngày khảo sát '15/10/2031' {after_load}",
        ),
        (6, "P-106", ["unparseable_survey_date"], "Ngày khảo sát '32/10/2016' does not parse"),
        (
            8,
            "P-108",
            ["survey_date_outside_year"],
            "Ngày khảo sát '15/10/2015' neither in Năm 2016 nor in the year after",
        ),
    ]


def test_every_row_of_the_two_files_is_loaded_or_quarantined(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        """select file_id, rows_read, rows_loaded, rows_quarantined
           from ops.file_reconciliation where file_id in (7, 8) order by file_id"""
    )
    assert [tuple(r.values()) for r in rows] == [(7, 11, 1, 10), (8, 8, 1, 7)]


def test_the_periods_start_at_the_first_valid_dossier(warehouse: Warehouse) -> None:
    # as in test_dbt_build: December 2016 .. July 2017 is 8 months, 4 quarters,
    # 3 half-years and 2 years, for each of the 131 units of the reference valid then
    (lateness,) = warehouse.rows(
        """select count(*) as row_count, count(distinct commune_key) as communes,
                  count(distinct (period_type, period_start)) as periods
           from marts.commune_lateness"""
    )
    assert lateness == {"row_count": 131 * 17, "communes": 131, "periods": 17}
    first = warehouse.rows(
        """select period_type, min(period_start) as first_start, count(*) as row_count
           from marts.district_lateness group by period_type order by first_start"""
    )
    assert [tuple(r.values()) for r in first] == [
        ("year", date(2016, 1, 1), 9 * 2),
        ("half_year", date(2016, 7, 1), 9 * 3),
        ("quarter", date(2016, 10, 1), 9 * 4),
        ("month", date(2016, 12, 1), 9 * 8),
    ]
    (contacts,) = warehouse.rows(
        "select count(*) as row_count from marts.commune_contact_completeness"
    )
    assert contacts == {"row_count": 131 * 17}


def test_no_quarantined_dossier_reaches_the_marts(warehouse: Warehouse) -> None:
    codes = warehouse.rows(
        """select dossier_code from marts.fct_dossier
           where dossier_code like 'HS-09%%' order by dossier_code"""
    )
    assert [r["dossier_code"] for r in codes] == ["HS-0908"]
    # HS-0001 keeps its valid state: resolved early in January
    (hs1,) = warehouse.rows(
        "select status, resolution_status from marts.fct_dossier where dossier_code = 'HS-0001'"
    )
    assert hs1 == {"status": "Đã trả kết quả", "resolution_status": "early"}
    (ninh_tay,) = warehouse.rows(
        """select received_total, resolved_early, in_progress_total, late_rate::text as late_rate
           from marts.commune_lateness
           where commune_code = '22534' and period_type = 'half_year'
             and period_start = '2017-01-01'"""
    )
    assert ninh_tay == {
        "received_total": 5,
        "resolved_early": 2,
        "in_progress_total": 1,
        "late_rate": "40.00",
    }


def test_empty_channel_and_reception_place_are_counted_as_such(warehouse: Warehouse) -> None:
    (ninh_hiep,) = warehouse.rows(
        """select received_total, received_online, received_direct, received_postal,
                  received_unknown_channel, received_outside_one_stop, resolved_early
           from marts.commune_lateness
           where commune_code = '22528' and period_type = 'half_year'
             and period_start = '2017-01-01'"""
    )
    assert ninh_hiep == {
        "received_total": 1,
        "received_online": 0,
        "received_direct": 0,
        "received_postal": 0,
        "received_unknown_channel": 1,
        "received_outside_one_stop": 1,
        "resolved_early": 1,
    }


def test_answers_written_with_zeros_or_a_decimal_part_count(warehouse: Warehouse) -> None:
    # Ninh Đa, UBND 2016: P-004 (4, 5, 5, 4, 5) and P-107 (02, ' 4 ', 3.0, 4,0, 05)
    (ninh_da,) = warehouse.rows(
        """select responses, idx_access, idx_procedure, idx_staff, idx_result, idx_feedback,
                  satisfaction_index
           from marts.commune_satisfaction
           where commune_code = '22570' and survey_year = 2016 and agency_type = 'UBND'"""
    )
    assert ninh_da == {
        "responses": 2,
        "idx_access": Decimal("50.00"),
        "idx_procedure": Decimal("100.00"),
        "idx_staff": Decimal("50.00"),
        "idx_result": Decimal("100.00"),
        "idx_feedback": Decimal("100.00"),
        "satisfaction_index": Decimal("80.00"),
    }
    years = warehouse.rows(
        "select distinct survey_year, agency_type from marts.commune_satisfaction order by 1, 2"
    )
    assert [tuple(r.values()) for r in years] == [
        (2016, "Trường học"),
        (2016, "Trạm y tế"),
        (2016, "UBND"),
    ]
