"""The national unit reference in the warehouse: loaded once, not every night.

``python -m motcua.reference`` writes ``data/admin_units.csv`` (~13,400 unit
versions) and ``data/admin_unit_crosswalk.csv`` (~10,600 edges). As dbt seeds
they took a minute to insert at every build; here they are copied (``COPY``)
into ``raw.admin_units`` and ``raw.admin_unit_crosswalk`` only when their
bytes changed (SHA-256 in ``raw.reference_loads``), by ``ensure_loaded``,
which ``motcua.ingest.loader.ensure_raw_schema`` calls: a night with the same
package version checks two hashes and loads nothing. dbt reads them as the
source ``reference`` (``stg_reference__admin_units`` adds the operators'
seed ``admin_units_local``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

DATA_DIR = Path(str(resources.files("motcua.reference") / "data"))


@dataclass(frozen=True)
class ReferenceTable:
    """One generated CSV and the raw table it is copied into (same columns, same order)."""

    file_name: str
    table: str


TABLES: tuple[ReferenceTable, ...] = (
    ReferenceTable(
        "admin_units.csv",
        "raw.admin_units",
    ),
    ReferenceTable(
        "admin_unit_crosswalk.csv",
        "raw.admin_unit_crosswalk",
    ),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy(conn: psycopg.Connection, table: str, path: Path) -> int:
    """Replace the table's rows with the CSV's (header skipped; empty field = null)."""
    conn.execute(f"truncate {table}")
    with (
        conn.cursor().copy(f"copy {table} from stdin with (format csv, header true)") as copy,
        path.open("rb") as handle,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    conn.execute(f"analyze {table}")
    row = conn.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


def ensure_loaded(conn: psycopg.Connection, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """(Re)load each reference table whose CSV changed; returns what was loaded.

    The tables are created with schema raw (``motcua/ingest/raw_schema.sql``, their
    DDL's one owner).

    Runs inside the caller's transaction (``ensure_raw_schema`` holds its
    advisory lock), so a concurrent start never loads twice nor sees a
    half-loaded table.
    """
    loaded: dict[str, int] = {}
    for ref in TABLES:
        path = data_dir / ref.file_name
        digest = sha256(path)
        row = conn.execute(
            "select sha256 from raw.reference_loads where file_name = %s", (ref.file_name,)
        ).fetchone()
        if row is not None and row[0] == digest:
            continue
        count = _copy(conn, ref.table, path)
        conn.execute(
            "insert into raw.reference_loads (file_name, sha256, rows) values (%s, %s, %s)"
            " on conflict (file_name) do update set sha256 = excluded.sha256,"
            " rows = excluded.rows, loaded_at = now()",
            (ref.file_name, digest, count),
        )
        loaded[ref.file_name] = count
    return loaded
