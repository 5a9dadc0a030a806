"""Hostile and clumsy inbox files (issue 12): no row lost, no link followed, no bomb opened.

Each case is replayed against a real PostgreSQL; the ``\\.`` case against both
the embedded server (18) and the machine's PostgreSQL 15, where ``COPY`` in
CSV mode used to take that line as the end of the data.
"""

from __future__ import annotations

import io
import os
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook

from motcua.config import parse_pg_url
from motcua.ingest import loader
from tests.conftest import create_database, drop_database
from tests.ingest.test_loader import HEADER, ROWS, csv_text, to_cp1258

# The machine's own PostgreSQL 15 (never needed by `make test`: skipped when absent).
MACHINE_PG_URL = os.environ.get(
    "MOTCUA_TEST_PG15_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _machine_server() -> str | None:
    """Why the machine's server cannot be used, or None when it can."""
    try:
        with psycopg.connect(MACHINE_PG_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"no PostgreSQL at {parse_pg_url(MACHINE_PG_URL).masked()} ({first})"
    return None


@pytest.fixture(params=["embedded", "machine"], ids=["embedded-pg", "machine-pg15"])
def server_db(request: pytest.FixtureRequest, admin_url: str) -> Iterator[str]:
    """A scratch database on the embedded server, then on the machine's PostgreSQL 15."""
    admin = admin_url
    if request.param == "machine":
        reason = _machine_server()
        if reason:
            pytest.skip(f"{reason}; set MOTCUA_TEST_PG15_URL to run this case on PostgreSQL 15")
        admin = MACHINE_PG_URL
    url = create_database(admin, "motcua_h12")
    yield url
    drop_database(admin, url)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as c:
        loader.ensure_raw_schema(c)
        yield c


@pytest.fixture
def batch(conn: psycopg.Connection) -> int:
    return loader.start_batch(conn, date(2017, 7, 14), None)


def raw_rows(conn: psycopg.Connection, name: str, cols: str = "row_error, dossier_code"):
    return conn.execute(
        f"select row_number, {cols} from raw.onestop_rows where file_name = %s order by 1",
        (name,),
    ).fetchall()


def registered(conn: psycopg.Connection, name: str) -> tuple:
    row = conn.execute(
        "select status, rows_read, file_format, error from raw.load_files where file_name = %s",
        (name,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def row(i: int, address: str = "Thôn Phú Hòa, Ninh Đa") -> list[str]:
    return [
        str(i),
        f"H-{i:03d}",
        "22570",
        "01/02/2017",
        "Đã tiếp nhận",
        "01/02/2017 08:00:00",
        address,
        "a@example.vn",
    ]


# --- 1. a line holding only \. is data, never the end of the file -----------


def test_backslash_dot_line_is_a_quarantined_row_not_the_end(
    server_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(server_db, autocommit=True) as conn:
        loader.ensure_raw_schema(conn)
        batch = loader.start_batch(conn, date(2017, 7, 14), None)
        path = tmp_path / "hoso_dot.csv"
        path.write_text(csv_text(HEADER, [row(1), ["\\."], row(3), row(4)]), encoding="utf-8")
        outcome = loader.load_file(conn, batch, "onestop", path)
        assert (outcome.status, outcome.rows_read, outcome.path_method) == (
            "loaded",
            4,
            "records",
        )
        assert raw_rows(conn, path.name) == [
            (1, None, "H-001"),
            (2, "expected 8 fields, got 1", None),
            (3, None, "H-003"),
            (4, None, "H-004"),
        ]
        assert raw_rows(conn, path.name, "raw_record")[1] == (2, ["\\."])
        assert registered(conn, path.name) == ("loaded", 4, "csv-utf8", None)


def test_backslash_dot_inside_a_quoted_field_stays_on_the_fast_path(
    server_db: str, tmp_path: Path
) -> None:
    """A ``\\.`` line inside a quoted field is data to COPY on every version: no fallback."""
    with psycopg.connect(server_db, autocommit=True) as conn:
        loader.ensure_raw_schema(conn)
        batch = loader.start_batch(conn, date(2017, 7, 14), None)
        path = tmp_path / "hoso_dotq.csv"
        # CRLF records (csv.writer), LF inside the quoted address
        path.write_text(csv_text(HEADER, [row(1, "Thôn 1\n\\.\nNinh Đa"), row(2)]), "utf-8")
        outcome = loader.load_file(conn, batch, "onestop", path)
        assert (outcome.status, outcome.rows_read, outcome.path_method) == ("loaded", 2, "copy")
        assert raw_rows(conn, path.name, "row_error, address") == [
            (1, None, "Thôn 1\n\\.\nNinh Đa"),
            (2, None, "Thôn Phú Hòa, Ninh Đa"),
        ]


@pytest.mark.parametrize(
    ("payload", "records"),
    [
        (b"a,b\n1,2\n3,4\n", 2),
        (b"a,b\n1,2\n3,4", 2),  # no newline at the end
        (b"a,b\r\n1,2\r\n", 1),
        (b"a,b\n", 0),
        (b"a,b", 0),
        (b'a,b\n1,"x\ny"\n"q""\n""",4\n', 2),  # newlines and doubled quotes inside quotes
        (b"a,b\n1,2\n\\.\n3,4\n", 3),  # \. counts as the record it is
    ],
)
def test_record_counter_counts_what_copy_should_read(payload: bytes, records: int) -> None:
    from motcua.ingest.readers import RecordCounter

    whole = RecordCounter()
    whole.feed(payload)
    bytewise = RecordCounter()
    for i in range(len(payload)):
        bytewise.feed(payload[i : i + 1])  # every possible chunk boundary
    assert (whole.records, bytewise.records) == (records, records)
    lines = RecordCounter(quote_aware=False)  # the fast path's count: never below the records
    lines.feed(payload)
    assert lines.records == payload.count(b"\n") - int(payload.endswith(b"\n"))
    assert lines.records >= records


# --- 2. anything in the inbox that is not a regular file is refused ----------


def test_links_fifos_and_folders_in_the_inbox_are_refused_untouched(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    folder = inbox / "onestop"
    folder.mkdir(parents=True)
    outside = tmp_path / "secret" / "hoso_outside.csv"
    outside.parent.mkdir()
    outside.write_text(csv_text(HEADER, [row(9)]), encoding="utf-8")
    (folder / "hoso_1_good.csv").write_text(csv_text(HEADER, [row(1)]), encoding="utf-8")
    (folder / "hoso_2_link.csv").symlink_to(outside)
    (folder / "hoso_3_dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    (folder / "hoso_4_dir.csv").mkdir()
    (folder / "hoso_4_dir.csv" / "inner.txt").write_text("x")
    os.mkfifo(folder / "hoso_5_fifo.csv")  # opening it for reading would hang the load
    (folder / "hoso_6_dirlink.xlsx").symlink_to(outside.parent, target_is_directory=True)

    batch = loader.start_batch(conn, date(2017, 7, 14), inbox)
    outcomes = {o.file_name: (o.status, o.rows_read) for o in loader.load_inbox(conn, inbox, batch)}

    reasons = {
        "hoso_2_link.csv": "a symbolic link, not a regular file (the link was not followed)",
        "hoso_3_dangling.csv": "a symbolic link, not a regular file (the link was not followed)",
        "hoso_4_dir.csv": "a directory, not a regular file",
        "hoso_5_fifo.csv": "a named pipe (FIFO), not a regular file",
        "hoso_6_dirlink.xlsx": "a symbolic link, not a regular file (the link was not followed)",
    }
    assert outcomes == {"hoso_1_good.csv": ("loaded", 1)} | {n: ("rejected", 0) for n in reasons}
    assert conn.execute(
        "select file_name, status, error, rows_read from raw.load_files order by file_name"
    ).fetchall() == [("hoso_1_good.csv", "loaded", None, 1)] + [
        (name, "rejected", reason, 0) for name, reason in sorted(reasons.items())
    ]
    # only the good file's row; nothing read through the links
    assert conn.execute("select dossier_code from raw.onestop_rows").fetchall() == [("H-001",)]
    assert list(folder.iterdir()) == []
    rejected = inbox / "rejected" / "onestop"
    for name, reason in reasons.items():
        assert (rejected / f"{name}.error.txt").read_text() == f"{name}: {reason}\n"
    # the links themselves were moved, still pointing where they pointed; targets untouched
    assert (rejected / "hoso_2_link.csv").is_symlink()
    assert os.readlink(rejected / "hoso_2_link.csv") == str(outside)
    assert os.readlink(rejected / "hoso_3_dangling.csv") == str(tmp_path / "nowhere.csv")
    assert (rejected / "hoso_6_dirlink.xlsx").is_symlink()
    assert outside.read_bytes() == csv_text(HEADER, [row(9)]).encode()
    assert (rejected / "hoso_4_dir.csv" / "inner.txt").read_text() == "x"
    assert (rejected / "hoso_5_fifo.csv").is_fifo()


# --- 3. a row in another encoding goes to quarantine, not the whole file -----

SEVEN = [row(i, a) for i, a in enumerate(["Thôn Phú Hòa", "Ninh Đa", "Hòn Khói"] * 3, start=1)][:7]


def _mixed(rows: list[list[str]], encodings: list[str], header_encoding: str = "utf-8") -> bytes:
    """A CSV whose records are encoded one by one (header first)."""
    encode = {"utf-8": str.encode, "cp1258": to_cp1258}
    lines = [encode[header_encoding](csv_text(HEADER, []))]
    lines += [encode[e](csv_text(r, [])) for r, e in zip(rows, encodings, strict=True)]
    return b"".join(lines)


def _shown(record: list[str], encoding: str, file_codec: str) -> list[str]:
    """How an undecodable record's fields are kept: the file's codec, bad bytes as \\xNN."""
    encode = {"utf-8": str.encode, "cp1258": to_cp1258}[encoding]
    return [encode(v).decode(file_codec, "backslashreplace") for v in record]


def nfc(rows: list[tuple]) -> list[tuple]:
    return [
        tuple(unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in r) for r in rows
    ]


def nfc_rows(conn: psycopg.Connection, name: str) -> list[tuple]:
    return nfc(raw_rows(conn, name, "row_error, dossier_code, address"))


def test_utf8_file_with_one_windows_1258_row_quarantines_that_row(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    path = tmp_path / "hoso_mixed.csv"
    encodings = ["utf-8"] * 7
    encodings[3] = "cp1258"
    path.write_bytes(_mixed(SEVEN, encodings))
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert (outcome.status, outcome.rows_read, outcome.file_format) == ("loaded", 7, "csv-utf8")
    bad = "undecodable bytes: not UTF-8 like the rest of the file"
    expected = [(i, None, f"H-{i:03d}", SEVEN[i - 1][6]) for i in range(1, 8)]
    expected[3] = (4, bad, "H-004", _shown(SEVEN[3], "cp1258", "utf-8")[6])
    assert nfc_rows(conn, path.name) == nfc(expected)
    assert raw_rows(conn, path.name, "raw_record")[3] == (4, _shown(SEVEN[3], "cp1258", "utf-8"))
    # every record of the file is accounted for: 6 good + 1 quarantined = 7 read
    counts = conn.execute(
        "select count(*) filter (where row_error is null), count(*) filter (where row_error"
        " is not null) from raw.onestop_rows where file_name = %s",
        (path.name,),
    ).fetchone()
    assert counts == (6, 1)
    assert registered(conn, path.name) == ("loaded", 7, "csv-utf8", None)


def test_windows_1258_file_with_a_utf8_row_and_an_undefined_byte(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    """The other way round: legacy file, one UTF-8 row (would be mojibake), one bad byte."""
    path = tmp_path / "hoso_legacy.csv"
    encodings = ["cp1258"] * 7
    encodings[1] = "utf-8"
    body = _mixed(SEVEN, encodings, header_encoding="cp1258")
    row6 = to_cp1258(csv_text(SEVEN[5], []))
    body = body.replace(row6, row6.replace(b"H-006", b"H-006\x81"))
    path.write_bytes(body)
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert (outcome.status, outcome.rows_read, outcome.file_format) == (
        "loaded",
        7,
        "csv-win1258",
    )
    expected = [(i, None, f"H-{i:03d}", SEVEN[i - 1][6]) for i in range(1, 8)]
    # shown as the UTF-8 it is, but quarantined: a guess per row is not a contract
    expected[1] = (2, "undecodable bytes: UTF-8 text in a Windows-1258 file", "H-002", "Ninh Đa")
    expected[5] = (
        6,
        "undecodable bytes: not Windows-1258 like the rest of the file",
        "H-006\\x81",
        SEVEN[5][6],
    )
    assert nfc_rows(conn, path.name) == nfc(expected)
    assert raw_rows(conn, path.name, "raw_record")[1] == (2, SEVEN[1])


def test_the_majority_of_lines_decides_the_encoding(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    """UTF-8 header, 2 UTF-8 rows, 5 Windows-1258 rows: a Windows-1258 file (5 lines > 3)."""
    path = tmp_path / "hoso_vote.csv"
    encodings = ["utf-8", "utf-8"] + ["cp1258"] * 5
    path.write_bytes(_mixed(SEVEN, encodings))
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert (outcome.status, outcome.rows_read, outcome.file_format) == (
        "loaded",
        7,
        "csv-win1258",
    )
    errors = [r[1] for r in raw_rows(conn, path.name)]
    utf8_in_1258 = "undecodable bytes: UTF-8 text in a Windows-1258 file"
    assert errors == [utf8_in_1258, utf8_in_1258, None, None, None, None, None]


# --- 4. an XLSX that unpacks to far more than it weighs is refused unopened --


SST_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_REL = (
    b'<Relationship Id="rId99" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org'
    b'/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def _xlsx_with_big_strings(path: Path, size: int) -> None:
    """A valid two-row workbook with a shared-strings table of about ``size`` bytes.

    The table holds unused entries of repetitive text: a few hundred KB on
    disk, and a reader that trusts the file unpacks all of it into memory.
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in [HEADER, *ROWS]:
        ws.append(r)
    buffer = io.BytesIO()
    wb.save(buffer)
    entry = b"<si><t>" + b"a" * 4081 + b"</t></si>"  # 4 KiB
    count = size // len(entry)
    head = b'<sst xmlns="%s" count="%d" uniqueCount="%d">' % (SST_NS, count, count)
    patch = {
        "xl/_rels/workbook.xml.rels": (b"</Relationships>", SST_REL),
        "[Content_Types].xml": (b"</Types>", SST_TYPE),
    }
    with (
        zipfile.ZipFile(buffer) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename in patch:
                data = data.replace(*patch[info.filename])
            out.writestr(info.filename, data)
        with out.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(head)
            for _ in range(count):
                member.write(entry)
            member.write(b"</sst>")


def test_the_reported_232_mb_shared_strings_are_refused_at_default_settings(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    path = tmp_path / "hoso_bomb.xlsx"
    _xlsx_with_big_strings(path, 232 * 1024 * 1024)
    assert path.stat().st_size < 2_000_000  # small on disk
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert outcome.status == "rejected"
    assert outcome.error == (
        "hoso_bomb.xlsx: XLSX unpacks to 232 MB, over the 200 MB limit"
        " (MOTCUA_XLSX_MAX_UNPACKED_MB)"
    )
    assert conn.execute("select count(*) from raw.onestop_rows").fetchone() == (0,)


def test_highly_compressed_member_is_refused_as_a_zip_bomb(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    path = tmp_path / "hoso_ratio.xlsx"
    _xlsx_with_big_strings(path, 20 * 1024 * 1024)  # under the size cap
    ratio = next(
        i.file_size / i.compress_size
        for i in zipfile.ZipFile(path).infolist()
        if i.filename == "xl/sharedStrings.xml"
    )
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert outcome.status == "rejected"
    assert outcome.error == (
        f"hoso_ratio.xlsx: XLSX member xl/sharedStrings.xml is compressed {ratio:.0f}:1,"
        " over the 100:1 limit (MOTCUA_XLSX_MAX_RATIO)"
    )


def test_the_caps_are_configurable(
    conn: psycopg.Connection, batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hoso_cap.xlsx"
    _xlsx_with_big_strings(path, 3 * 1024 * 1024)
    monkeypatch.setenv("MOTCUA_XLSX_MAX_UNPACKED_MB", "2")
    monkeypatch.setenv("MOTCUA_XLSX_MAX_RATIO", "100000")
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert outcome.error == (
        "hoso_cap.xlsx: XLSX unpacks to 3 MB, over the 2 MB limit (MOTCUA_XLSX_MAX_UNPACKED_MB)"
    )
    monkeypatch.setenv("MOTCUA_XLSX_MAX_UNPACKED_MB", "4")
    second = loader.load_file(conn, batch, "onestop", path)
    assert (second.status, second.rows_read) == ("loaded", 2)


def _lie_about_size(path: Path, name: str, declared: int) -> None:
    """Rewrite a member's uncompressed size in both zip headers (a crafted bomb)."""
    data = bytearray(path.read_bytes())
    info = next(i for i in zipfile.ZipFile(path).infolist() if i.filename == name)
    encoded = name.encode()
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 22, declared)
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(encoded)] != encoded:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def test_member_unpacking_beyond_its_declared_size_is_refused(
    conn: psycopg.Connection, batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caps trust the zip's directory: that holds because the reader stops at the size
    a member declares. A crafted workbook declaring 1000 bytes for 8 MB proves it (this
    passed before the caps existed too; it guards the assumption they rest on)."""
    path = tmp_path / "hoso_liar.xlsx"
    monkeypatch.setenv("MOTCUA_XLSX_MAX_RATIO", "100000")  # only the sizes matter here
    _xlsx_with_big_strings(path, 8 * 1024 * 1024)
    rebuilt = tmp_path / "plain.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w") as out:
        for info in src.infolist():  # without zip64 extras, so the sizes sit in the headers
            out.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    rebuilt.replace(path)
    _lie_about_size(path, "xl/sharedStrings.xml", 1000)
    assert sum(i.file_size for i in zipfile.ZipFile(path).infolist()) < 1024 * 1024
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert outcome.error == (
        "hoso_liar.xlsx: not a readable XLSX workbook: I/O error: File is larger than its"
        " declared uncompressed size"
    )
