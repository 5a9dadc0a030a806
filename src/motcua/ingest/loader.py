"""Load inbox files into the append-only raw layer with PostgreSQL COPY.

One file is one transaction: either all its rows land in ``raw.*_rows`` with
their lineage and the file is registered in ``raw.load_files``, or nothing
does. A load killed mid-file therefore leaves no trace and the next run loads
the file again, so an interrupted night and an uninterrupted one end with the
same warehouse. A file already registered (same source and SHA-256) is skipped.

Fast path: a well-formed CSV is streamed byte for byte into ``COPY`` straight
into the raw table (lineage columns come from defaults fed by per-transaction
settings), hashing the bytes and counting the records on the way: one pass
over the file, no parsing in Python. The count is the loader's own, not the
one ``COPY`` reports: they must agree (PostgreSQL before 18 silently ends CSV
data at a line holding only ``\\.``). Anything ``COPY`` refuses (wrong field
counts, blank lines, NUL bytes), a count that disagrees, a file not all in one
encoding and every XLSX go record by record, so good rows are kept and bad
ones carry a ``row_error`` for quarantine.

Only regular files are read: a symbolic link (never followed), a named pipe
or a folder in the inbox is moved to ``rejected/`` with the reason.

Validation against the business rules happens in dbt (quarantine models);
here we only refuse what cannot be read at all, with a clear error naming the
file (and the line where there is one).
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from motcua.ingest.contract import (
    COLUMNS,
    PRESENCE_COLUMNS,
    ContractError,
    HeaderMap,
    Source,
    map_header,
)
from motcua.ingest.readers import (
    CHUNK,
    FileFacts,
    FlaggedRecord,
    RecordCounter,
    count_records,
    inspect_file,
    iter_csv_records,
    open_xlsx,
    peek_csv,
)

log = logging.getLogger(__name__)

PATTERNS: dict[Source, tuple[str, ...]] = {
    "onestop": ("hoso_*.csv", "hoso_*.xlsx"),
    "survey": ("khaosat_*.csv", "khaosat_*.xlsx"),
}
TABLE: dict[Source, str] = {"onestop": "onestop_rows", "survey": "survey_rows"}
EXTRA_COLUMNS = tuple(f"extra_{i}" for i in range(1, 9))

ENCODING_ERRORS = (psycopg.errors.CharacterNotInRepertoire, psycopg.errors.UntranslatableCharacter)
FORMAT_ERRORS = (psycopg.errors.BadCopyFileFormat, psycopg.errors.InvalidTextRepresentation)


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


class _Duplicate(Exception):
    """Raised inside a file's transaction to roll it back: the bytes were loaded before."""


class _CountMismatch(Exception):
    """COPY stored another number of rows than the file holds: roll the COPY back."""


def schema_sql() -> str:
    """The DDL of schema raw: ``raw_schema.sql`` beside this module, its one owner."""
    return Path(__file__).with_name("raw_schema.sql").read_text(encoding="utf-8")


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    """Create the raw and quarantine schemas with the unit reference loaded.

    Idempotent, and safe when two runs start at once.
    """
    from motcua.reference.load import ensure_loaded

    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('motcua.raw_schema'))")
        conn.execute(schema_sql())
        ensure_loaded(conn)  # the national unit reference, only when its files changed


def start_batch(conn: psycopg.Connection, run_date: date, inbox: Path | None) -> int:
    with conn.transaction():
        row = conn.execute(
            "insert into raw.load_batches (run_date, inbox_dir) values (%s, %s) returning batch_id",
            (run_date, str(inbox) if inbox else None),
        ).fetchone()
    assert row is not None
    return int(row[0])


def finish_batch(conn: psycopg.Connection, batch_id: int) -> list[str]:
    """Close the batch, then prepare the raw tables it added rows to for the build.

    Returns those tables (see ``maintain_loaded``). ``conn`` must be in
    autocommit mode: the maintenance runs after the batch's transactions.
    """
    with conn.transaction():
        conn.execute(
            "update raw.load_batches set finished_at = now() where batch_id = %s", (batch_id,)
        )
    return maintain_loaded(conn, batch_id)


# Each raw table the batch added rows to that this login may maintain (it owns
# it, or is a superuser).
_OWNED = """
select c.oid::regclass::text from pg_class as c
where c.oid = any(%s::regclass[]) and pg_has_role(current_user, c.relowner, 'USAGE')
order by 1
"""


