"""An independent reader of a generated inbox, written from docs/sources.md / docs/rules.md only.

Nothing here imports the generator: files are decoded the way the contract
describes (UTF-8 with or without BOM, else Windows-1258; XLSX first sheet;
NFC; headers matched by name), rows are judged with the quarantine rules,
and the docs/rules.md measures are recomputed from the latest state of each
dossier. Tests compare these numbers with the generator's manifest.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

ONESTOP = {
    "mã hồ sơ": "code",
    "mã đơn vị": "unit",
    "tên đơn vị": "unit_name",
    "mã thủ tục": "proc_code",
    "tên thủ tục": "proc_name",
    "lĩnh vực": "sector",
    "kênh nộp": "channel",
    "nơi tiếp nhận": "place",
    "ngày tiếp nhận": "received",
    "ngày hẹn trả": "due",
    "ngày có kết quả": "result",
    "ngày trả kết quả": "returned",
    "trạng thái": "status",
    "ngày xin lỗi": "apology",
    "ngày hẹn trả lại": "apology_due",
    "họ tên người nộp": "name",
    "địa chỉ": "address",
    "số điện thoại": "phone",
    "email": "email",
    "cập nhật lúc": "updated",
}
SURVEY = {
    "mã phiếu": "id",
    "năm": "year",
    "mã đơn vị": "unit",
    "cơ quan": "agency",
    "ngày khảo sát": "date",
    "tiếp cận dịch vụ": "access",
    "thủ tục hành chính": "procedure",
    "công chức": "staff",
    "kết quả": "result",
    "góp ý phản ánh": "feedback",
    "mã hồ sơ": "dossier",
    "ý kiến": "comment",
}
ELEMENTS = ("access", "procedure", "staff", "result", "feedback")
STATUSES = {
    "Đã tiếp nhận",
    "Đang xử lý",
    "Chờ bổ sung",
    "Đã có kết quả",
    "Đã trả kết quả",
    "Đã rút",
    "Từ chối tiếp nhận",
    "Dừng xử lý",
}
OUT_STATUSES = {"Đã rút", "Từ chối tiếp nhận", "Dừng xử lý"}
RESULT_STATUSES = {"Đã có kết quả", "Đã trả kết quả"}
CHANNELS = {
    "Trực tiếp": "direct",
    "1": "direct",
    "Trực tuyến": "online",
    "2": "online",
    "Bưu chính công ích": "postal",
    "3": "postal",
}
LABELS = {
    "Rất không hài lòng": 1,
    "Không hài lòng": 2,
    "Bình thường": 3,
    "Hài lòng": 4,
    "Rất hài lòng": 5,
}
DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")
PLACEHOLDERS = {"-", ".", "0", "x", "n/a", "na", "khong", "khong co"}


class BadDate(ValueError):
    pass


@dataclass
class Table:
    """A decoded file: how it was encoded, its header and NFC rows."""

    path: Path
    encoding: str  # utf-8 | utf-8-sig | cp1258 | xlsx
    raw_header: list[str]
    rows: list[list[str]]
    raw_text: str = ""  # decoded (not normalised) text of a CSV file


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def read_table(path: Path) -> Table:
    """Decode one inbox file as the contract allows."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        values = [["" if v is None else str(v) for v in row] for row in sheet.to_python()]
        header, rows = values[0], values[1:]
        width = len(header)
        rows = [(r + [""] * width)[:width] for r in rows]
        return Table(path, "xlsx", header, [[nfc(v) for v in r] for r in rows])
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, text = "utf-8-sig", data[3:].decode("utf-8")
    else:
        try:
            encoding, text = "utf-8", data.decode("utf-8")
        except UnicodeDecodeError:
            encoding, text = "cp1258", data.decode("cp1258")
    records = list(csv.reader(io.StringIO(text, newline="")))
    return Table(
        path, encoding, records[0], [[nfc(v) for v in r] for r in records[1:]], raw_text=text
    )


