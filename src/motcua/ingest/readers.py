"""Readers for the delivered file formats: detect, decode, yield records.

The fast path for well-formed CSV streams the file's bytes straight into
PostgreSQL ``COPY`` (see loader.py); these readers serve everything else:
XLSX, API pages, and CSV files that ``COPY`` refuses (wrong field counts,
blank lines, NUL bytes), where each record must be judged on its own.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from motcua.ingest.contract import ContractError

CHUNK = 1 << 20
MAX_FIELD_BYTES = 64 << 20  # a larger field is an error naming file and row
csv.field_size_limit(MAX_FIELD_BYTES)

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class FileFacts:
    """What one pass over the bytes tells: identity, size and encoding."""

    sha256: str
    size: int
    file_format: str  # csv-utf8 | csv-utf8-bom | csv-win1258 | xlsx
    codec: str | None  # Python codec for CSV, None for XLSX
    pg_encoding: str | None  # COPY ENCODING for CSV


def inspect_file(path: Path) -> FileFacts:
    """Hash the file and, for CSV, decide its encoding in the same pass.

    UTF-8 is tried over the whole file (a legacy file can be plain ASCII for
    megabytes before its first Vietnamese letter); a file that is not valid
    UTF-8 must decode as Windows-1258, else it is rejected.
    """
    digest = hashlib.sha256()
    size = 0
    is_xlsx = path.suffix.lower() == ".xlsx"
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = not is_xlsx
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if not head:
                head = chunk[:4]
            digest.update(chunk)
            size += len(chunk)
            if utf8_ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    if size == 0:
        raise ContractError("empty file (0 bytes)")
    if is_xlsx:
        return FileFacts(digest.hexdigest(), size, "xlsx", None, None)
    if head.startswith(UTF16_BOMS):
        raise ContractError("UTF-16 text is not a contract encoding (UTF-8 or Windows-1258)")
    if utf8_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        fmt = "csv-utf8-bom" if head.startswith(UTF8_BOM) else "csv-utf8"
        return FileFacts(digest.hexdigest(), size, fmt, "utf-8-sig", "UTF8")
    _check_decodes(path, "cp1258")
    return FileFacts(digest.hexdigest(), size, "csv-win1258", "cp1258", "WIN1258")


def _check_decodes(path: Path, codec: str) -> None:
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                raise ContractError(
                    f"neither UTF-8 nor Windows-1258: undecodable byte at offset {position}"
                ) from exc
            offset += len(chunk)


def read_csv_header(path: Path, codec: str) -> list[str]:
    """The first record of a CSV file (its header); empty list if none."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=codec, newline="") as text:
        try:
            return next(csv.reader(text), [])
        except csv.Error as exc:
            raise ContractError(f"line 1 (header): {exc}") from exc


@dataclass(frozen=True)
class CsvHead:
    """What the first bytes of a CSV say, before the one pass that loads it."""

    header: list[str]
    pg_encoding: str  # the likely COPY encoding; the other is tried if it fails
    file_format: str


def peek_csv(path: Path) -> CsvHead:
    """Header and likely encoding from the first block of the file.

    A first block that is not valid UTF-8 means a legacy Windows-1258 export;
    COPY validates the whole file anyway and the loader retries with the other
    encoding if the guess was wrong further down.
    """
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if not head:
        raise ContractError("empty file (0 bytes)")
    if head.startswith(UTF16_BOMS):
        raise ContractError("UTF-16 text is not a contract encoding (UTF-8 or Windows-1258)")
    try:
        head.decode("utf-8") if len(head) < 64 * 1024 else _decode_prefix(head)
        codec, pg_encoding = "utf-8-sig", "UTF8"
    except UnicodeDecodeError:
        codec, pg_encoding = "cp1258", "WIN1258"
    try:
        header = read_csv_header(path, codec)
    except UnicodeDecodeError:
        codec, pg_encoding = "cp1258", "WIN1258"
        try:
            header = read_csv_header(path, codec)
        except UnicodeDecodeError:
            inspect_file(path)  # raises the precise error with the byte offset
            raise
    if pg_encoding == "UTF8":
        fmt = "csv-utf8-bom" if head.startswith(UTF8_BOM) else "csv-utf8"
    else:
        fmt = "csv-win1258"
    return CsvHead(header, pg_encoding, fmt)


def _decode_prefix(head: bytes) -> str:
    """Decode a block that may end in the middle of a UTF-8 sequence."""
    return codecs.getincrementaldecoder("utf-8")().decode(head, final=False)


def iter_csv_records(path: Path, codec: str) -> Iterator[list[str]]:
    """Data records after the header, one at a time (memory flat in file size)."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=codec, newline="") as text:
        reader = csv.reader(text)
        try:
            next(reader, None)
            yield from reader
        except csv.Error as exc:
            raise ContractError(f"line {reader.line_num}: {exc}") from exc


def cell_text(value: object) -> str | None:
    """An XLSX cell as the text a CSV export would have carried.

    Dates become ``dd/mm/yyyy[ HH:MM:SS]`` so they meet the same parser as
    CSV; whole numbers lose the ``.0`` a spreadsheet adds (codes, phones).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def open_xlsx(path: Path) -> tuple[list[str], Iterator[list[str | None]]]:
    """Header and records of the first sheet of an XLSX workbook."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = iter(sheet.iter_rows())
        first = next(rows, None)
    except ContractError:
        raise
    except Exception as exc:  # calamine raises several unrelated types
        raise ContractError(f"not a readable XLSX workbook: {exc}") from exc
    if first is None:
        return [], iter(())
    header = [cell_text(v) or "" for v in first]
    return header, ([cell_text(v) for v in row] for row in rows)