def maintain_loaded(conn: psycopg.Connection, batch_id: int) -> list[str]:
    """VACUUM and ANALYZE (file_id) each raw table the batch added rows to; return them.

    The nightly build reads only the new files' rows of ``raw.onestop_rows``,
    through the BRIN index on file_id, and that holds only after this: the
    block ranges COPY fills stay unsummarized until a VACUUM, and a BRIN scan
    reads every unsummarized range, so until autovacuum came round (or
    never, on a server without it) the night read the whole table; and
    without the column's statistics (its correlation with the table's order)
    the planner expects the index to match every block and scans the table
    instead. Both hung on autovacuum's timing, and autovacuum's own pass over
    a first load of millions of rows ran during the full build. Done here
    once per batch instead: the VACUUM reads only the blocks not yet marked
    all-visible (the new rows; the whole table once, after the first load),
    and the statistics are those of file_id, the only column the build
    selects raw rows by (a sample of 30,000 rows: a fraction of a second,
    where all 40 columns took seconds). ``conn`` must be in autocommit
    mode. A login that does not own the table (the loader group alone)
    leaves it to autovacuum.
    """
    rows = conn.execute(
        "select distinct source from raw.load_files"
        " where batch_id = %s and status = 'loaded' and rows_read > 0",
        (batch_id,),
    ).fetchall()
    loaded = [f"raw.{TABLE[source]}" for (source,) in rows]
    owned = [table for (table,) in conn.execute(_OWNED, (loaded,)).fetchall()]
    for table in owned:
        conn.execute(sql.SQL("vacuum (analyze) {} (file_id)").format(sql.SQL(table)))
    return owned


def pending_files(inbox: Path, source: Source) -> list[Path]:
    """Entries of one source waiting in the inbox, in name order (the tie-break order).

    Every entry whose name matches, whatever it is (links, pipes and folders
    too): ``load_file`` refuses what is not a regular file instead of
    skipping it silently or reading through it.
    """
    folder = inbox / source
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        found = [
            folder / e.name
            for e in entries
            if any(fnmatch.fnmatchcase(e.name, pattern) for pattern in PATTERNS[source])
        ]
    return sorted(found, key=lambda p: p.name)


def not_a_regular_file(path: Path) -> str | None:
    """Why an inbox entry must not be read, or None for a regular file.

    ``lstat``: a symbolic link is judged as the link, never as its target (a
    link could make the loader read any file the pipeline's user can read).
    """
    mode = path.lstat().st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link, not a regular file (the link was not followed)"
    if stat.S_ISDIR(mode):
        return "a directory, not a regular file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file"
    return "a special file (device or socket), not a regular file"


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


def _file_columns(hmap: HeaderMap) -> list[str] | None:
    """Target column of each field of the file, in file order; None if too many unknowns."""
    by_position = {index: column for column, index in hmap.positions.items()}
    extras = iter(EXTRA_COLUMNS)
    columns = []
    for index in range(hmap.width):
        column = by_position.get(index) or next(extras, None)
        if column is None:
            return None
        columns.append(column)
    return columns


def _set_lineage(conn: psycopg.Connection, file_id: int, batch_id: int, name: str) -> None:
    """Feed the raw tables' lineage defaults for this transaction.

    The advisory lock serialises loads, so the row-number sequence hands this
    file consecutive values starting right after ``row_base``.
    """
    conn.execute("select pg_advisory_xact_lock(hashtext('motcua.raw_load'))")
    conn.execute(
        "select set_config('motcua.file_id', %s, true), set_config('motcua.batch_id', %s, true),"
        " set_config('motcua.file_name', %s, true),"
        " set_config('motcua.row_base', nextval('raw.copy_row_seq')::text, true)",
        (str(file_id), str(batch_id), name),
    )


def _copy_bytes(
    conn: psycopg.Connection, path: Path, table: str, columns: list[str], encoding: str
) -> tuple[int, str]:
    """Stream the file into COPY, hashing and counting lines on the way; (rows, sha256).

    The rows COPY stored must be the records the file holds, counted here
    from the bytes (``RecordCounter``): a line count on the way, and an exact
    count in a second pass only when the two differ. Raises ``_CountMismatch``
    otherwise (e.g. COPY stopped at a ``\\.`` line): the caller rolls the
    COPY back and reads the file record by record.
    """
    digest = hashlib.sha256()
    lines = RecordCounter(quote_aware=False)
    # an empty value of a presence column the file has is '' (supplied), not null
    kept_empty = [c for c in columns if c in PRESENCE_COLUMNS]
    options = sql.SQL("format csv, header true, encoding {}").format(sql.Literal(encoding))
    if kept_empty:
        options += sql.SQL(", force_not_null ({})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in kept_empty)
        )
    stmt = sql.SQL("copy raw.{} ({}) from stdin with ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        options,
    )
    with conn.cursor() as cur:
        with cur.copy(stmt) as copy, path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                lines.feed(chunk)
                copy.write(chunk)
        stored = cur.rowcount
    if stored != lines.records:
        records = count_records(path)  # fields may hold line breaks: count exactly
        if stored != records:
            raise _CountMismatch(f"COPY stored {stored} rows of the {records} in the file")
    return stored, digest.hexdigest()


