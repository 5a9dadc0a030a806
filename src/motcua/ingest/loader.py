"""Load inbox files into the append-only raw layer with PostgreSQL COPY.

One file is one transaction: either all its rows land in ``raw.*_rows`` with
their lineage and the file is registered in ``raw.load_files``, or nothing
does. A load killed mid-file therefore leaves no trace and the next run loads
the file again, so an interrupted night and an uninterrupted one end with the
same warehouse. A file already registered (same source and SHA-256) is skipped.

Validation against the business rules happens in dbt (quarantine models);
here we only refuse what cannot be read at all, with a clear error naming the
file (and the row where there is one).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from motcua.ingest.contract import (
    COLUMNS,
    ContractError,
    HeaderMap,
    Source,
    map_header,
)
from motcua.ingest.readers import (
    CHUNK,
    FileFacts,
    inspect_file,
    iter_csv_records,
    open_xlsx,
    read_csv_header,
)

log = logging.getLogger(__name__)

PATTERNS: dict[Source, tuple[str, ...]] = {
    "onestop": ("hoso_*.csv", "hoso_*.xlsx"),
    "survey": ("khaosat_*.csv", "khaosat_*.xlsx"),
}
SUBDIR: dict[Source, str] = {"onestop": "onestop", "survey": "survey"}
TABLE: dict[Source, str] = {"onestop": "onestop_rows", "survey": "survey_rows"}

# COPY refuses a malformed CSV with one of these; the file then goes through
# the record-by-record path, which keeps every good row and flags the others.
COPY_FALLBACK_ERRORS = (
    psycopg.errors.BadCopyFileFormat,
    psycopg.errors.CharacterNotInRepertoire,
    psycopg.errors.UntranslatableCharacter,
    psycopg.errors.InvalidTextRepresentation,
)


@dataclass(frozen=True)
class FileOutcome:
    source: Source
    file_name: str
    status: str  # loaded | duplicate | rejected
    rows_read: int = 0
    file_format: str = ""
    error: str | None = None
    file_id: int | None = None
    path_method: str = ""  # copy | records


def schema_sql() -> str:
    return (Path(__file__).parents[1] / "warehouse" / "raw_schema.sql").read_text()


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    """Create the raw and quarantine schemas (idempotent)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('motcua.raw_schema'))")
        conn.execute(schema_sql())


def start_batch(conn: psycopg.Connection, run_date: date, inbox: Path | None) -> int:
    with conn.transaction():
        row = conn.execute(
            "insert into raw.load_batches (run_date, inbox_dir) values (%s, %s) returning batch_id",
            (run_date, str(inbox) if inbox else None),
        ).fetchone()
    assert row is not None
    return int(row[0])


def finish_batch(conn: psycopg.Connection, batch_id: int) -> None:
    with conn.transaction():
        conn.execute(
            "update raw.load_batches set finished_at = now() where batch_id = %s", (batch_id,)
        )


def pending_files(inbox: Path, source: Source) -> list[Path]:
    """Files of one source waiting in the inbox, in name order (the tie-break order)."""
    folder = inbox / SUBDIR[source]
    if not folder.is_dir():
        return []
    found = {p for pattern in PATTERNS[source] for p in folder.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.name)


def _already_loaded(conn: psycopg.Connection, source: Source, sha256: str) -> bool:
    row = conn.execute(
        "select 1 from raw.load_files where source = %s and sha256 = %s and status = 'loaded'",
        (source, sha256),
    ).fetchone()
    return row is not None