def keyed(table: Table, mapping: dict[str, str]) -> list[dict[str, str]]:
    """Rows as dicts of contract fields (header: NFC, stripped, casefolded)."""
    names = [mapping.get(nfc(h).strip().casefold()) for h in table.raw_header]
    return [{n: v for n, v in zip(names, row, strict=True) if n} for row in table.rows]


def parse_moment(text: str) -> datetime | None:
    """``dd/mm/yyyy[ HH:MM[:SS]]``; empty -> None; anything else raises BadDate."""
    text = text.strip()
    if not text:
        return None
    match = DATE_RE.match(text)
    if not match:
        raise BadDate(text)
    d, m, y, hh, mm, ss = match.groups()
    try:
        return datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError as exc:
        raise BadDate(text) from exc


def onestop_reason(row: dict[str, str], units: set[str]) -> str | None:
    """docs/sources.md §1 quarantine rules; None for a usable row."""
    if not row.get("code", "").strip():
        return "empty_code"
    if row.get("unit", "").strip() not in units:
        return "unknown_unit"
    try:
        moments = {
            k: parse_moment(row.get(k, ""))
            for k in ("received", "due", "result", "returned", "apology", "apology_due", "updated")
        }
    except BadDate:
        return "bad_date"
    status = row.get("status", "").strip()
    if status not in STATUSES:
        return "unknown_status"
    received = moments["received"]
    assert received is not None
    due = moments["due"]
    if due is None and status != "Từ chối tiếp nhận":
        return "due_missing"
    if due is not None and due.date() < received.date():
        return "due_before_received"
    for key in ("result", "returned"):
        value = moments[key]
        if value is not None and value.date() < received.date():
            return "result_before_received"
    if status in RESULT_STATUSES and moments["result"] is None and moments["returned"] is None:
        return "result_status_without_date"
    return None


def survey_reason(row: dict[str, str], units: set[str]) -> str | None:
    if row.get("unit", "").strip() not in units:
        return "unknown_unit"
    if not re.fullmatch(r"\d{4}", row.get("year", "").strip()):
        return "bad_year"
    return None


def answer_value(text: str) -> int | None:
    text = text.strip()
    if text in {"1", "2", "3", "4", "5"}:
        return int(text)
    return LABELS.get(text)


# --- contact fields (docs/rules.md) -----------------------------------------------------------
def _fold(text: str) -> str:
    stripped = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in stripped if not unicodedata.combining(c)).strip().casefold()


def is_missing(text: str) -> bool:
    return not text.strip() or _fold(text) in PLACEHOLDERS


def phone_valid(text: str) -> bool:
    if is_missing(text):
        return False
    digits = re.sub(r"[\s.\-()]", "", text.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84"):
        digits = "0" + digits[2:]
    return re.fullmatch(r"0[1-9][0-9]{8,9}", digits) is not None


def email_valid(text: str) -> bool:
    return (
        not is_missing(text)
        and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]{2,}", text.strip()) is not None
    )


# --- dossiers ----------------------------------------------------------------------------
@dataclass
class Dossier:
    code: str
    unit: str
    channel: str
    place: str
    received: date
    due: date | None
    done: date | None
    status: str
    apology: date | None
    apology_due: date | None
    address_present: bool
    phone_valid: bool
    email_valid: bool


def latest_states(onestop_dir: Path, units: set[str]) -> tuple[dict[str, Dossier], Counter[str]]:
    """Current state per dossier: max ``Cập nhật lúc``, ties to the later file name.

    Also returns the quarantine count per file name.
    """
    best: dict[str, tuple[datetime, str, dict[str, str]]] = {}
    quarantined: Counter[str] = Counter()
    for path in sorted(onestop_dir.iterdir(), key=lambda p: p.name):
        for row in keyed(read_table(path), ONESTOP):
            if onestop_reason(row, units) is not None:
                quarantined[path.name] += 1
                continue
            updated = parse_moment(row["updated"])
            assert updated is not None
            code = row["code"].strip()
            current = best.get(code)
            if current is None or (updated, path.name) >= (current[0], current[1]):
                best[code] = (updated, path.name, row)
    return {code: _dossier(code, row) for code, (_, _, row) in best.items()}, quarantined