def _shape_record(
    record: Sequence[str | None],
    hmap: HeaderMap,
    targets: list[str],
    none_is_absent: bool = False,
) -> tuple[list[str | None], str | None]:
    """Values for ``targets`` from one record, and what is wrong with its shape.

    An empty value of a presence column the header has becomes '' (supplied,
    empty), as COPY's ``force_not_null`` does on the fast path; with
    ``none_is_absent`` (API items) a None stays null: the item lacked the key.
    """
    problems = [record.problem] if isinstance(record, FlaggedRecord) else []
    if len(record) != hmap.width:
        problems.append(f"expected {hmap.width} fields, got {len(record)}")
    if any(v is not None and "\x00" in v for v in record):
        problems.append("NUL byte in a field")
    positions = dict(hmap.positions)
    extras = iter(EXTRA_COLUMNS)
    known = set(positions.values())
    for index in range(hmap.width):
        if index not in known:
            column = next(extras, None)
            if column:
                positions[column] = index
    values: list[str | None] = []
    for column in targets:
        index = positions.get(column)
        value = record[index] if index is not None and index < len(record) else None
        if value:
            values.append(value.replace("\x00", ""))
        elif (
            column in PRESENCE_COLUMNS
            and index is not None
            and not (none_is_absent and value is None)
        ):
            values.append("")
        else:
            values.append(None)
    return values, "; ".join(problems) or None


def copy_records(
    conn: psycopg.Connection,
    records: Iterable[Sequence[str | None]],
    hmap: HeaderMap,
    file_id: int,
    batch_id: int,
    file_name: str,
    none_is_absent: bool = False,
) -> int:
    """COPY records one by one (XLSX, API pages, CSV that COPY refused).

    Fully blank records carry no data and are skipped (row numbers keep
    counting them, so a row number always points at the record in the file);
    ``none_is_absent``: see ``_shape_record``;
    a record of the wrong width, or in another encoding than its file
    (``FlaggedRecord``), keeps every field in ``raw_record`` and a
    ``row_error`` so staging quarantines it with the values intact. The
    records counted here must be the rows COPY stored, or the file fails.
    """
    targets = [*EXTRA_COLUMNS, *COLUMNS[hmap.source].values()]
    stmt = sql.SQL(
        "copy raw.{table} (file_id, batch_id, file_name, row_number, loaded_at, row_error,"
        " raw_record, {cols}) from stdin"
    ).format(
        table=sql.Identifier(TABLE[hmap.source]),
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in targets),
    )
    loaded_at = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    count = 0
    with conn.cursor() as cur:
        with cur.copy(stmt) as copy:
            for row_number, record in enumerate(records, start=1):
                if not any(v not in (None, "") and str(v).strip() for v in record):
                    continue
                count += 1
                values, error = _shape_record(record, hmap, targets, none_is_absent)
                raw_record = [v.replace("\x00", "") if v else v for v in record] if error else None
                lineage = (file_id, batch_id, file_name, row_number, loaded_at)
                copy.write_row((*lineage, error, raw_record, *values))
        stored = cur.rowcount
    if stored != count:
        raise ContractError(f"COPY stored {stored} rows of the {count} records read")
    return count