def _register(
    conn: psycopg.Connection,
    batch_id: int,
    source: Source,
    name: str,
    sha256: str,
    fmt: str,
    status: str = "loaded",
    error: str | None = None,
) -> int:
    row = conn.execute(
        "insert into raw.load_files (batch_id, source, file_name, sha256, file_format, status,"
        " error) values (%s, %s, %s, %s, %s, %s, %s) returning file_id",
        (batch_id, source, name, sha256, fmt, status, error),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _target_columns(source: Source) -> list[str]:
    return list(COLUMNS[source].values())


def _copy_whole_file(
    conn: psycopg.Connection,
    path: Path,
    facts: FileFacts,
    hmap: HeaderMap,
    file_id: int,
    batch_id: int,
) -> int:
    """Stream the bytes through COPY into a temp table, then into raw in one statement."""
    width = hmap.width
    staging_cols = [sql.Identifier(f"c{i}") for i in range(width)]
    conn.execute(
        sql.SQL(
            "create temp table motcua_copy_in (rn bigint generated always as identity, {})"
            " on commit drop"
        ).format(sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in staging_cols))
    )
    copy_stmt = sql.SQL(
        "copy motcua_copy_in ({}) from stdin with (format csv, header true, encoding {})"
    ).format(sql.SQL(", ").join(staging_cols), sql.Literal(facts.pg_encoding))
    with conn.cursor() as cur, cur.copy(copy_stmt) as copy, path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            copy.write(chunk)
    targets = _target_columns(hmap.source)
    selects = [
        sql.SQL("nullif({}, '')").format(staging_cols[hmap.positions[c]])
        if c in hmap.positions
        else sql.NULL
        for c in targets
    ]
    insert = sql.SQL(
        "insert into raw.{table} (file_id, batch_id, file_name, row_number, loaded_at, {cols})"
        " select {file_id}, {batch_id}, {name}, rn, now(), {vals} from motcua_copy_in order by rn"
    ).format(
        table=sql.Identifier(TABLE[hmap.source]),
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in targets),
        file_id=sql.Literal(file_id),
        batch_id=sql.Literal(batch_id),
        name=sql.Literal(path.name),
        vals=sql.SQL(", ").join(selects),
    )
    count = conn.execute(insert).rowcount
    conn.execute("drop table motcua_copy_in")
    return count


def _shape_record(
    record: Sequence[str | None], hmap: HeaderMap
) -> tuple[list[str | None], str | None]:
    """Map one record onto the raw columns; say what is wrong with its shape."""
    problems = []
    if len(record) != hmap.width:
        problems.append(f"expected {hmap.width} fields, got {len(record)}")
    if any(v is not None and "\x00" in v for v in record):
        problems.append("NUL byte in a field")
    values: list[str | None] = []
    for column in _target_columns(hmap.source):
        index = hmap.positions.get(column)
        value = record[index] if index is not None and index < len(record) else None
        values.append(value.replace("\x00", "") if value else None)
    return values, "; ".join(problems) or None


def copy_records(
    conn: psycopg.Connection,
    records: Iterable[Sequence[str | None]],
    hmap: HeaderMap,
    file_id: int,
    batch_id: int,
    file_name: str,
) -> int:
    """COPY records one by one (XLSX, API pages, CSV that COPY refused).

    Fully blank records carry no data and are skipped (row numbers keep
    counting them, so a row number always points at the record in the file);
    a record of the wrong
    width keeps every field in ``raw_record`` and a ``row_error`` so staging
    quarantines it with the values intact.
    """
    targets = _target_columns(hmap.source)
    stmt = sql.SQL(
        "copy raw.{table} (file_id, batch_id, file_name, row_number, loaded_at, row_error,"
        " raw_record, {cols}) from stdin"
    ).format(
        table=sql.Identifier(TABLE[hmap.source]),
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in targets),
    )
    loaded_at = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    count = 0
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row_number, record in enumerate(records, start=1):
            if not any(v not in (None, "") and str(v).strip() for v in record):
                continue
            count += 1
            values, error = _shape_record(record, hmap)
            raw_record = [v.replace("\x00", "") if v else v for v in record] if error else None
            copy.write_row(
                (file_id, batch_id, file_name, row_number, loaded_at, error, raw_record, *values)
            )
    return count


