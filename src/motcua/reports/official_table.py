"""The per-commune statistics table that official letters attach, as a formatted XLSX.

Sheet 1, ``Giải quyết hồ sơ``: the periodic report on resolving administrative
dossiers for each commune of a district, laid out like the official form
(two-level merged headers, a column-number row): received (total, online,
direct + postal, carried over, withdrawn), resolved (total, early, on time,
late), in progress (total, on time, overdue), late total, late rate and the
over-threshold flag, plus the letter's two compliance counts (late without a
compliant apology, received outside the one-stop desk). Communes over the
threshold are filled red. The district row is ``marts.district_lateness``
(late rate recomputed from the sums by the warehouse, not re-summed here).

Sheet 2, ``Chỉ số hài lòng``: the satisfaction table per commune for a survey
year and service (default UBND): responses, the five element indices, the
index, band, target, whether it is met and whether it is reliable, with the
district row from ``marts.district_satisfaction``.

Every number is a mart cell. Text cells starting with ``= + - @`` (or a tab /
carriage return) are written as literal text, never as formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua.reports import data
from motcua.reports.periods import Period, vn_date

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

LATENESS_SHEET = "Giải quyết hồ sơ"
SATISFACTION_SHEET = "Chỉ số hài lòng"
INDEX766_SHEET = "Chỉ số 766"

# Fixed layout, so that readers (and tests) can address cells.
HEADER_ROW = 6  # level-1 headers; level 2 on the next row, column numbers on the one after
FIRST_DATA_ROW = 9

OVER_FILL = "FFC7CE"  # Excel's "light red fill"
OVER_FONT = "9C0006"
TOTAL_FILL = "D9D9D9"
HEADER_FILL = "DDEBF7"
RATING_FILLS = {"Tốt": "C6EFCE", "Khá": "DDEBF7", "Trung bình": "FFEB9C", "Kém": "FFC7CE"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

RECEIVED = "Số hồ sơ nhận giải quyết"
RESOLVED = "Số hồ sơ đã giải quyết"
IN_PROGRESS = "Số hồ sơ đang giải quyết"
CHECKS = "Theo dõi khác"
ELEMENTS = "Chỉ số thành phần (%)"


@dataclass(frozen=True)
class Col:
    key: str  # mart column (or stt / flag pseudo-columns)
    group: str | None  # level-1 header spanning consecutive columns; None: merged vertically
    title: str
    width: float
    number_format: str = "#,##0"


def _commune_columns() -> list[Col]:
    """Row number, code and name: the first three columns of every sheet.

    One definition, so that a commune stands in the same cells on each sheet
    (readers address them: columns (1)–(3), the frozen panes from column 4) and
    the total row (``_write_total_row``) finds them by key on each.
    """
    return [
        Col("stt", None, "STT", 5),
        Col("commune_code", None, "Mã ĐVHC", 8),
        Col("commune_name", None, "Đơn vị", 26),
    ]


def lateness_columns(threshold: float) -> list[Col]:
    pct = data.pct_label(threshold)
    return [
        *_commune_columns(),
        Col("received_total", RECEIVED, "Tổng số tiếp nhận trong kỳ", 10),
        Col("received_online", RECEIVED, "Trực tuyến", 9),
        Col("received_direct_postal", RECEIVED, "Trực tiếp, dịch vụ bưu chính công ích", 12),
        Col("carried_over", RECEIVED, "Kỳ trước chuyển qua", 9),
        Col("withdrawn_or_refused", RECEIVED, "Rút, từ chối, dừng xử lý", 10),
        Col("resolved_total", RESOLVED, "Tổng số", 8),
        Col("resolved_early", RESOLVED, "Trả trước hạn", 8),
        Col("resolved_on_time", RESOLVED, "Trả đúng hạn", 8),
        Col("resolved_late", RESOLVED, "Trả quá hạn", 8),
        Col("in_progress_total", IN_PROGRESS, "Tổng số", 8),
        Col("in_progress_on_time", IN_PROGRESS, "Chưa đến hạn", 9),
        Col("in_progress_overdue", IN_PROGRESS, "Quá hạn", 8),
        Col("late_total", None, "Tổng số hồ sơ trễ hạn", 9),
        Col("late_rate", None, "Tỷ lệ trễ hạn (%)", 9, "0.00"),
        Col("flag", None, f"Trễ hạn trên {pct}%", 10, '0" đơn vị"'),
        Col("late_without_apology", CHECKS, "Trễ hạn không có thư xin lỗi hợp lệ", 11),
        Col("received_outside_one_stop", CHECKS, "Tiếp nhận ngoài Bộ phận một cửa", 11),
    ]


def satisfaction_columns(min_responses: int) -> list[Col]:
    return [
        *_commune_columns(),
        Col("responses", None, "Số phiếu khảo sát", 9),
        Col("idx_access", ELEMENTS, "Tiếp cận dịch vụ", 10, "0.00"),
        Col("idx_procedure", ELEMENTS, "Thủ tục hành chính", 10, "0.00"),
        Col("idx_staff", ELEMENTS, "Công chức", 10, "0.00"),
        Col("idx_result", ELEMENTS, "Kết quả", 10, "0.00"),
        Col("idx_feedback", ELEMENTS, "Góp ý, phản ánh", 10, "0.00"),
        Col("satisfaction_index", None, "Chỉ số hài lòng (%)", 10, "0.00"),
        Col("rating", None, "Xếp loại", 11),
        Col("target", None, "Mục tiêu (%)", 9, "General"),
        Col("meets_target", None, "Đạt mục tiêu", 9),
        Col("reliable", None, f"Đủ tin cậy (≥ {min_responses} phiếu)", 10),
    ]


def index766_columns() -> list[Col]:
    points = "Điểm theo nhóm chỉ số (tính được từ hồ sơ)"
    return [
        *_commune_columns(),
        Col("progress_rate", None, "Tỷ lệ đúng hạn (%)", 10, "0.00"),
        Col("points_progress", points, "Tiến độ giải quyết (20)", 11, "0.00"),
        Col("points_online_payment", points, "Thanh toán trực tuyến (6/10)", 11, "0.00"),
        Col("points_satisfaction", points, "Mức độ hài lòng (6/18)", 11, "0.00"),
        Col("points_digitisation", points, "Số hóa hồ sơ (10/22)", 11, "0.00"),
        Col("points_total", None, "Tổng điểm", 9, "0.00"),
        Col("max_points_computable", None, "Điểm tối đa tính được", 9, "0.##"),
        Col("rank_in_province", None, "Xếp hạng trong tỉnh", 9),
        Col("points_change", None, "Tăng/giảm so với kỳ trước", 10, "+0.00;-0.00;0.00"),
    ]


# ---------------------------------------------------------------- cell helpers


def put(ws: Worksheet, row: int, col: int, value: Any, number_format: str | None = None) -> Any:
    """Write one cell; a string that Excel would read as a formula stays literal text."""
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"  # openpyxl typed it "f"; store it as an inline string
        cell.quotePrefix = True  # and keep it text if the user edits the cell in Excel
    elif number_format and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        cell.number_format = number_format
    return cell


def _unit_kinds(names: list[str]) -> str:
    """XÃ, PHƯỜNG[, THỊ TRẤN] as the communes of the table are called."""
    kinds = ["XÃ", "PHƯỜNG"]
    if any(n.startswith("Thị trấn") for n in names):
        kinds.append("THỊ TRẤN")
    if any(n.startswith("Đặc khu") for n in names):
        kinds.append("ĐẶC KHU")
    return ", ".join(kinds)


def _style_sheet_frame(ws: Worksheet, cols: list[Col], title_rows: list[tuple[str, bool]]) -> None:
    """Organisation line, title rows, both header rows and the column-number row."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    last = len(cols)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for i, (text, bold) in enumerate(title_rows, start=1):
        if not text:
            continue
        put(ws, i, 1, text)
        c = ws.cell(row=i, column=1)
        if i == 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=min(last, 6))
            c.font = Font(bold=True, size=11)
            c.alignment = Alignment(horizontal="center")
        else:
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=last)
            c.font = Font(bold=bold, italic=not bold, size=13 if bold else 11)
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    top, sub, num = HEADER_ROW, HEADER_ROW + 1, HEADER_ROW + 2
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    i = 0
    while i < last:
        col = cols[i]
        c1 = i + 1
        if col.group is None:
            put(ws, top, c1, col.title)
            ws.merge_cells(start_row=top, start_column=c1, end_row=sub, end_column=c1)
            i += 1
        else:
            j = i
            while j < last and cols[j].group == col.group:
                put(ws, sub, j + 1, cols[j].title)
                j += 1
            put(ws, top, c1, col.group)
            if j - i > 1:
                ws.merge_cells(start_row=top, start_column=c1, end_row=top, end_column=j)
            i = j
    for c in range(1, last + 1):
        put(ws, num, c, f"({c})")
        for r in (top, sub, num):
            cell = ws.cell(row=r, column=c)
            cell.alignment = center
            cell.border = border
            cell.fill = fill
            cell.font = Font(bold=r != num, italic=r == num, size=10 if r != num else 9)
        ws.column_dimensions[get_column_letter(c)].width = cols[c - 1].width
    ws.row_dimensions[top].height = 30
    ws.row_dimensions[sub].height = 64
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=4)
    ws.print_title_rows = f"{top}:{num}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True


