"""The loader against a real PostgreSQL: every variant in, exact rows out."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook

from motcua.ingest import loader
from motcua.ingest.contract import map_header

HEADER = [
    "STT",
    "Mã hồ sơ",
    "Mã đơn vị",
    "Ngày tiếp nhận",
    "Trạng thái",
    "Cập nhật lúc",
    "Địa chỉ",
    "Email",
]
ROWS = [
    [
        "1",
        "H-001",
        "22570",
        "01/02/2017",
        "Đã tiếp nhận",
        "01/02/2017 08:00:00",
        "Thôn Phú Hòa, Ninh Đa",
        "a@example.vn",
    ],
    ["2", "H-002", "22534", "02/02/2017 09:30", "Đã trả kết quả", "03/02/2017 10:00:00", "", ""],
]
COLS = "dossier_code, unit_code, received_at, status, updated_at, address, email"


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as legacy exports write it: base letters plus combining tones."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        # keep a shape mark (circumflex, breve, horn) on the base, tone marks combining
        options = [
            (unicodedata.normalize("NFC", base + m), [x for x in marks if x != m]) for m in marks
        ] + [(base, marks)]
        for head, rest in options:
            try:
                out.append(head.encode("cp1258") + "".join(rest).encode("cp1258"))
                break
            except UnicodeEncodeError:
                continue
        else:
            raise ValueError(f"{ch!r} has no Windows-1258 form")
    return b"".join(out)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue()


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for r in [header, *rows]:
        ws.append(r)
    wb.save(path)


@pytest.fixture
def conn(db_url: str):
    with psycopg.connect(db_url, autocommit=True) as c:
        loader.ensure_raw_schema(c)
        yield c


@pytest.fixture
def batch(conn: psycopg.Connection) -> int:
    return loader.start_batch(conn, date(2017, 7, 14), None)


def loaded_rows(conn: psycopg.Connection, file_name: str) -> list[tuple]:
    rows = conn.execute(
        f"select row_number, {COLS} from raw.onestop_rows where file_name = %s order by 1",
        (file_name,),
    ).fetchall()
    return [
        tuple(unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in r) for r in rows
    ]


EXPECTED = [
    (
        1,
        "H-001",
        "22570",
        "01/02/2017",
        "Đã tiếp nhận",
        "01/02/2017 08:00:00",
        "Thôn Phú Hòa, Ninh Đa",
        "a@example.vn",
    ),
    (2, "H-002", "22534", "02/02/2017 09:30", "Đã trả kết quả", "03/02/2017 10:00:00", None, None),
]


@pytest.mark.parametrize(
    ("name", "payload", "fmt", "method"),
    [
        ("hoso_utf8.csv", csv_text(HEADER, ROWS).encode(), "csv-utf8", "copy"),
        ("hoso_bom.csv", b"\xef\xbb\xbf" + csv_text(HEADER, ROWS).encode(), "csv-utf8-bom", "copy"),
        (
            "hoso_nfd.csv",
            unicodedata.normalize("NFD", csv_text(HEADER, ROWS)).encode(),
            "csv-utf8",
            "copy",
        ),
        ("hoso_1258.csv", to_cp1258(csv_text(HEADER, ROWS)), "csv-win1258", "copy"),
        # header in another order, odd case and spaces, NFD: matched by name
        (
            "hoso_shuffled.csv",
            csv_text(
                [
                    " email",
                    "TRẠNG THÁI ",
                    unicodedata.normalize("NFD", "Mã hồ sơ"),
                    "Mã  đơn vị",
                    "Ngày tiếp nhận",
                    "Cập nhật lúc",
                    "Địa chỉ",
                    "Ghi chú",
                ],
                [[r[7], r[4], r[1], r[2], r[3], r[5], r[6], "x"] for r in ROWS],
            ).encode(),
            "csv-utf8",
            "copy",
        ),
    ],
)
def test_csv_variants_load_the_same_rows(
    conn: psycopg.Connection,
    batch: int,
    tmp_path: Path,
    name: str,
    payload: bytes,
    fmt: str,
    method: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert (outcome.status, outcome.rows_read, outcome.file_format, outcome.path_method) == (
        "loaded",
        2,
        fmt,
        method,
    )
    assert loaded_rows(conn, name) == EXPECTED


def test_xlsx_with_typed_cells(conn: psycopg.Connection, batch: int, tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "hoso_typed.xlsx"
    rows = [
        [
            1,
            "H-001",
            22570,
            dt.date(2017, 2, 1),
            "Đã tiếp nhận",
            dt.datetime(2017, 2, 1, 8),
            "Thôn Phú Hòa, Ninh Đa",
            "a@example.vn",
        ],
        [
            2,
            "H-002",
            "22534",
            "02/02/2017 09:30",
            "Đã trả kết quả",
            dt.datetime(2017, 2, 3, 10, 0, 0),
            None,
            None,
        ],
        [None, None, None, None, None, None, None, None],  # blank row: no data, skipped
    ]
    write_xlsx(path, HEADER, rows)
    outcome = loader.load_file(conn, batch, "onestop", path)
    assert (outcome.status, outcome.rows_read, outcome.file_format) == ("loaded", 2, "xlsx")
    assert loaded_rows(conn, path.name) == [
        (*EXPECTED[0][:5], "01/02/2017 08:00:00", *EXPECTED[0][6:]),
        EXPECTED[1],
    ]


def test_copy_and_record_paths_agree(conn: psycopg.Connection, batch: int, tmp_path: Path) -> None:
    path = tmp_path / "hoso_same.csv"
    path.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    assert loader.load_file(conn, batch, "onestop", path).path_method == "copy"
    hmap = map_header("onestop", HEADER)
    with conn.transaction():
        file_id = loader._register(conn, batch, "onestop", "hoso_records.csv", "x", "csv-utf8")
        loader.copy_records(conn, ROWS, hmap, file_id, batch, "hoso_records.csv")
    assert loaded_rows(conn, "hoso_records.csv") == loaded_rows(conn, "hoso_same.csv")


def test_same_file_twice_is_loaded_once(conn: psycopg.Connection, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "onestop").mkdir(parents=True)
    body = csv_text(HEADER, ROWS)
    (inbox / "onestop" / "hoso_20170201.csv").write_text(body, encoding="utf-8")
    first = loader.start_batch(conn, date(2017, 7, 14), inbox)
    assert [o.status for o in loader.load_inbox(conn, inbox, first)] == ["loaded"]
    # delivered again under another name, next night
    (inbox / "onestop" / "hoso_20170202.csv").write_text(body, encoding="utf-8")
    second = loader.start_batch(conn, date(2017, 7, 15), inbox)
    assert [o.status for o in loader.load_inbox(conn, inbox, second)] == ["duplicate"]
    assert conn.execute("select count(*) from raw.onestop_rows").fetchone() == (2,)
    assert conn.execute(
        "select file_name, status, rows_read, error from raw.load_files order by file_id"
    ).fetchall() == [
        ("hoso_20170201.csv", "loaded", 2, None),
        ("hoso_20170202.csv", "duplicate", 0, "same bytes as hoso_20170201.csv"),
    ]
    archived = sorted(p.name for p in (inbox / "archive" / "onestop").iterdir())
    assert archived == ["hoso_20170201.csv", "hoso_20170202.csv"]
    assert list((inbox / "onestop").iterdir()) == []


def test_survey_file_loads_into_survey_rows(
    conn: psycopg.Connection, batch: int, tmp_path: Path
) -> None:
    path = tmp_path / "khaosat_2016.csv"
    header = [
        "Mã phiếu",
        "Năm",
        "Mã đơn vị",
        "Cơ quan",
        "Ngày khảo sát",
        "Tiếp cận dịch vụ",
        "Thủ tục hành chính",
        "Công chức",
        "Kết quả",
        "Góp ý phản ánh",
        "Ý kiến",
    ]
    rows = [
        [
            "P1",
            "2016",
            "22534",
            "UBND",
            "05/10/2016",
            "4",
            "Hài lòng",
            "5",
            "x",
            "",
            "Cán bộ nhiệt tình",
        ]
    ]
    path.write_text(csv_text(header, rows), encoding="utf-8")
    outcome = loader.load_file(conn, batch, "survey", path)
    assert (outcome.status, outcome.rows_read) == ("loaded", 1)
    got = conn.execute(
        "select response_id, survey_year, ans_access, ans_procedure, ans_result, ans_feedback,"
        " comment, dossier_code from raw.survey_rows"
    ).fetchall()
    assert got == [("P1", "2016", "4", "Hài lòng", "x", None, "Cán bộ nhiệt tình", None)]


def test_finish_batch_prepares_the_loaded_tables_for_the_build(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    """After a batch, the raw table it filled is vacuumed, with file_id's statistics.

    Without them the nightly build read the whole raw table (loader.maintain_loaded):
    the BRIN index's new block ranges are summarized by the VACUUM (8,000 rows
    fill more than one range of 128 pages), and the planner chooses the index
    only with the column's statistics.
    """
    path = tmp_path / "hoso_big.csv"
    rows = [[str(n), f"H-{n:05d}", *ROWS[0][2:]] for n in range(8000)]
    path.write_text(csv_text(HEADER, rows), encoding="utf-8")
    analyzed = "select analyze_count from pg_stat_user_tables where relid = %s::regclass"
    survey_before = conn.execute(analyzed, ("raw.survey_rows",)).fetchone()
    batch = loader.start_batch(conn, date(2017, 7, 15), None)
    assert loader.load_file(conn, batch, "onestop", path).rows_read == 8000
    assert loader.finish_batch(conn, batch) == ["raw.onestop_rows"]
    vacuumed = conn.execute(
        "select vacuum_count, n_ins_since_vacuum from pg_stat_user_tables"
        " where relid = 'raw.onestop_rows'::regclass"
    ).fetchone()
    assert vacuumed is not None and vacuumed[0] >= 1 and vacuumed[1] == 0
    stats = conn.execute(
        "select count(*) from pg_stats"
        " where schemaname = 'raw' and tablename = 'onestop_rows' and attname = 'file_id'"
    ).fetchone()
    assert stats == (1,)
    # the first block range (full) is summarized already: nothing to do there
    first = conn.execute("select brin_summarize_range('raw.onestop_rows_file_id_brin', 0)")
    assert first.fetchone() == (0,)
    # the survey table got no rows from this batch: left alone
    assert conn.execute(analyzed, ("raw.survey_rows",)).fetchone() == survey_before
    pages = "select pg_relation_size('raw.onestop_rows') / current_setting('block_size')::int"
    assert conn.execute(pages).fetchone()[0] > 128  # type: ignore[index]


def test_finish_batch_without_rows_maintains_nothing(conn: psycopg.Connection) -> None:
    batch = loader.start_batch(conn, date(2017, 7, 16), None)
    assert loader.finish_batch(conn, batch) == []


OPTIONAL = ["Kết quả điện tử", "Số hóa hồ sơ", "Phí, lệ phí", "Thanh toán trực tuyến", "Đánh giá"]
OPTIONAL_VALUES = [["Có", "", "50.000", "x", "Hài lòng"], ["", "0", "", "", ""]]
OPTIONAL_COLS = "e_result, digitised, fee, paid_online, rating"


@pytest.mark.parametrize("container", ["csv-utf8", "csv-win1258", "xlsx", "records"])
def test_optional_766_columns_present_or_absent_per_file(
    conn: psycopg.Connection, batch: int, tmp_path: Path, container: str
) -> None:
    """A file with the optional columns stores an empty value as '' (supplied, no), a file
    without them leaves them null (not supplied): by COPY, record by record and XLSX."""
    header = HEADER + OPTIONAL
    rows = [row + values for row, values in zip(ROWS, OPTIONAL_VALUES, strict=True)]
    with_path = tmp_path / f"hoso_with.{'xlsx' if container == 'xlsx' else 'csv'}"
    without_path = tmp_path / "hoso_without.csv"
    if container == "xlsx":
        write_xlsx(with_path, header, [[v or None for v in r] for r in rows])
    elif container == "csv-win1258":
        with_path.write_bytes(to_cp1258(csv_text(header, rows)))
    elif container == "records":  # a blank line makes COPY refuse the file
        with_path.write_text(csv_text(header, rows) + "\n", encoding="utf-8")
    else:
        with_path.write_text(csv_text(header, rows), encoding="utf-8")
    without_path.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    outcomes = [loader.load_file(conn, batch, "onestop", p) for p in (with_path, without_path)]
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    expected_method = {"csv-utf8": "copy", "csv-win1258": "copy"}.get(container, "records")
    assert outcomes[0].path_method == expected_method

    def optional(file_name: str) -> list[tuple]:
        return [
            tuple(unicodedata.normalize("NFC", v) if v else v for v in r)
            for r in conn.execute(
                f"select {OPTIONAL_COLS} from raw.onestop_rows where file_name = %s"
                " order by row_number",
                (file_name,),
            ).fetchall()
        ]

    assert optional(with_path.name) == [
        ("Có", "", "50.000", "x", "Hài lòng"),
        ("", "0", "", "", ""),
    ]
    assert optional(without_path.name) == [(None,) * 5, (None,) * 5]
