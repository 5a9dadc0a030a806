"""A code names a unit only together with a date: resolution, quarantine, operators' units.

Hand-made rows of Ninh Hòa across the 1/7/2025 reform, loaded on 2026-03-02
(run date): 22552 was Xã Ninh Sim until 30/6/2025 and is Xã Tây Ninh Hòa
since; 22534 (Xã Ninh Tây) went into it and names no unit after the reform;
99999 and 88888 are codes the reference does not know. After the first build
an operator adds 99999 (a unit of today) and 88888 (absorbed in 2020 into
Xã Ninh Sim) to admin_units_local; the next build loads their quarantined
rows without the files being delivered again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from tests.dbt_project.conftest import Warehouse, assert_built

pytestmark = pytest.mark.slow

RUN_DATE = "2026-03-02"
LOADED = "2026-03-02 01:05+07"

# (file_id, row_number, dossier, code, received, due, result, status)
DOSSIERS = [
    (1, 1, "HS-A", "22552", "02/02/2026", "09/02/2026", "06/02/2026", "Đã có kết quả"),
    (1, 2, "HS-B", "22534", "03/02/2026", "10/02/2026", None, "Đang xử lý"),
    (1, 3, "HS-C", "22552", "04/03/2024", "11/03/2024", "13/03/2024", "Đã có kết quả"),
    (1, 4, "HS-D", "99999", "05/02/2026", "12/02/2026", None, "Đang xử lý"),
    (2, 1, "HS-E", "99999", "10/02/2026", "17/02/2026", None, "Đang xử lý"),
    (2, 2, "HS-F", "88888", "02/05/2019", "09/05/2019", "20/05/2019", "Đã có kết quả"),
]

# (row_number, response, code, year, day)
SURVEYS = [
    (1, "P-1", "22552", "2026", "10/02/2026"),
    (2, "P-2", "22534", "2026", "10/02/2026"),
    (3, "P-3", "22534", "2024", "10/10/2024"),
]

LOCAL_UNITS = """
insert into staging.admin_units_local
    (commune_code, commune_name, commune_type, district_code, district_name, province_code,
     province_name, valid_from, valid_to, successor_code, note)
values
    ('99999', 'Xã Thử Nghiệm', 'Xã', null, null, '56', 'Tỉnh Khánh Hòa', '2025-07-01', null,
     null, 'test'),
    ('88888', 'Xã Ninh Cũ', 'Xã', null, null, null, null, '2011-01-01', '2019-12-31',
     '22552', 'test: absorbed 2020-01-01')
"""


def _sql_text(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def raw_rows_sql() -> str:
    files = f"""
insert into raw.load_batches (batch_id, started_at, finished_at, run_date, inbox_dir)
overriding system value values (1, '{LOADED}', '{LOADED}', '{RUN_DATE}', '/inbox');
insert into raw.load_files
    (file_id, batch_id, source, file_name, sha256, file_format, rows_read, status, error,
     loaded_at)
overriding system value values
    (1, 1, 'onestop', 'hoso_20260301.csv', 'sha-1', 'csv-utf8', 4, 'loaded', null, '{LOADED}'),
    (2, 1, 'onestop', 'hoso_20260302.csv', 'sha-2', 'csv-utf8', 2, 'loaded', null, '{LOADED}'),
    (3, 1, 'survey', 'khaosat_2026.csv', 'sha-3', 'csv-utf8', 3, 'loaded', null, '{LOADED}');
"""
    dossiers = ",\n".join(
        "({f}, 1, 'hoso_2026030{f}.csv', {r}, '{loaded}', {d}, {u}, '1', 'Bộ phận một cửa',"
        " {rec}, {due}, {res}, null, {st}, null, null, 'Địa chỉ', '0905123456',"
        " 'a@example.invalid', {upd})".format(
            f=f,
            r=r,
            loaded=LOADED,
            d=_sql_text(d),
            u=_sql_text(u),
            rec=_sql_text(rec),
            due=_sql_text(due),
            res=_sql_text(res),
            st=_sql_text(st),
            upd=_sql_text((res or rec) + " 08:00:00"),
        )
        for f, r, d, u, rec, due, res, st in DOSSIERS
    )
    surveys = ",\n".join(
        f"(3, 1, 'khaosat_2026.csv', {r}, '{LOADED}', null, null, '{p}', '{y}', '{u}', 'UBND',"
        f" '{day}', '5', '4', '4', '4', '2', null, null)"
        for r, p, u, y, day in SURVEYS
    )
    return (
        files
        + """
