"""Readers for the delivered file formats: detect, decode, yield records.

The fast path for well-formed CSV streams the file's bytes straight into
PostgreSQL ``COPY`` (see loader.py), counting its records on the way with
``RecordCounter`` so that the count ``COPY`` reports is checked, not trusted.
These readers serve everything else: XLSX, API pages, and CSV files that
``COPY`` refuses or that are not all in one encoding, where each record must
be judged on its own.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from motcua import config
from motcua.ingest.contract import ContractError

CHUNK = 1 << 20
MAX_FIELD_BYTES = 64 << 20  # a larger field is an error naming file and row
csv.field_size_limit(MAX_FIELD_BYTES)

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class RecordCounter:
    """Count CSV records from the bytes alone, the way ``COPY`` splits them.

    Why: the row count ``COPY`` reports cannot vouch for itself. PostgreSQL
    before 18 ends CSV data at a line holding only ``\\.`` and reports the
    rows before it as if that were the whole file.

    A record ends at a newline outside double quotes; every quote toggles
    "inside" (a doubled quote toggles twice), as COPY's line splitter does.
    The first record is the header and is not counted. ``quote_aware=False``
    counts lines instead: nearly free (one C ``count`` per block), and never
    fewer than the records, so a COPY that stored as many rows as there are
    lines read them all; only when the two differ (a field holding a line
    break, or rows lost) is the exact count needed.
    """

    def __init__(self, quote_aware: bool = True) -> None:
        self._quote_aware = quote_aware
        self._newlines = 0
        self._in_quotes = False
        self._last = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._quote_aware and b'"' in chunk:
            parts = chunk.split(b'"')
            outside = parts[1::2] if self._in_quotes else parts[0::2]
            self._newlines += b"".join(outside).count(b"\n")
            if len(parts) % 2 == 0:  # an odd number of quotes
                self._in_quotes = not self._in_quotes
        elif not self._in_quotes:
            self._newlines += chunk.count(b"\n")
        self._last = chunk[-1:]

    @property
    def records(self) -> int:
        """Data records so far (a last line without its newline counts)."""
        lines = self._newlines + (1 if self._last not in (b"", b"\n") else 0)
        return max(lines - 1, 0)


def count_records(path: Path) -> int:
    """The exact number of CSV data records in a file (one pass, no decoding)."""
    counter = RecordCounter()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            counter.feed(chunk)
    return counter.records


@dataclass(frozen=True)
class FileFacts:
    """What a look at all the bytes tells: identity, size and encoding."""

    sha256: str
    size: int
    file_format: str  # csv-utf8 | csv-utf8-bom | csv-win1258 | xlsx
    codec: str | None  # Python codec for CSV, None for XLSX
    pg_encoding: str | None  # COPY ENCODING for CSV
    foreign_lines: int = 0  # lines not in the file's encoding (each one quarantined)

    @property
    def pure(self) -> bool:
        """Every line is in the file's encoding: COPY may decode the whole file."""
        return self.foreign_lines == 0


@dataclass(frozen=True)
class EncodingVote:
    """Non-ASCII lines of a file that is not all UTF-8, by what they decode as."""

    utf8: int = 0
    win1258: int = 0  # not UTF-8, valid Windows-1258
    neither: int = 0

    @property
    def is_utf8(self) -> bool:
        """The file is UTF-8 when at least as many lines are UTF-8 as are not.

        ASCII lines read the same in both and do not vote. A line that is
        valid UTF-8 and not ASCII is UTF-8 (Vietnamese in Windows-1258
        practically never forms valid UTF-8 sequences), while Windows-1258
        accepts almost any byte: a tie goes to UTF-8, the checkable one.
        """
        return self.utf8 > 0 and self.utf8 >= self.win1258 + self.neither

    @property
    def foreign(self) -> int:
        return self.win1258 + self.neither if self.is_utf8 else self.utf8 + self.neither