def _load_csv(
    conn: psycopg.Connection,
    path: Path,
    facts: FileFacts,
    source: Source,
    file_id: int,
    batch_id: int,
) -> tuple[int, str]:
    assert facts.codec is not None
    header = read_csv_header(path, facts.codec)
    if not any(h.strip() for h in header):
        raise ContractError("no header row")
    hmap = map_header(source, header)
    try:
        with conn.transaction():
            return _copy_whole_file(conn, path, facts, hmap, file_id, batch_id), "copy"
    except COPY_FALLBACK_ERRORS as exc:
        log.info(
            "COPY refused %s (%s); reading record by record", path.name, str(exc).splitlines()[0]
        )
    records = iter_csv_records(path, facts.codec)
    return copy_records(conn, records, hmap, file_id, batch_id, path.name), "records"


def _load_xlsx(
    conn: psycopg.Connection,
    path: Path,
    source: Source,
    file_id: int,
    batch_id: int,
) -> tuple[int, str]:
    header, records = open_xlsx(path)
    if not any(h.strip() for h in header):
        raise ContractError("no header row in the first sheet")
    hmap = map_header(source, header)
    return copy_records(conn, records, hmap, file_id, batch_id, path.name), "records"


def load_file(conn: psycopg.Connection, batch_id: int, source: Source, path: Path) -> FileOutcome:
    """Load one file in one transaction; never raises for bad content."""
    try:
        facts = inspect_file(path)
    except ContractError as exc:
        return _reject(conn, batch_id, source, path, None, str(exc))
    if _already_loaded(conn, source, facts.sha256):
        return FileOutcome(source, path.name, "duplicate", file_format=facts.file_format)
    try:
        with conn.transaction():
            file_id = _register(conn, batch_id, source, path.name, facts.sha256, facts.file_format)
            if facts.file_format == "xlsx":
                rows, method = _load_xlsx(conn, path, source, file_id, batch_id)
            else:
                rows, method = _load_csv(conn, path, facts, source, file_id, batch_id)
            conn.execute(
                "update raw.load_files set rows_read = %s where file_id = %s", (rows, file_id)
            )
    except ContractError as exc:
        return _reject(conn, batch_id, source, path, facts, str(exc))
    return FileOutcome(source, path.name, "loaded", rows, facts.file_format, None, file_id, method)


def _reject(
    conn: psycopg.Connection,
    batch_id: int,
    source: Source,
    path: Path,
    facts: FileFacts | None,
    error: str,
) -> FileOutcome:
    message = f"{path.name}: {error}"
    log.warning("rejected %s", message)
    with conn.transaction():
        _register(
            conn,
            batch_id,
            source,
            path.name,
            facts.sha256 if facts else "",
            facts.file_format if facts else "unknown",
            "rejected",
            error,
        )
    return FileOutcome(
        source, path.name, "rejected", 0, facts.file_format if facts else "", message
    )


def settle_file(inbox: Path, source: Source, path: Path, outcome: FileOutcome) -> Path:
    """Move a handled file out of the inbox: archive/ when loaded, rejected/ otherwise.

    Runs after the commit: a crash in between leaves the file in the inbox,
    and the next run sees its hash registered and only moves it.
    """
    folder = "rejected" if outcome.status == "rejected" else "archive"
    target_dir = inbox / folder / SUBDIR[source]
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    counter = 1
    while target.exists():
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    if outcome.status == "rejected":
        target.with_name(target.name + ".error.txt").write_text((outcome.error or "") + "\n")
    return target


def load_inbox(
    conn: psycopg.Connection,
    inbox: Path,
    batch_id: int,
    sources: Iterable[Source] = ("onestop", "survey"),
) -> Iterator[FileOutcome]:
    """Load every pending file of the inbox, file by file, then archive it."""
    for source in sources:
        for path in pending_files(inbox, source):
            outcome = load_file(conn, batch_id, source, path)
            settle_file(inbox, source, path, outcome)
            log.info("%s %s: %s, %s rows", source, path.name, outcome.status, outcome.rows_read)
            yield outcome