insert into raw.onestop_rows
    (file_id, batch_id, file_name, row_number, loaded_at, dossier_code, unit_code, channel,
     reception_place, received_at, due_at, result_at, returned_at, status, apology_at,
     apology_due_at, address, phone, email, updated_at)
values
"""
        + dossiers
        + """;
insert into raw.survey_rows
    (file_id, batch_id, file_name, row_number, loaded_at, row_error, raw_record,
     response_id, survey_year, unit_code, agency, survey_date, ans_access, ans_procedure,
     ans_staff, ans_result, ans_feedback, dossier_code, comment)
values
"""
        + surveys
        + ";\n"
    )


@pytest.fixture(scope="module")
def first(empty_warehouse: Warehouse) -> dict:
    """The first build; returns what the tests compare once the operator added units."""
    wh = empty_warehouse
    with psycopg.connect(wh.url, autocommit=True) as conn:
        conn.execute(raw_rows_sql())
    assert_built(wh.dbt("build", run_date=RUN_DATE))
    return {
        "quarantine": wh.rows(
            "select dossier_code, reasons from quarantine.onestop_rows order by dossier_code"
        ),
        "survey_quarantine": wh.rows(
            "select response_id, reasons from quarantine.survey_rows order by response_id"
        ),
        "unknown": wh.rows(
            "select source, unit_code, quarantined_rows, first_date, last_date, files,"
            " file_names from ops.unknown_unit_codes order by source, unit_code"
        ),
        "dossiers": wh.rows(
            "select dossier_code, commune_key from marts.fct_dossier order by dossier_code"
        ),
    }


@pytest.fixture(scope="module")
def second(empty_warehouse: Warehouse, first: dict) -> Warehouse:
    """The operator's units, then the next night (the seed is not re-read from its file)."""
    with psycopg.connect(empty_warehouse.url, autocommit=True) as conn:
        conn.execute(LOCAL_UNITS)
    assert_built(empty_warehouse.dbt("build", "--exclude", "admin_units_local", run_date=RUN_DATE))
    return empty_warehouse


def test_a_code_resolves_to_the_unit_valid_on_the_received_date(first: dict) -> None:
    assert first["dossiers"] == [
        {"dossier_code": "HS-A", "commune_key": "22552-20250701"},  # Xã Tây Ninh Hòa
        {"dossier_code": "HS-C", "commune_key": "22552-20110101"},  # Xã Ninh Sim
    ]


def test_a_code_that_names_no_unit_on_the_date_is_quarantined(first: dict) -> None:
    assert [(r["dossier_code"], r["reasons"]) for r in first["quarantine"]] == [
        ("HS-B", ["unit_not_valid_on_received_date"]),
        ("HS-D", ["unknown_unit_code"]),
        ("HS-E", ["unknown_unit_code"]),
        ("HS-F", ["unknown_unit_code"]),
    ]
    assert [(r["response_id"], r["reasons"]) for r in first["survey_quarantine"]] == [
        ("P-2", ["unit_not_valid_on_survey_date"]),
    ]