def inspect_file(path: Path) -> FileFacts:
    """Hash the file and, for CSV, decide its encoding.

    UTF-8 is tried over the whole file in the same pass as the hash (a legacy
    file can be plain ASCII for megabytes before its first Vietnamese
    letter). A file that is not all valid UTF-8 gets a second pass in which
    each line votes (``EncodingVote``): the majority encoding is the file's,
    and the lines in another one are counted so that their records go to
    quarantine instead of the whole file being refused, or worse, being
    decoded as Windows-1258 mojibake.
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
    utf8_fmt = "csv-utf8-bom" if head.startswith(UTF8_BOM) else "csv-utf8"
    if utf8_ok:
        return FileFacts(digest.hexdigest(), size, utf8_fmt, "utf-8-sig", "UTF8")
    vote = _vote_encoding(path)
    if vote.is_utf8:
        return FileFacts(digest.hexdigest(), size, utf8_fmt, "utf-8-sig", "UTF8", vote.foreign)
    return FileFacts(digest.hexdigest(), size, "csv-win1258", "cp1258", "WIN1258", vote.foreign)


def _vote_encoding(path: Path) -> EncodingVote:
    """Each non-ASCII line's encoding (a newline byte never sits inside a UTF-8 letter)."""
    utf8 = win1258 = neither = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8 += 1
                continue
            except UnicodeDecodeError:
                pass
            if _CP1258_UNDEFINED.search(line):
                neither += 1
            else:
                win1258 += 1
    return EncodingVote(utf8, win1258, neither)


# Bytes with no Windows-1258 character; every other byte decodes.
_CP1258_UNDEFINED = re.compile(
    b"["
    + b"".join(
        re.escape(bytes([b]))
        for b in range(256)
        if bytes([b]).decode("cp1258", "replace") == "\ufffd"
    )
    + b"]"
)
_SURROGATE = re.compile("[\udc80-\udcff]")  # an undecodable byte, kept by surrogateescape
_CODEC_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1258": "Windows-1258"}


def _read_header(path: Path, codec: str) -> list[str]:
    """The first record of a CSV file; undecodable bytes kept as surrogates."""
    with (
        path.open("rb") as raw,
        io.TextIOWrapper(raw, encoding=codec, errors="surrogateescape", newline="") as text,
    ):
        try:
            return next(csv.reader(text), [])
        except csv.Error as exc:
            raise ContractError(f"line 1 (header): {exc}") from exc


def read_csv_header(path: Path, head: bytes) -> tuple[list[str], str]:
    """The header and the codec it is in, decided on the header alone.

    The header is read apart from the rows so that one row in another
    encoding cannot garble the column names and get the file refused.
    """
    for codec in ("utf-8-sig", "cp1258"):
        header = _read_header(path, codec)
        if not any(_SURROGATE.search(h) for h in header):
            return header, codec
    bad = _CP1258_UNDEFINED.search(head)
    where = f" at offset {bad.start()}" if bad else ""
    raise ContractError(f"neither UTF-8 nor Windows-1258: undecodable byte{where}")


@dataclass(frozen=True)
class CsvHead:
    """What the first bytes of a CSV say, before the one pass that loads it."""

    header: list[str]
    pg_encoding: str  # the likely COPY encoding: UTF8 unless the first block is not UTF-8
    file_format: str


def peek_csv(path: Path) -> CsvHead:
    """Header and likely encoding from the first block of the file.

    A first block that is not valid UTF-8 means a legacy (or mixed) file,
    which the loader inspects whole before trusting ``COPY`` with it; a
    UTF-8 guess is checked by ``COPY`` itself, which validates every byte.
    """
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if not head:
        raise ContractError("empty file (0 bytes)")
    if head.startswith(UTF16_BOMS):
        raise ContractError("UTF-16 text is not a contract encoding (UTF-8 or Windows-1258)")
    try:
        head.decode("utf-8") if len(head) < 64 * 1024 else _decode_prefix(head)
        pg_encoding = "UTF8"
    except UnicodeDecodeError:
        pg_encoding = "WIN1258"
    header, _ = read_csv_header(path, head)
    if pg_encoding == "UTF8":
        fmt = "csv-utf8-bom" if head.startswith(UTF8_BOM) else "csv-utf8"
    else:
        fmt = "csv-win1258"
    return CsvHead(header, pg_encoding, fmt)


def _decode_prefix(head: bytes) -> str:
    """Decode a block that may end in the middle of a UTF-8 sequence."""
    return codecs.getincrementaldecoder("utf-8")().decode(head, final=False)