def _load_csv(
    conn: psycopg.Connection, path: Path, source: Source, file_id: int, batch_id: int
) -> tuple[int, str, str, str]:
    """(rows, sha256, file format, method) of one CSV file, inside its transaction.

    COPY decodes the whole file in one encoding, so it gets only files that
    are all in one: a UTF-8 guess is checked by COPY itself (it validates
    every byte); anything else is inspected first, since Windows-1258 accepts
    almost any byte and would turn a UTF-8 row into mojibake.
    """
    head = peek_csv(path)
    if not any(h.strip() for h in head.header):
        raise ContractError("no header row")
    hmap = map_header(source, head.header)
    columns = _file_columns(hmap)
    facts: FileFacts | None = None
    encoding: str | None = head.pg_encoding
    if columns is not None and encoding != "UTF8":
        facts = inspect_file(path)
        encoding = facts.pg_encoding if facts.pure else None
    while columns is not None and encoding is not None:
        try:
            with conn.transaction():
                rows, sha = _copy_bytes(conn, path, TABLE[source], columns, encoding)
        except ENCODING_ERRORS:
            tried, encoding = encoding, None
            if facts is None:
                facts = inspect_file(path)
                if facts.pure and facts.pg_encoding != tried:
                    encoding = facts.pg_encoding
            continue
        except FORMAT_ERRORS as exc:
            log.info("COPY refused %s (%s): record by record", path.name, _first_line(exc))
            break
        except _CountMismatch as exc:
            log.warning("%s: %s: record by record", path.name, exc)
            break
        return rows, sha, facts.file_format if facts else head.file_format, "copy"
    facts = facts or inspect_file(path)
    rows = copy_records(conn, iter_csv_records(path, facts), hmap, file_id, batch_id, path.name)
    return rows, facts.sha256, facts.file_format, "records"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _load_xlsx(
    conn: psycopg.Connection, path: Path, source: Source, file_id: int, batch_id: int
) -> tuple[int, str, str, str]:
    facts = inspect_file(path)
    header, records = open_xlsx(path)
    if not any(h.strip() for h in header):
        raise ContractError("no header row in the first sheet")
    hmap = map_header(source, header)
    rows = copy_records(conn, records, hmap, file_id, batch_id, path.name)
    return rows, facts.sha256, "xlsx", "records"


def load_file(conn: psycopg.Connection, batch_id: int, source: Source, path: Path) -> FileOutcome:
    """Load one file in one transaction; never raises for bad content."""
    refused = not_a_regular_file(path)
    if refused:
        return _reject(conn, batch_id, source, path, refused, regular=False)
    reader = _load_xlsx if path.suffix.lower() == ".xlsx" else _load_csv
    try:
        with conn.transaction():
            file_id = _register(conn, batch_id, source, path.name, "", "")
            _set_lineage(conn, file_id, batch_id, path.name)
            rows, sha, fmt, method = reader(conn, path, source, file_id, batch_id)
            if _already_loaded(conn, source, sha):
                raise _Duplicate(fmt)
            conn.execute(
                "update raw.load_files set sha256 = %s, file_format = %s, rows_read = %s"
                " where file_id = %s",
                (sha, fmt, rows, file_id),
            )
    except _Duplicate as dup:
        return _note_duplicate(conn, batch_id, source, path, str(dup))
    except ContractError as exc:
        return _reject(conn, batch_id, source, path, str(exc))
    return FileOutcome(source, path.name, "loaded", rows, fmt, None, file_id, method)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _note_duplicate(
    conn: psycopg.Connection, batch_id: int, source: Source, path: Path, fmt: str
) -> FileOutcome:
    """Record a re-delivered file (no rows) so the audit trail shows every delivery."""
    sha = _sha256_of(path)
    with conn.transaction():
        first = conn.execute(
            "select file_name from raw.load_files where source = %s and sha256 = %s"
            " and status = 'loaded'",
            (source, sha),
        ).fetchone()
        note = f"same bytes as {first[0]}" if first else "same bytes as a loaded file"
        _register(conn, batch_id, source, path.name, sha, fmt, "duplicate", note)
    return FileOutcome(source, path.name, "duplicate", 0, fmt, note)


def _reject(
    conn: psycopg.Connection,
    batch_id: int,
    source: Source,
    path: Path,
    error: str,
    regular: bool = True,
) -> FileOutcome:
    """Register a file refused whole; only a regular file is hashed (a pipe would block)."""
    message = f"{path.name}: {error}"
    log.warning("rejected %s", message)
    sha = _sha256_of(path) if regular else ""
    with conn.transaction():
        _register(conn, batch_id, source, path.name, sha, "unknown", "rejected", error)
    return FileOutcome(source, path.name, "rejected", 0, "", message)


def settle_file(inbox: Path, source: Source, path: Path, outcome: FileOutcome) -> Path:
    """Move a handled file out of the inbox: archive/ when loaded, rejected/ otherwise.

    Runs after the commit: a crash in between leaves the file in the inbox,
    and the next run finds its hash registered and only moves it. A link, a
    pipe or a folder is renamed as it is (a link still points where it did;
    its target is never read nor moved).
    """
    folder = "rejected" if outcome.status == "rejected" else "archive"
    target_dir = inbox / folder / source
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    counter = 1
    while os.path.lexists(target):
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    if stat.S_ISREG(path.lstat().st_mode):
        shutil.move(str(path), target)
    else:
        os.rename(path, target)  # same file system: the entry itself, never its target
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