def test_unknown_codes_are_listed_per_code_with_rows_dates_and_files(first: dict) -> None:
    assert [tuple(r.values()) for r in first["unknown"]] == [
        (
            "onestop",
            "22534",
            1,
            date(2026, 2, 3),
            date(2026, 2, 3),
            1,
            ["hoso_20260301.csv"],
        ),
        (
            "onestop",
            "88888",
            1,
            date(2019, 5, 2),
            date(2019, 5, 2),
            1,
            ["hoso_20260302.csv"],
        ),
        (
            "onestop",
            "99999",
            2,
            date(2026, 2, 5),
            date(2026, 2, 10),
            2,
            ["hoso_20260301.csv", "hoso_20260302.csv"],
        ),
        ("survey", "22534", 1, date(2026, 2, 10), date(2026, 2, 10), 1, ["khaosat_2026.csv"]),
    ]


def test_units_added_by_operators_load_their_quarantined_rows(second: Warehouse) -> None:
    dossiers = second.rows(
        "select dossier_code, commune_key from marts.fct_dossier order by dossier_code"
    )
    assert [(r["dossier_code"], r["commune_key"]) for r in dossiers] == [
        ("HS-A", "22552-20250701"),
        ("HS-C", "22552-20110101"),
        ("HS-D", "99999-20250701"),
        ("HS-E", "99999-20250701"),
        ("HS-F", "88888-20110101"),
    ]
    quarantined = second.rows("select dossier_code from quarantine.onestop_rows")
    assert [r["dossier_code"] for r in quarantined] == ["HS-B"]
    unknown = second.rows(
        "select source, unit_code, quarantined_rows from ops.unknown_unit_codes"
        " order by source, unit_code"
    )
    assert [tuple(r.values()) for r in unknown] == [("onestop", "22534", 1), ("survey", "22534", 1)]
    # the absorbed unit takes its successor's district and province
    (unit,) = second.rows(
        "select district_code, province_code, successor_commune_code, current_commune_name"
        " from marts.dim_commune where commune_key = '88888-20110101'"
    )
    assert tuple(unit.values()) == ("572", "56", "22552", "Xã Tây Ninh Hòa")


def test_todays_units_carry_their_predecessors_history(second: Warehouse) -> None:
    rows = second.rows(
        "select period_start, received_total, resolved_total, resolved_late, late_rate"
        " from marts.commune_lateness_current"
        " where commune_code = '22552' and period_type = 'year' order by period_start"
    )
    by_year = {r["period_start"].year: tuple(r.values())[1:] for r in rows}
    assert by_year[2019] == (1, 1, 1, Decimal("100.00"))  # HS-F, Xã Ninh Cũ
    assert by_year[2024] == (1, 1, 1, Decimal("100.00"))  # HS-C, Xã Ninh Sim
    assert by_year[2026] == (1, 1, 0, Decimal("0.00"))  # HS-A
    assert set(by_year) == set(range(2019, 2027))
    (name,) = second.rows(
        "select distinct commune_name, district_code from marts.commune_lateness_current"
        " where commune_code = '22552'"
    )
    assert tuple(name.values()) == ("Xã Tây Ninh Hòa", None)


def test_province_rollups_before_and_after_the_reform(second: Warehouse) -> None:
    rows = second.rows(
        "select province_code, province_name, period_start, received_total, late_total"
        " from marts.province_lateness where period_type = 'year' and received_total > 0"
        " order by period_start"
    )
    assert [tuple(r.values()) for r in rows] == [
        ("56", "Tỉnh Khánh Hòa", date(2019, 1, 1), 1, 1),
        ("56", "Tỉnh Khánh Hòa", date(2024, 1, 1), 1, 1),
        ("56", "Tỉnh Khánh Hòa", date(2026, 1, 1), 3, 2),  # HS-D, HS-E overdue
    ]
    districts = second.rows("select max(period_end) as last_end from marts.district_lateness")
    assert districts[0]["last_end"] == date(2025, 6, 30)
    satisfaction = second.rows(
        "select province_code, survey_year, responses from marts.province_satisfaction"
        " where agency_type = 'UBND' order by survey_year"
    )
    assert [tuple(r.values()) for r in satisfaction] == [("56", 2024, 1), ("56", 2026, 1)]
    district_years = second.rows(
        "select distinct survey_year from marts.district_satisfaction order by survey_year"
    )
    assert [r["survey_year"] for r in district_years] == [2024]
