"""The input contracts of docs/sources.md as data: headers → raw column names.

Columns are matched by header name, never by position: case, surrounding
spaces, inner runs of spaces and Unicode normalisation are ignored, so
``" MÃ HỒ SƠ"`` in NFD matches ``Mã hồ sơ``. Unknown headers (``STT``...) are
ignored by the mapping but reported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Source = Literal["onestop", "survey"]

ONESTOP_COLUMNS: dict[str, str] = {
    "Mã hồ sơ": "dossier_code",
    "Mã đơn vị": "unit_code",
    "Tên đơn vị": "unit_name",
    "Mã thủ tục": "procedure_code",
    "Tên thủ tục": "procedure_name",
    "Lĩnh vực": "sector",
    "Kênh nộp": "channel",
    "Nơi tiếp nhận": "reception_place",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Ngày có kết quả": "result_at",
    "Ngày trả kết quả": "returned_at",
    "Trạng thái": "status",
    "Ngày xin lỗi": "apology_at",
    "Ngày hẹn trả lại": "apology_due_at",
    "Họ tên người nộp": "applicant_name",
    "Địa chỉ": "address",
    "Số điện thoại": "phone",
    "Email": "email",
    "Cập nhật lúc": "updated_at",
    # optional headers of newer exports (the 766 index, docs/index766.md)
    "Kết quả điện tử": "e_result",
    "Số hóa hồ sơ": "digitised",
    "Phí, lệ phí": "fee",
    "Thanh toán trực tuyến": "paid_online",
    "Đánh giá": "rating",
}

# Optional columns whose absence from a file means something: "not supplied"
# (an indicator without data) is not "supplied and empty" (no). The loader
# stores an empty value of such a column, when the file has it, as '' and
# leaves the column null when the file lacks it.
PRESENCE_COLUMNS: frozenset[str] = frozenset(
    {"e_result", "digitised", "fee", "paid_online", "rating"}
)

SURVEY_COLUMNS: dict[str, str] = {
    "Mã phiếu": "response_id",
    "Năm": "survey_year",
    "Mã đơn vị": "unit_code",
    "Cơ quan": "agency",
    "Ngày khảo sát": "survey_date",
    "Tiếp cận dịch vụ": "ans_access",
    "Thủ tục hành chính": "ans_procedure",
    "Công chức": "ans_staff",
    "Kết quả": "ans_result",
    "Góp ý phản ánh": "ans_feedback",
    "Mã hồ sơ": "dossier_code",
    "Ý kiến": "comment",
}

# Without these a file cannot yield a single usable row: it is rejected whole
# with a clear error instead of quarantining every row for the same reason.
REQUIRED: dict[Source, frozenset[str]] = {
    "onestop": frozenset({"dossier_code", "unit_code", "received_at", "status", "updated_at"}),
    "survey": frozenset({"response_id", "survey_year", "unit_code", "agency"}),
}

COLUMNS: dict[Source, dict[str, str]] = {"onestop": ONESTOP_COLUMNS, "survey": SURVEY_COLUMNS}

LINEAGE_COLUMNS = ("file_id", "batch_id", "file_name", "row_number", "loaded_at")


def header_key(text: str) -> str:
    """Comparable form of a header: NFC, BOM and outer spaces stripped, casefolded."""
    cleaned = unicodedata.normalize("NFC", text).replace("\ufeff", "").strip()
    return re.sub(r"\s+", " ", cleaned).casefold()


_KEYS: dict[Source, dict[str, str]] = {
    source: {header_key(h): col for h, col in cols.items()} for source, cols in COLUMNS.items()
}


class ContractError(ValueError):
    """A file that cannot be read under the contract (rejected whole)."""


@dataclass(frozen=True)
class HeaderMap:
    """Where each raw column sits in one file's header."""

    source: Source
    positions: dict[str, int]  # raw column -> index in the file's records
    width: int  # number of header fields
    ignored: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        """Raw columns present, in the order of the file."""
        return sorted(self.positions, key=self.positions.__getitem__)


def map_header(source: Source, header: list[str]) -> HeaderMap:
    """Match a file's header against the contract of ``source``.

    Raises ContractError when a required column is missing or a column
    appears twice (which one would win is not knowable).
    """
    keys = _KEYS[source]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        column = keys.get(header_key(name or ""))
        if column is None:
            ignored.append((name or "").strip())
        elif column in positions:
            raise ContractError(f"column {name.strip()!r} appears twice in the header")
        else:
            positions[column] = index
    missing_required = [
        header
        for header, col in COLUMNS[source].items()
        if col in REQUIRED[source] and col not in positions
    ]
    if missing_required:
        raise ContractError(f"missing required column(s): {', '.join(missing_required)}")
    missing = tuple(col for col in COLUMNS[source].values() if col not in positions)
    return HeaderMap(source, positions, len(header), tuple(ignored), missing)