def _day(text: str) -> date | None:
    moment = parse_moment(text)
    return moment.date() if moment else None


def _dossier(code: str, row: dict[str, str]) -> Dossier:
    received = _day(row["received"])
    assert received is not None
    return Dossier(
        code=code,
        unit=row["unit"].strip(),
        channel=CHANNELS[row["channel"].strip()],
        place=row["place"].strip(),
        received=received,
        due=_day(row["due"]),
        done=_day(row["result"]) or _day(row["returned"]),
        status=row["status"].strip(),
        apology=_day(row.get("apology", "")),
        apology_due=_day(row.get("apology_due", "")),
        address_present=not is_missing(row.get("address", "")),
        phone_valid=phone_valid(row.get("phone", "")),
        email_valid=email_valid(row.get("email", "")),
    )


def lateness(dossiers: list[Dossier], start: date, end: date, cutoff: date) -> Counter[str]:
    """docs/rules.md commune_lateness measures over ``dossiers`` (one commune)."""
    out: Counter[str] = Counter()
    for d in dossiers:
        if start <= d.received <= end:
            out["received_total"] += 1
            out[f"received_{d.channel}"] += 1
            out["received_outside_one_stop"] += d.place != "Bộ phận một cửa"
        if d.status in OUT_STATUSES:
            out["withdrawn_or_refused"] += start <= d.received <= end
            continue
        assert d.due is not None
        late = False
        if d.received < start and (d.done is None or d.done >= start):
            out["carried_over"] += 1
        if d.done is not None and start <= d.done <= end:
            out["resolved_total"] += 1
            kind = "early" if d.done < d.due else "on_time" if d.done == d.due else "late"
            out[f"resolved_{kind}"] += 1
            late = kind == "late"
        if d.received <= cutoff and (d.done is None or d.done > cutoff):
            out["in_progress_total"] += 1
            kind = "overdue" if d.due < cutoff else "on_time"
            out[f"in_progress_{kind}"] += 1
            late = kind == "overdue"
        if late:
            out["late_total"] += 1
            compliant = d.apology is not None and d.apology <= d.due and d.apology_due is not None
            out["late_without_apology"] += not compliant
    return out


def late_rate(measures: Counter[str]) -> float | None:
    denominator = measures["resolved_total"] + measures["in_progress_total"]
    if not denominator:
        return None
    return round2(Fraction(100 * measures["late_total"], denominator))


def round2(value: Fraction) -> float:
    """Half away from zero, like PostgreSQL numeric round()."""
    scaled = value * 100
    floor = scaled.numerator // scaled.denominator
    rounded = floor + (1 if scaled - floor >= Fraction(1, 2) else 0)
    return rounded / 100


def satisfaction(counts: dict[str, list[int]]) -> float | None:
    """docs/rules.md index from counts[element] = [invalid, n1..n5]."""
    indices = []
    for key in ELEMENTS:
        valid = sum(counts[key][1:])
        if valid:
            indices.append(Fraction(100 * (counts[key][4] + counts[key][5]), valid))
    if not indices:
        return None
    return round2(sum(indices, Fraction(0)) / len(indices))


def survey_counts(root: Path, units: set[str]) -> dict[tuple[str, int, str], dict[str, list[int]]]:
    """Answer counts per cell from the files, each response id counted once."""
    seen: set[str] = set()
    cells: dict[tuple[str, int, str], dict[str, list[int]]] = {}
    for path in sorted((root / "survey").iterdir()):
        for row in keyed(read_table(path), SURVEY):
            if survey_reason(row, units) or row["id"] in seen:
                continue
            seen.add(row["id"])
            cell = (row["unit"], int(row["year"]), row["agency"])
            counts = cells.setdefault(cell, {k: [0] * 6 for k in ELEMENTS})
            for key in ELEMENTS:
                counts[key][answer_value(row[key]) or 0] += 1
    return cells