class FlaggedRecord(list[str]):
    """A record whose bytes are not in the file's encoding: its fields shown safely.

    ``problem`` becomes the row's ``row_error``; the fields keep every byte
    (undecodable ones as ``\\xNN``) so the quarantine shows what came in.
    """

    problem: str

    def __init__(self, fields: list[str], problem: str) -> None:
        super().__init__(fields)
        self.problem = problem


def iter_csv_records(path: Path, facts: FileFacts) -> Iterator[list[str]]:
    """Data records after the header, one at a time (memory flat in file size).

    Decoded per record: a record with bytes that are not in the file's
    encoding comes out as a ``FlaggedRecord`` instead of failing the file.
    """
    codec = facts.codec or "utf-8-sig"
    check_utf8 = codec == "cp1258" and not facts.pure
    with (
        path.open("rb") as raw,
        io.TextIOWrapper(raw, encoding=codec, errors="surrogateescape", newline="") as text,
    ):
        reader = csv.reader(text)
        try:
            next(reader, None)
            for record in reader:
                flagged = _decoding_problem(record, codec, check_utf8)
                yield flagged if flagged is not None else record
        except csv.Error as exc:
            raise ContractError(f"line {reader.line_num}: {exc}") from exc


def _decoding_problem(record: list[str], codec: str, check_utf8: bool) -> FlaggedRecord | None:
    """The record shown safely with its problem, or None when it is in the file's encoding."""
    joined = "".join(record)
    if joined.isascii():
        return None
    base = "utf-8" if codec == "utf-8-sig" else codec
    if check_utf8:  # a Windows-1258 file with UTF-8 lines: is this one of them?
        try:
            shown = [v.encode(base, "surrogateescape").decode("utf-8") for v in record]
        except UnicodeError:
            pass
        else:
            return FlaggedRecord(shown, "undecodable bytes: UTF-8 text in a Windows-1258 file")
    if _SURROGATE.search(joined):
        shown = [v.encode(base, "surrogateescape").decode(base, "backslashreplace") for v in record]
        return FlaggedRecord(
            shown, f"undecodable bytes: not {_CODEC_NAMES[codec]} like the rest of the file"
        )
    return None


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


MB = 1 << 20
# Caps on what an XLSX may unpack to (README "Ingestion"); an export of the
# largest night the generator writes as XLSX (5,000 rows) unpacks to ~3 MB at
# a ratio of ~14:1, a zip bomb to hundreds of MB at ~1000:1.
XLSX_MAX_UNPACKED_MB = 200
XLSX_MAX_RATIO = 100
XLSX_RATIO_FLOOR = MB  # a smaller member cannot hurt, whatever its ratio


def check_xlsx_size(path: Path) -> None:
    """Refuse a workbook that unpacks to more than the caps allow, before opening it.

    Why: the reader inflates the shared strings (and the sheet) into memory,
    so a workbook of a few hundred KB can take hundreds of MB. The sizes come
    from the zip's directory, and cannot lie: the reader (calamine) stops
    with an error as soon as a member inflates past its declared size.
    """
    cap_mb = config.xlsx_max_unpacked_mb(XLSX_MAX_UNPACKED_MB)
    max_ratio = config.xlsx_max_ratio(XLSX_MAX_RATIO)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise ContractError(f"not a readable XLSX workbook: {exc}") from exc
    total = sum(m.file_size for m in members)
    if total > cap_mb * MB:
        size = f"{total / MB:.1f}".removesuffix(".0")
        raise ContractError(
            f"XLSX unpacks to {size} MB, over the {cap_mb} MB limit (MOTCUA_XLSX_MAX_UNPACKED_MB)"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= XLSX_RATIO_FLOOR and ratio > max_ratio:
            raise ContractError(
                f"XLSX member {member.filename} is compressed {ratio:.0f}:1, over the"
                f" {max_ratio}:1 limit (MOTCUA_XLSX_MAX_RATIO)"
            )


def open_xlsx(path: Path) -> tuple[list[str], Iterator[list[str | None]]]:
    """Header and records of the first sheet of an XLSX workbook (size caps checked first)."""
    from python_calamine import CalamineWorkbook

    check_xlsx_size(path)
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