def _style_data_row(
    ws: Worksheet, row: int, cols: list[Col], fill: str | None, bold: bool = False
) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, col in enumerate(cols, start=1):
        cell = ws.cell(row=row, column=c)
        cell.border = border
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        cell.font = Font(bold=bold, color=OVER_FONT if fill == OVER_FILL else None)
        if col.key == "commune_name":
            cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        elif col.key in ("stt", "commune_code", "flag", "rating", "meets_target", "reliable"):
            cell.alignment = Alignment(horizontal="center", vertical="center")
        else:
            cell.alignment = Alignment(horizontal="right", vertical="center")


def _write_total_row(
    ws: Worksheet,
    row: int,
    cols: list[Col],
    total: dict[str, Any],
    label: str,
    value: Callable[[str], Any],
) -> None:
    """The area's row under its communes: no row number, the area's code and ``label`` +
    its name in the commune columns, ``value(key)`` in the others, grey and bold.

    The lateness and satisfaction sheets close their tables with this same row (the
    marts' area total, never a sum made here); one writer keeps the two alike.
    """
    for c, col in enumerate(cols, start=1):
        if col.key == "stt":
            cell: Any = None
        elif col.key == "commune_code":
            cell = total["district_code"]
        elif col.key == "commune_name":
            cell = f"{label} {total['district_name']}"
        else:
            cell = value(col.key)
        put(ws, row, c, cell, col.number_format)
    _style_data_row(ws, row, cols, TOTAL_FILL, bold=True)


