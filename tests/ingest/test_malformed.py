"""Every malformed input gets a clear outcome: quarantine-ready rows or a named error."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from motcua.ingest import loader
from tests.ingest.test_loader import HEADER, ROWS, csv_text

GOOD = ROWS[0]


@pytest.fixture
def conn(db_url: str):
    with psycopg.connect(db_url, autocommit=True) as c:
        loader.ensure_raw_schema(c)
        yield c


@pytest.fixture
def batch(conn: psycopg.Connection) -> int:
    return loader.start_batch(conn, date(2017, 7, 14), None)


def load(conn: psycopg.Connection, batch: int, path: Path, payload: bytes) -> loader.FileOutcome:
    path.write_bytes(payload)
    return loader.load_file(conn, batch, "onestop", path)


def raw(conn: psycopg.Connection, name: str, cols: str = "row_number, row_error, dossier_code"):
    return conn.execute(
        f"select {cols} from raw.onestop_rows where file_name = %s order by row_number", (name,)
    ).fetchall()


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"", "hoso_x.csv: empty file (0 bytes)"),
        (
            "Mã hồ sơ,Trạng thái\nH-1,Đã tiếp nhận\n".encode(),
            "hoso_x.csv: missing required column(s): Mã đơn vị, Ngày tiếp nhận, Cập nhật lúc",
        ),
        (
            "\ufeffMã hồ sơ".encode("utf-16"),
            "hoso_x.csv: UTF-16 text is not a contract encoding (UTF-8 or Windows-1258)",
        ),
        (
            csv_text(HEADER, ROWS).encode()[:40] + b"\x81\x8d" + b"rest\n",
            "hoso_x.csv: neither UTF-8 nor Windows-1258: undecodable byte at offset 40",
        ),
        (b"\n\n", "hoso_x.csv: no header row"),
        (
            csv_text(["Mã hồ sơ", "mã hồ sơ ", *HEADER[2:]], []).encode(),
            "hoso_x.csv: column 'mã hồ sơ' appears twice in the header",
        ),
    ],
)
def test_unreadable_files_are_rejected_with_a_named_reason(
    conn: psycopg.Connection, batch: int, tmp_path: Path, payload: bytes, error: str
) -> None:
    outcome = load(conn, batch, tmp_path / "hoso_x.csv", payload)
    assert (outcome.status, outcome.error) == ("rejected", error)
    registered = conn.execute("select status, error, rows_read from raw.load_files").fetchall()
    assert registered == [("rejected", error.removeprefix("hoso_x.csv: "), 0)]
    assert raw(conn, "hoso_x.csv") == []


def test_header_only_file_loads_zero_rows(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    outcome = load(conn, batch, tmp_path / "hoso_h.csv", csv_text(HEADER, []).encode())
    assert (outcome.status, outcome.rows_read) == ("loaded", 0)


def test_garbled_rows_are_kept_with_their_fields_and_an_error(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    body = csv_text(HEADER, [GOOD]) + "2,H-002,22570,01/02/2017,Đã tiếp nhận,x,y,z,EXTRA\n\n"
    body += '4,H-004,22570,"01/02/2017,truncated here\n'
    outcome = load(conn, batch, tmp_path / "hoso_g.csv", body.encode())
    assert (outcome.status, outcome.rows_read, outcome.path_method) == ("loaded", 3, "records")
    assert raw(conn, "hoso_g.csv") == [
        (1, None, "H-001"),
        (2, "expected 8 fields, got 9", "H-002"),
        (4, "expected 8 fields, got 4", "H-004"),
    ]
    record = raw(conn, "hoso_g.csv", "raw_record")[1][0]
    assert record == ["2", "H-002", "22570", "01/02/2017", "Đã tiếp nhận", "x", "y", "z", "EXTRA"]


def test_nul_bytes_flag_the_row(conn: psycopg.Connection, batch: int, tmp_path: Path) -> None:
    bad = [*GOOD[:6], "Thôn\x00 1", GOOD[7]]
    outcome = load(conn, batch, tmp_path / "hoso_n.csv", csv_text(HEADER, [bad, GOOD]).encode())
    assert (outcome.status, outcome.rows_read) == ("loaded", 2)
    assert raw(conn, "hoso_n.csv", "row_number, row_error, address") == [
        (1, "NUL byte in a field", "Thôn 1"),
        (2, None, GOOD[6]),
    ]


def test_field_over_the_limit_is_an_error_naming_the_row(
    conn: psycopg.Connection, batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = csv.field_size_limit(1000)
    try:
        huge = [*GOOD[:6], "x" * 5000, GOOD[7]]
        short = GOOD[:3]  # forces the record-by-record path
        body = csv_text(HEADER, [GOOD, short, huge]).encode()
        outcome = load(conn, batch, tmp_path / "hoso_big.csv", body)
    finally:
        csv.field_size_limit(previous)
    assert outcome.status == "rejected"
    assert outcome.error == "hoso_big.csv: line 4: field larger than field limit (1000)"
    assert conn.execute("select count(*) from raw.onestop_rows").fetchone() == (0,)


def test_huge_fields_load_intact(conn: psycopg.Connection, batch: int, tmp_path: Path) -> None:
    huge = [*GOOD[:6], "Thôn " + "x" * 5_000_000, GOOD[7]]
    outcome = load(conn, batch, tmp_path / "hoso_huge.csv", csv_text(HEADER, [huge]).encode())
    assert (outcome.status, outcome.rows_read) == ("loaded", 1)
    assert raw(conn, "hoso_huge.csv", "length(address)") == [(5_000_005,)]


HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "'); drop table raw.onestop_rows; --",
    "Robert'); DROP TABLE students;--",
]


def test_formula_and_sql_looking_text_is_stored_verbatim(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    rows = [
        [
            str(i),
            f"H-{i}",
            "22570",
            "01/02/2017",
            "Đã tiếp nhận",
            "01/02/2017 08:00:00",
            text,
            "a@example.vn",
        ]
        for i, text in enumerate(HOSTILE, start=1)
    ]
    csv_outcome = load(conn, batch, tmp_path / "hoso_hostile.csv", csv_text(HEADER, rows).encode())
    path = tmp_path / "hoso_hostile.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # text, as the export writes it, not a formula
            cells.append(cell)
        ws.append(cells)
    wb.save(path)
    xlsx_outcome = loader.load_file(conn, batch, "onestop", path)
    assert (csv_outcome.rows_read, xlsx_outcome.rows_read) == (5, 5)
    for name in ("hoso_hostile.csv", "hoso_hostile.xlsx"):
        assert [r[0] for r in raw(conn, name, "address")] == HOSTILE
    assert conn.execute("select to_regclass('raw.onestop_rows')").fetchone() == (
        "raw.onestop_rows",
    )


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"", "hoso_x.xlsx: empty file (0 bytes)"),
        (b"PK\x03\x04 not really a zip", "hoso_x.xlsx: not a readable XLSX workbook"),
    ],
)
def test_broken_xlsx_is_rejected(
    conn: psycopg.Connection, batch: int, tmp_path: Path, payload: bytes, error: str
) -> None:
    outcome = load(conn, batch, tmp_path / "hoso_x.xlsx", payload)
    assert outcome.status == "rejected"
    assert outcome.error is not None and outcome.error.startswith(error)
