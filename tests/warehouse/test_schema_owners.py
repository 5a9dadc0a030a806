"""One owner for each schema's DDL, and SQL files read only by their own package.

raw belongs to the loader (``motcua/ingest/raw_schema.sql``), ops.run_summaries
to ``motcua.summary``, dq to ``motcua.quality.store``; ``motcua.warehouse.access``
only calls them and grants. dbt's schemas (staging, intermediate, quarantine,
marts, and its ops models) are dbt's.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import psycopg

from motcua import summary
from motcua.ingest.loader import ensure_raw_schema
from motcua.quality.store import ensure_schema as ensure_dq_schema
from tests.conftest import create_database, drop_database

SRC = Path(__file__).resolve().parents[2] / "src"
DDL = re.compile(
    r"create\s+(?:schema\s+if\s+not\s+exists\s+"
    r"|(?:unique\s+)?index\s+(?:if\s+not\s+exists\s+)?\w+\s+on\s+"
    r"|table\s+(?:if\s+not\s+exists\s+)?"
    r"|(?:or\s+replace\s+)?view\s+)"
    r"(raw|ops|dq)\b",
    re.IGNORECASE,
)


def ddl_owners() -> dict[str, set[str]]:
    """schema → the files under src/ that hold a CREATE of it or of a relation in it."""
    owners: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*")):
        if path.suffix in {".py", ".sql"}:
            for match in DDL.finditer(path.read_text(encoding="utf-8")):
                owners.setdefault(match.group(1).lower(), set()).add(str(path.relative_to(SRC)))
    return owners


def test_each_schema_has_one_ddl_owner() -> None:
    assert ddl_owners() == {
        "raw": {"motcua/ingest/raw_schema.sql"},
        "ops": {"motcua/summary.py"},
        "dq": {"motcua/quality/store.py"},
    }


def test_sql_files_are_read_only_by_their_own_package() -> None:
    """A module names only the .sql files of its own directory, never one found via parents."""
    strays = []
    for module in sorted(SRC.rglob("*.py")):
        source = module.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = node.value
                local = name.endswith(".sql") and "/" not in name and " " not in name
                if local and not (module.parent / name).is_file():
                    strays.append(f"{module.relative_to(SRC)}: {name}")
            if isinstance(node, ast.Attribute) and node.attr == "parents" and ".sql" in source:
                strays.append(f"{module.relative_to(SRC)}: Path.parents beside a .sql name")
    assert strays == []


def test_the_owners_create_their_schemas_alone(admin_url: str) -> None:
    """On an empty database each owner creates its own schema and nothing of another's."""
    url = create_database(admin_url, prefix="motcua_owners_t")
    schemas = "select nspname::text from pg_namespace where nspname in ('raw', 'ops', 'dq')"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_raw_schema(conn)
            assert [r[0] for r in conn.execute(schemas)] == ["raw"]
            ensure_dq_schema(conn)
            summary.ensure_schema(conn)
            summary.ensure_schema(conn)  # idempotent
            assert sorted(r[0] for r in conn.execute(schemas)) == ["dq", "ops", "raw"]
            relations = conn.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
                " where table_schema in ('ops', 'dq') order by 1"
            ).fetchall()
            assert [r[0] for r in relations] == [
                "dq.contact_dossiers",
                "dq.latest_results_by_commune",
                "dq.validation_results",
                "ops.run_summaries",
            ]
    finally:
        drop_database(admin_url, url)
