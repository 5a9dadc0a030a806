"""The public export (CSV with BOM + JSON) against the sample's known figures."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from motcua.reports import data
from motcua.reports.transparency import csv_value, write_table, write_transparency
from tests.reports import safety
from tests.reports.conftest import Built

pytestmark = pytest.mark.slow

PROVINCE_TABLES = (
    "late_rate_province",
    "satisfaction_province",
    "late_rate_today",
    "late_rate_province_today",
)
TABLES = (
    "late_rate",
    "late_rate_district",
    "satisfaction",
    "satisfaction_district",
    "progress_766",
)
# Aggregates only: any other column is a review item (personal data never leaves the marts).
ALLOWED_COLUMNS = {
    "district_code", "district_name", "commune_code", "commune_name", "period_type",
    "period_start", "period_end", "cut_off_date", "communes", "resolved_total",
    "in_progress_total", "late_total", "late_rate", "over_threshold", "communes_over_threshold",
    "survey_year", "agency_type", "responses", "satisfaction_index", "rating", "target",
    "meets_target", "reliable", "communes_rated", "communes_below_target", "province_code",
    "province_name",
    "on_time", "resolved_and_in_progress", "on_time_rate", "progress_points",
    "progress_max_points", "points_766", "max_points_766", "rank_in_province",
}  # fmt: skip


@pytest.fixture(scope="module")
def export(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("transparency")
    summary = write_transparency(built.url, out)
    assert (summary["districts"], summary["provinces"]) == (["572"], ["56"])
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_files_encodings_and_columns(export: Path) -> None:
    assert sorted(p.name for p in export.iterdir()) == sorted(
        f"{t}.{ext}" for t in TABLES + PROVINCE_TABLES for ext in ("csv", "json")
    )
    for table in TABLES + PROVINCE_TABLES:
        raw = (export / f"{table}.csv").read_bytes()
        assert b"\r\n" in raw
        rows = read_csv(export / f"{table}.csv")
        records = json.loads((export / f"{table}.json").read_text(encoding="utf-8"))
        assert len(rows) == len(records) > 0
        assert set(rows[0]) <= ALLOWED_COLUMNS, set(rows[0]) - ALLOWED_COLUMNS
        assert list(rows[0]) == list(records[0])  # same columns, same order
        text = (export / f"{table}.json").read_text(encoding="utf-8")
        place = "Thị xã Ninh Hòa" if table in TABLES else "Tỉnh Khánh Hòa"
        assert place in text and "\\u" not in text  # ensure_ascii=False


def test_late_rate_rows(built: Built, export: Path) -> None:
    rows = read_csv(export / "late_rate.csv")
    assert list(rows[0]) == [
        "district_code", "district_name", "commune_code", "commune_name", "period_type",
        "period_start", "period_end", "cut_off_date", "resolved_total", "in_progress_total",
        "late_total", "late_rate", "over_threshold",
    ]  # fmt: skip
    h1 = [r for r in rows if r["period_type"] == "half_year" and r["period_start"] == "2017-01-01"]
    expected = {
        c["commune_code"]: c
        for c in built.expected("commune_lateness", period_type="half_year",
                                period_start="2017-01-01")
    }  # fmt: skip
    assert [r["commune_code"] for r in h1] == sorted(expected)
    for r in h1:
        e = expected[r["commune_code"]]
        assert Decimal(r["late_rate"]) == Decimal(str(e["late_rate"]))
        assert len(r["late_rate"].split(".")[1]) == 2  # as the mart holds it: 10.00
        assert r["over_threshold"] == ("true" if e["over_threshold"] else "false")
        assert r["late_total"] == str(e["late_total"])
    (da,) = [r for r in h1 if r["commune_name"] == "Phường Ninh Đa"]
    assert list(da.values()) == [
        "572", "Thị xã Ninh Hòa", "22570", "Phường Ninh Đa", "half_year", "2017-01-01",
        "2017-06-30", "2017-06-30", "64", "6", "7", "10.00", "false",
    ]  # fmt: skip
    assert {r["commune_name"] for r in h1 if r["over_threshold"] == "true"} == set(
        built.manifest["story"]["h1_2017"]["over_threshold_names"]
    )
    # 27 communes x every month, quarter, half-year and year from Jan 2016 to Jul 2017
    assert len(rows) == 27 * (19 + 7 + 4 + 2)
    order = ["year", "half_year", "quarter", "month"]
    keys = [(order.index(r["period_type"]), r["period_start"], r["commune_code"]) for r in rows]
    assert keys == sorted(keys)
    # the unfinished periods say so
    july = [r for r in rows if r["period_type"] == "month" and r["period_start"] == "2017-07-01"]
    assert {(r["period_end"], r["cut_off_date"]) for r in july} == {("2017-07-31", "2017-07-14")}
    # json: typed values
    records = json.loads((export / "late_rate.json").read_text(encoding="utf-8"))
    (jda,) = [
        r for r in records
        if r["commune_code"] == "22570" and r["period_type"] == "half_year"
        and r["period_start"] == "2017-01-01"
    ]  # fmt: skip
    assert jda["late_rate"] == 10.0 and jda["over_threshold"] is False and jda["late_total"] == 7
    empty = [r for r in records if r["late_rate"] is None]
    assert all(r["over_threshold"] is False for r in empty)


def test_district_files(built: Built, export: Path) -> None:
    sat = (export / "satisfaction_district.csv").read_bytes().decode("utf-8-sig")
    assert sat == (
        "district_code,district_name,survey_year,agency_type,responses,satisfaction_index,rating,"
        "target,meets_target,reliable,communes_rated,communes_below_target\r\n"
        "572,Thị xã Ninh Hòa,2016,UBND,1989,72.12,Khá,75,false,true,27,21\r\n"
        "572,Thị xã Ninh Hòa,2017,UBND,1047,75.50,Khá,77,false,true,27,19\r\n"
    )
    records = json.loads((export / "satisfaction_district.json").read_text(encoding="utf-8"))
    assert records[0]["satisfaction_index"] == 72.12 and records[0]["target"] == 75
    assert records[0]["meets_target"] is False
    late = read_csv(export / "late_rate_district.csv")
    (h1,) = [
        r for r in late if r["period_type"] == "half_year" and r["period_start"] == "2017-01-01"
    ]
    assert (h1["late_rate"], h1["over_threshold"], h1["communes_over_threshold"]) == (
        "7.61", "false", "7"
    )  # fmt: skip


def test_satisfaction_rows(built: Built, export: Path) -> None:
    rows = read_csv(export / "satisfaction.csv")
    assert {r["agency_type"] for r in rows} == {"UBND"}
    for year in (2016, 2017):
        expected = {
            c["commune_code"]: c
            for c in built.expected("commune_satisfaction", survey_year=year, agency_type="UBND")
        }
        got = [r for r in rows if r["survey_year"] == str(year)]
        assert [r["commune_code"] for r in got] == sorted(expected)
        for r in got:
            e = expected[r["commune_code"]]
            assert Decimal(r["satisfaction_index"]) == Decimal(str(e["satisfaction_index"]))
            assert (r["rating"], r["target"], r["meets_target"], r["responses"]) == (
                e["rating"], str(e["target"]), str(e["meets_target"]).lower(), str(e["responses"])
            )  # fmt: skip
        story = built.manifest["story"]["satisfaction_ubnd"][str(year)]["trung_binh"]
        assert sorted(r["commune_name"] for r in got if r["rating"] == "Trung bình") == sorted(
            story
        )


def test_export_is_deterministic(built: Built, export: Path, tmp_path: Path) -> None:
    write_transparency(built.url, tmp_path, district="572")
    for p in export.iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


def test_csv_cells_cannot_become_formulas() -> None:
    assert csv_value("=1+1") == "'=1+1"
    assert csv_value("@SUM(A1)") == "'@SUM(A1)"
    assert csv_value("Xã Ninh Tây") == "Xã Ninh Tây"
    assert csv_value(Decimal("10.00")) == "10.00"
    assert (csv_value(None), csv_value(True), csv_value(False)) == ("", "true", "false")


def test_json_cannot_break_out_of_a_page_that_inlines_it(tmp_path: Path) -> None:
    """A portal that pastes the JSON into <script> must not get markup or line breaks out
    of a string: < > & and U+2028/U+2029 are written as \\u escapes, the values unchanged."""
    hostile = "</script><script>alert(1)</script> & Ninh Hòa\u2028\u2029"
    write_table(tmp_path, "t", [{"commune_name": hostile, "late_rate": Decimal("10.00")}],
                ["commune_name", "late_rate"])  # fmt: skip
    text = (tmp_path / "t.json").read_text(encoding="utf-8")
    assert safety.json_markup(tmp_path / "t.json") == []
    assert "\u2028" not in text and "\u2029" not in text
    assert "\\u003c/script\\u003e" in text and "Ninh Hòa" in text  # the rest stays readable
    assert json.loads(text) == [{"commune_name": hostile, "late_rate": 10}]
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert rows == [["commune_name", "late_rate"], [hostile, "10.00"]]


def test_province_tables_on_both_bases(export: Path) -> None:
    """Before the reform today's units are the units of the time: both bases agree."""
    province = read_csv(export / "late_rate_province.csv")
    today = read_csv(export / "late_rate_province_today.csv")
    district = read_csv(export / "late_rate_district.csv")

    def h1(rows: list[dict[str, str]]) -> dict[str, str]:
        (row,) = [
            r for r in rows if r["period_type"] == "half_year" and r["period_start"] == "2017-01-01"
        ]
        return row

    assert h1(province)["province_name"] == "Tỉnh Khánh Hòa"
    keys = ("late_rate", "late_total", "resolved_total", "communes_over_threshold")
    assert [h1(province)[k] for k in keys] == [h1(district)[k] for k in keys]
    assert [h1(today)[k] for k in keys] == [h1(province)[k] for k in keys]
    ninh_da = [
        r
        for r in read_csv(export / "late_rate_today.csv")
        if r["commune_code"] == "22570"
        and r["period_type"] == "half_year"
        and r["period_start"] == "2017-01-01"
    ]
    assert [(r["commune_name"], r["late_rate"], r["over_threshold"]) for r in ninh_da] == [
        ("Phường Ninh Đa", "10.00", "false")
    ]


def test_progress_766_is_the_index_of_the_marts(built: Built, export: Path) -> None:
    """Every commune × period once, the progress figures as commune_index_766 holds them."""
    rows = read_csv(export / "progress_766.csv")
    late = read_csv(export / "late_rate.csv")
    key = ("commune_code", "period_type", "period_start")
    assert sorted(tuple(r[k] for k in key) for r in rows) == sorted(
        tuple(r[k] for k in key) for r in late
    )
    marts = {
        (r["commune_code"], r["period_type"], r["period_start"].isoformat()): r
        for r in data.rows(
            data.connect(built.url),
            """select commune_code, period_type, period_start, rate, points
               from marts.commune_index_766 where indicator_code = 'progress_on_time'""",
        )
    }
    for r in rows:
        mart = marts[tuple(r[k] for k in key)]
        assert r["on_time_rate"] == ("" if mart["rate"] is None else str(mart["rate"]))
        assert r["progress_points"] == ("" if mart["points"] is None else str(mart["points"]))
