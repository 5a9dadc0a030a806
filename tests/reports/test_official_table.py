"""The official per-commune table (XLSX) against the sample's known figures."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from motcua.reports import data, parse_period
from motcua.reports.official_table import (
    FIRST_DATA_ROW,
    INDEX766_SHEET,
    LATENESS_SHEET,
    OVER_FILL,
    SATISFACTION_SHEET,
    put,
    write_official_table,
)
from tests.reports.conftest import Built

pytestmark = pytest.mark.slow

openpyxl = pytest.importorskip("openpyxl")

# column letter -> mart column of commune_lateness (sheet 1)
LATENESS_CELLS = {
    "D": "received_total",
    "E": "received_online",
    "G": "carried_over",
    "H": "withdrawn_or_refused",
    "I": "resolved_total",
    "J": "resolved_early",
    "K": "resolved_on_time",
    "L": "resolved_late",
    "M": "in_progress_total",
    "N": "in_progress_on_time",
    "O": "in_progress_overdue",
    "P": "late_total",
    "Q": "late_rate",
    "S": "late_without_apology",
    "T": "received_outside_one_stop",
}
SATISFACTION_CELLS = {
    "D": "responses",
    "E": "idx_access",
    "F": "idx_procedure",
    "G": "idx_staff",
    "H": "idx_result",
    "I": "idx_feedback",
    "J": "satisfaction_index",
    "K": "rating",
    "L": "target",
}


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return Decimal(str(expected)) == Decimal(str(actual))
    return expected == actual


@pytest.fixture(scope="module")
def h1(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("official") / "bao-cao-2017-H1.xlsx"
    summary = write_official_table(built.url, parse_period("2017-H1"), out, year=2016)
    assert summary["out"] == str(out)
    return openpyxl.load_workbook(out)


def rows_by_name(ws: Any) -> dict[str, int]:
    found = {}
    row = FIRST_DATA_ROW
    while ws[f"A{row}"].value is not None:  # STT: blank on the total row
        found[ws[f"C{row}"].value] = row
        row += 1
    return found


def is_filled(ws: Any, row: int) -> bool:
    fill = ws[f"C{row}"].fill
    return fill.fill_type == "solid" and fill.fgColor.rgb.endswith(OVER_FILL)


def test_layout_title_and_merged_headers(h1: Any) -> None:
    assert h1.sheetnames == [LATENESS_SHEET, SATISFACTION_SHEET, INDEX766_SHEET]
    ws = h1[LATENESS_SHEET]
    assert ws["A1"].value == "UBND THỊ XÃ NINH HÒA"
    assert ws["A3"].value == (
        "BẢNG SỐ LIỆU THỐNG KÊ TÌNH HÌNH GIẢI QUYẾT HỒ SƠ CỦA UBND CÁC XÃ, PHƯỜNG"
    )
    assert ws["A4"].value == "Từ ngày 01/01/2017 đến ngày 30/06/2017 (6 tháng đầu năm 2017)"
    assert ws["A5"].value is None  # the half-year had ended by the run date
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {
        "D6:H6",
        "I6:L6",
        "M6:O6",
        "S6:T6",
        "A6:A7",
        "B6:B7",
        "C6:C7",
        "P6:P7",
        "Q6:Q7",
        "R6:R7",
        "A3:T3",
        "A4:T4",
    } <= merged
    assert ws["D6"].value == "Số hồ sơ nhận giải quyết"
    assert ws["I6"].value == "Số hồ sơ đã giải quyết"
    assert ws["M6"].value == "Số hồ sơ đang giải quyết"
    assert [ws[f"{c}7"].value for c in "DEFGHIJKLMNO"] == [
        "Tổng số tiếp nhận trong kỳ",
        "Trực tuyến",
        "Trực tiếp, dịch vụ bưu chính công ích",
        "Kỳ trước chuyển qua",
        "Rút, từ chối, dừng xử lý",
        "Tổng số",
        "Trả trước hạn",
        "Trả đúng hạn",
        "Trả quá hạn",
        "Tổng số",
        "Chưa đến hạn",
        "Quá hạn",
    ]
    assert (ws["Q6"].value, ws["R6"].value) == ("Tỷ lệ trễ hạn (%)", "Trễ hạn trên 10%")
    assert [ws.cell(row=8, column=c).value for c in (1, 2, 20)] == ["(1)", "(2)", "(20)"]
    assert ws.freeze_panes == "D9"
    # Vietnamese text intact and in NFC
    for text in (ws["A1"].value, ws["A3"].value, ws["D6"].value):
        assert unicodedata.is_normalized("NFC", text)


def test_every_commune_row_is_the_mart_row(built: Built, h1: Any) -> None:
    ws = h1[LATENESS_SHEET]
    expected = built.expected(
        "commune_lateness", period_type="half_year", period_start="2017-01-01"
    )
    assert len(expected) == 27
    rows = rows_by_name(ws)
    assert len(rows) == 27
    assert [ws[f"B{r}"].value for r in rows.values()] == sorted(e["commune_code"] for e in expected)
    assert [ws[f"A{r}"].value for r in rows.values()] == list(range(1, 28))
    wrong = []
    for cell in expected:
        row = rows[cell["commune_name"]]
        for col, key in LATENESS_CELLS.items():
            if not same(cell[key], ws[f"{col}{row}"].value):
                wrong.append((cell["commune_name"], key, cell[key], ws[f"{col}{row}"].value))
        direct_postal = cell["received_direct"] + cell["received_postal"]
        if ws[f"F{row}"].value != direct_postal:
            wrong.append(
                (cell["commune_name"], "direct+postal", direct_postal, ws[f"F{row}"].value)
            )
        flag = "x" if cell["over_threshold"] else None
        if ws[f"R{row}"].value != flag or is_filled(ws, row) != cell["over_threshold"]:
            wrong.append((cell["commune_name"], "flag", flag, ws[f"R{row}"].value))
    assert wrong == []


def test_the_letters_communes_are_highlighted(built: Built, h1: Any) -> None:
    ws = h1[LATENESS_SHEET]
    rows = rows_by_name(ws)
    da, hung = rows["Phường Ninh Đa"], rows["Xã Ninh Hưng"]
    assert ws[f"Q{da}"].value == 10.0 and ws[f"Q{da}"].number_format == "0.00"
    assert ws[f"R{da}"].value is None and not is_filled(ws, da)  # exactly 10 %: not over
    assert ws[f"Q{hung}"].value == 20.0 and ws[f"R{hung}"].value == "x" and is_filled(ws, hung)
    highlighted = {name for name, row in rows.items() if is_filled(ws, row)}
    assert highlighted == set(built.manifest["story"]["h1_2017"]["over_threshold_names"])
    assert len(highlighted) == 7


def test_total_row_comes_from_district_lateness(built: Built, h1: Any) -> None:
    ws = h1[LATENESS_SHEET]
    total = FIRST_DATA_ROW + 27
    (expected,) = built.expected(
        "district_lateness", period_type="half_year", period_start="2017-01-01"
    )
    assert ws[f"C{total}"].value == "Tổng cộng Thị xã Ninh Hòa"
    assert ws[f"B{total}"].value == "572"
    assert ws[f"Q{total}"].value == 7.61
    assert ws[f"R{total}"].value == 7 and ws[f"R{total}"].number_format == '0" đơn vị"'
    for col, key in LATENESS_CELLS.items():
        assert same(expected[key], ws[f"{col}{total}"].value), (key, ws[f"{col}{total}"].value)
    assert ws[f"C{total}"].font.bold
    notes = [ws[f"A{r}"].value or "" for r in range(total + 1, total + 10)]
    assert any("7 đơn vị (Xã Ninh Tây" in n for n in notes)
    assert "Số liệu tính đến ngày 30/06/2017." in notes


def test_satisfaction_sheet_for_2016(built: Built, h1: Any) -> None:
    ws = h1[SATISFACTION_SHEET]
    assert ws["A4"].value == "Năm 2016 (mục tiêu: 75%)"
    assert "E6:I6" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["E6"].value == "Chỉ số thành phần (%)"
    rows = rows_by_name(ws)
    expected = built.expected("commune_satisfaction", survey_year=2016, agency_type="UBND")
    assert len(rows) == len(expected) == 27
    wrong = []
    for cell in expected:
        row = rows[cell["commune_name"]]
        for col, key in SATISFACTION_CELLS.items():
            if not same(cell[key], ws[f"{col}{row}"].value):
                wrong.append((cell["commune_name"], key, cell[key], ws[f"{col}{row}"].value))
        if ws[f"M{row}"].value != ("Đạt" if cell["meets_target"] else "Chưa đạt"):
            wrong.append((cell["commune_name"], "meets_target", ws[f"M{row}"].value))
    assert wrong == []
    average = sorted(n for n, r in rows.items() if ws[f"K{r}"].value == "Trung bình")
    assert average == sorted(built.manifest["story"]["satisfaction_ubnd"]["2016"]["trung_binh"])
    total = FIRST_DATA_ROW + 27
    assert [ws[f"{c}{total}"].value for c in "CJKLM"] == [
        "Chung toàn Thị xã Ninh Hòa",
        72.12,
        "Khá",
        75,
        "Chưa đạt",
    ]


def test_default_survey_year_and_unfinished_period(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "nam-2017.xlsx"
    summary = write_official_table(built.url, parse_period("2017"), out)
    assert summary["satisfaction"]["year"] == 2017  # latest survey up to the period's year
    wb = openpyxl.load_workbook(out)
    ws = wb[LATENESS_SHEET]
    assert ws["A4"].value == "Từ ngày 01/01/2017 đến ngày 31/12/2017 (Năm 2017)"
    assert ws["A5"].value == "(Số liệu tính đến ngày 14/07/2017: kỳ báo cáo chưa kết thúc)"
    total = FIRST_DATA_ROW + 27
    assert wb[SATISFACTION_SHEET][f"J{total}"].value == 75.5


@pytest.mark.parametrize("text", ["2017-Q2", "2017-03", "2016"])
def test_any_period_of_the_marts(built: Built, tmp_path: Path, text: str) -> None:
    out = tmp_path / f"{text}.xlsx"
    summary = write_official_table(built.url, parse_period(text), out)
    assert summary["lateness"]["communes"] == 27
    ws = openpyxl.load_workbook(out)[LATENESS_SHEET]
    assert ws["A4"].value.startswith(parse_period(text).range_vi)


def test_period_outside_the_data_is_an_error(built: Built, tmp_path: Path) -> None:
    with pytest.raises(data.ReportError, match="no row for 572 2015"):
        write_official_table(built.url, parse_period("2015"), tmp_path / "x.xlsx")
    with pytest.raises(data.ReportError, match="district '999'"):
        write_official_table(built.url, parse_period("2017-H1"), tmp_path / "x.xlsx", "999")
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "=1"]
)
def test_formula_looking_text_is_written_as_text(tmp_path: Path, text: str) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    put(ws, 1, 1, text)
    put(ws, 2, 1, -2, "#,##0")  # numbers stay numbers
    wb.save(tmp_path / "f.xlsx")
    back = openpyxl.load_workbook(tmp_path / "f.xlsx").active
    assert back["A1"].value == text and back["A1"].data_type == "s"
    assert back["A1"].quotePrefix
    assert back["A2"].value == -2 and back["A2"].data_type == "n"
    with __import__("zipfile").ZipFile(tmp_path / "f.xlsx") as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_index766_sheet_is_the_scorecard_of_the_period(h1: Any, built: Built) -> None:
    """One row per commune, best rank first, every figure as marts.commune_scorecard_766."""
    expected = data.rows(
        data.connect(built.url),
        """select commune_code, points_progress, points_total, max_points_computable,
                  rank_in_province, points_change
           from marts.commune_scorecard_766
           where district_code = '572' and period_type = 'half_year'
             and period_start = '2017-01-01'
           order by rank_in_province nulls last, commune_code""",
    )
    ws = h1[INDEX766_SHEET]
    got = [
        [ws[f"{letter}{row}"].value for letter in "BEIJKL"]
        for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(expected))
    ]
    assert len(expected) == 27 and ws[f"A{FIRST_DATA_ROW + 27}"].value is None
    wanted = [[r[k] for k in r] for r in expected]
    assert all(
        same(e, g) for we, gr in zip(wanted, got, strict=True) for e, g in zip(we, gr, strict=True)
    )
    assert got[0][4] == 1