def _notes(ws: Worksheet, row: int, last_col: int, lines: list[str]) -> int:
    from openpyxl.styles import Alignment, Font

    for text in lines:
        put(ws, row, 1, text)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
        cell = ws.cell(row=row, column=1)
        cell.font = Font(italic=True, size=10)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * max(1, len(text) // 160 + 1)
        row += 1
    return row


# ---------------------------------------------------------------- sheet 1


def write_lateness_sheet(ws: Worksheet, lt: data.Lateness) -> dict[str, Any]:
    threshold = data.late_threshold_pct()
    cols = lateness_columns(threshold)
    names = [r["commune_name"] for r in lt.communes]
    total = lt.total
    cut_off: date = total["cut_off_date"]
    title_rows = [
        (f"UBND {lt.district.name.upper()}", True),
        ("", False),
        (
            f"BẢNG SỐ LIỆU THỐNG KÊ TÌNH HÌNH GIẢI QUYẾT HỒ SƠ CỦA UBND CÁC {_unit_kinds(names)}",
            True,
        ),
        (f"{lt.period.range_vi} ({lt.period.label_vi})", False),
        (
            f"(Số liệu tính đến ngày {vn_date(cut_off)}: kỳ báo cáo chưa kết thúc)"
            if cut_off < lt.period.end
            else "",
            False,
        ),
    ]
    _style_sheet_frame(ws, cols, title_rows)

    row = FIRST_DATA_ROW
    for stt, r in enumerate(lt.communes, start=1):
        for c, col in enumerate(cols, start=1):
            if col.key == "stt":
                value: Any = stt
            elif col.key == "flag":
                value = "x" if r["over_threshold"] else None
            else:
                value = r[col.key]
            put(ws, row, c, value, col.number_format)
        _style_data_row(ws, row, cols, OVER_FILL if r["over_threshold"] else None)
        row += 1

    total_row = row
    _write_total_row(
        ws,
        total_row,
        cols,
        total,
        "Tổng cộng",
        lambda key: total["communes_over_threshold"] if key == "flag" else total[key],
    )
    if total["over_threshold"]:
        from openpyxl.styles import Font

        rate_col = next(i for i, c in enumerate(cols, start=1) if c.key == "late_rate")
        ws.cell(row=total_row, column=rate_col).font = Font(bold=True, color=OVER_FONT)

    over = [r["commune_name"] for r in lt.communes if r["over_threshold"]]
    pct = data.pct_label(threshold)
    notes = [
        f"Số liệu tính đến ngày {vn_date(cut_off)}.",
        "Tỷ lệ trễ hạn (%) = (số hồ sơ trả quá hạn + số hồ sơ đang giải quyết quá hạn) × 100 "
        "/ (số hồ sơ đã giải quyết + số hồ sơ đang giải quyết). Hồ sơ rút, từ chối tiếp nhận, "
        "dừng xử lý không tính vào các cột (9)–(17).",
        f"Các đơn vị tô màu có tỷ lệ trễ hạn trên {pct}%: "
        + (f"{len(over)} đơn vị ({', '.join(over)})." if over else "không có."),
        f"Dòng tổng cộng: số liệu toàn {total['district_name']} do kho dữ liệu tổng hợp "
        "(tỷ lệ tính trên tổng số hồ sơ, không phải trung bình tỷ lệ các đơn vị); "
        "cột (18) là số đơn vị trễ hạn trên ngưỡng.",
    ]
    if total["received_unknown_channel"]:
        notes.append(
            f"Có {total['received_unknown_channel']} hồ sơ không rõ kênh nộp: có trong cột (4), "
            "không có trong cột (5)–(6)."
        )
    notes.append(
        "Nguồn: phần mềm một cửa điện tử, kho dữ liệu Một cửa Analytics "
        "(marts.commune_lateness, marts.district_lateness)."
    )
    _notes(ws, total_row + 2, len(cols), notes)
    return {
        "communes": len(lt.communes),
        "total_row": total_row,
        "over_threshold": over,
        "late_rate": total["late_rate"],
        "communes_over_threshold": total["communes_over_threshold"],
        "cut_off_date": cut_off.isoformat(),
    }


# ---------------------------------------------------------------- sheet 2

AGENCY_TITLES = {
    "UBND": "UBND CÁC {kinds}",
    "Trạm y tế": "TRẠM Y TẾ CÁC {kinds}",
    "Trường học": "CÁC TRƯỜNG HỌC TRÊN ĐỊA BÀN CÁC {kinds}",
}


def write_satisfaction_sheet(ws: Worksheet, sat: data.Satisfaction) -> dict[str, Any]:
    min_responses = data.min_reliable_responses()
    cols = satisfaction_columns(min_responses)
    total = sat.total
    kinds = _unit_kinds([r["commune_name"] for r in sat.communes])
    target = total["target"]
    subtitle = f"Năm {sat.year}"
    if target is not None:
        subtitle += f" (mục tiêu: {data.pct_label(float(target))}%)"
    title_rows = [
        (f"UBND {sat.district.name.upper()}", True),
        ("", False),
        (
            "KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG CỦA TỔ CHỨC, CÔNG DÂN ĐỐI VỚI SỰ PHỤC VỤ CỦA "
            + AGENCY_TITLES[sat.agency_type].format(kinds=kinds),
            True,
        ),
        (subtitle, False),
        ("", False),
    ]
    _style_sheet_frame(ws, cols, title_rows)

    def cell_value(r: dict[str, Any], key: str) -> Any:
        v = r[key]
        if key == "meets_target":
            return None if v is None else ("Đạt" if v else "Chưa đạt")
        if key == "reliable":
            return None if v is None else ("Có" if v else "Không")
        return v

    def colour(row: int, r: dict[str, Any]) -> None:
        from openpyxl.styles import Font, PatternFill

        for c, col in enumerate(cols, start=1):
            if col.key == "rating" and r["rating"] in RATING_FILLS:
                ws.cell(row=row, column=c).fill = PatternFill(
                    "solid", fgColor=RATING_FILLS[r["rating"]]
                )
            if col.key == "meets_target" and r["meets_target"] is False:
                ws.cell(row=row, column=c).font = Font(bold=True, color=OVER_FONT)

    row = FIRST_DATA_ROW
    for stt, r in enumerate(sat.communes, start=1):
        for c, col in enumerate(cols, start=1):
            value = stt if col.key == "stt" else cell_value(r, col.key)
            put(ws, row, c, value, col.number_format)
        _style_data_row(ws, row, cols, None)
        colour(row, r)
        row += 1

    total_row = row
    _write_total_row(ws, total_row, cols, total, "Chung toàn", lambda key: cell_value(total, key))
    colour(total_row, total)

    by_rating = total.get("communes_by_rating") or {}
    bands = [b for b in RATING_FILLS if b in by_rating]
    low = [r["commune_name"] for r in sat.communes if r["rating"] in ("Trung bình", "Kém")]
    notes = [
        "Chỉ số hài lòng = trung bình cộng các chỉ số thành phần; chỉ số thành phần = số ý kiến "
        "hài lòng và rất hài lòng × 100 / số ý kiến hợp lệ. Chỉ số chung toàn "
        f"{total['district_name']} tính trên toàn bộ phiếu của các đơn vị (không phải trung bình "
        "chỉ số các đơn vị).",
        f"Số đơn vị chưa đạt mục tiêu: {total['communes_below_target']}/"
        f"{total['communes_rated']}. Xếp loại: "
        + (", ".join(f"{b} {by_rating[b]}" for b in bands) or "không có")
        + ".",
        "Đơn vị xếp loại Trung bình, Kém: " + (", ".join(low) if low else "không có") + ".",
        "Nguồn: kho dữ liệu Một cửa Analytics "
        "(marts.commune_satisfaction, marts.district_satisfaction).",
    ]
    _notes(ws, total_row + 2, len(cols), notes)
    return {
        "year": sat.year,
        "agency_type": sat.agency_type,
        "communes": len(sat.communes),
        "satisfaction_index": total["satisfaction_index"],
        "target": total["target"],
        "rating": total["rating"],
    }


def write_index766_sheet(
    ws: Worksheet, district: data.District, period: Period, communes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The 766 scorecard of the period per commune, as the marts computed it (best rank first)."""
    cols = index766_columns()
    title_rows = [
        (f"UBND {district.name.upper()}", True),
        ("", False),
        (
            "ĐIỂM BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP (QUYẾT ĐỊNH 766/QĐ-TTg) CỦA "
            f"UBND CÁC {_unit_kinds([r['commune_name'] for r in communes])}",
            True,
        ),
        (period.label_vi, False),
        ("", False),
    ]
    _style_sheet_frame(ws, cols, title_rows)
    row = FIRST_DATA_ROW
    for stt, r in enumerate(communes, start=1):
        for c, col in enumerate(cols, start=1):
            put(ws, row, c, stt if col.key == "stt" else r[col.key], col.number_format)
        _style_data_row(ws, row, cols, None)
        row += 1
    notes = [
        "Điểm do kho dữ liệu tự tính từ hồ sơ một cửa theo công thức của Cổng Dịch vụ công "
        "quốc gia (docs/index766.md); điểm chính thức là điểm Cổng công bố. Các chỉ số hồ sơ "
        "không thể hiện (công khai, minh bạch; phản ánh, kiến nghị; một phần số hóa và thanh "
        "toán) không tính: xem marts.commune_index_766.",
        "Xếp hạng theo tổng điểm trong tỉnh; bằng điểm thì cùng hạng.",
        "Nguồn: kho dữ liệu Một cửa Analytics "
        "(marts.commune_scorecard_766, marts.commune_index_766).",
    ]
    _notes(ws, row + 1, len(cols), notes)
    ranked = [r for r in communes if r["rank_in_province"] is not None]
    return {"communes": len(communes), "ranked": len(ranked)}


# ---------------------------------------------------------------- workbook


def build_workbook(
    conn: psycopg.Connection,
    period: Period,
    district: str | None = None,
    year: int | None = None,
    agency: str = "UBND",
    province: str | None = None,
    basis: str = "received",
) -> tuple[Workbook, dict[str, Any]]:
    """The sheets (lateness, satisfaction, 766 index) for one district (or province:
    ``province``, ``MOTCUA_PROVINCE``), period and survey year (default: the latest survey
    year up to the period's year that has responses); ``basis`` ``received`` or
    ``current`` (today's units)."""
    from openpyxl import Workbook

    unit = data.resolve_area(conn, district, province, basis)
    lt = data.lateness(conn, unit, period)
    if year is None:
        year = data.latest_survey_year(conn, unit, period.start.year, agency)
    wb = Workbook()
    ws = wb.active
    ws.title = LATENESS_SHEET
    summary: dict[str, Any] = {
        "district_code": unit.code,
        "district_name": unit.name,
        "level": unit.level,
        "basis": unit.basis,
        "period": period.code,
        "lateness": write_lateness_sheet(ws, lt),
    }
    if year is not None:
        sat = data.satisfaction(conn, unit, year, agency)
        summary["satisfaction"] = write_satisfaction_sheet(wb.create_sheet(SATISFACTION_SHEET), sat)
    else:
        ws2 = wb.create_sheet(SATISFACTION_SHEET)
        put(ws2, 1, 1, f"Chưa có kết quả khảo sát ({agency}) đến năm {period.start.year}.")
        summary["satisfaction"] = None
    summary["index766"] = write_index766_sheet(
        wb.create_sheet(INDEX766_SHEET), unit, period, data.scorecard_766(conn, unit, period)
    )
    wb.properties.title = f"Tình hình giải quyết hồ sơ {period.label_vi} — {unit.name}"
    wb.properties.creator = "Một cửa Analytics"
    return wb, summary


def write_official_table(
    url: str,
    period: Period,
    out: Path,
    district: str | None = None,
    year: int | None = None,
    agency: str = "UBND",
    province: str | None = None,
    basis: str = "received",
) -> dict[str, Any]:
    """Build the workbook from the marts at ``url`` and save it to ``out``; return a summary."""
    out = Path(out)
    with data.connect(url) as conn:
        wb, summary = build_workbook(conn, period, district, year, agency, province, basis)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    wb.save(tmp)
    tmp.replace(out)
    summary["out"] = str(out)
    return summary
