"""The embedded PostgreSQL's set-up: a cluster of its own under a temp root.

Starts real servers (initdb, pg_ctl) beside the one the suite uses, so it
runs whatever WAREHOUSE_URL says.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from motcua.warehouse.embedded import (
    SETTINGS_BEGIN,
    _run_as_service_user,
    ensure_server,
    pg_bin,
    stop_server,
)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    stop_server(tmp_path)


def _show(url: str, *names: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {name: str(conn.execute(f"show {name}").fetchone()[0]) for name in names}


def test_new_cluster_writes_no_wal_for_new_tables_and_has_no_checksums(root: Path) -> None:
    server = ensure_server(root)
    shown = _show(server.admin_url, "wal_level", "max_wal_senders", "data_checksums", "timezone")
    assert shown == {
        "wal_level": "minimal",
        "max_wal_senders": "0",
        "data_checksums": "off",
        "timezone": "Asia/Ho_Chi_Minh",
    }


def test_cluster_of_an_older_version_gets_the_settings_on_its_next_start(root: Path) -> None:
    # as the earlier version left it: initdb's defaults (checksums on in
    # PostgreSQL 18) and its settings appended without a block, plus a line
    # an operator added with ALTER SYSTEM
    data_dir = root / "pg" / "data"
    data_dir.mkdir(parents=True)
    ensure_server(root)  # creates the service user and makes the root traversable
    stop_server(root)
    shutil.rmtree(data_dir)
    data_dir.mkdir()
    kwargs = _run_as_service_user()
    if kwargs:
        shutil.chown(data_dir, user=str(kwargs["user"]))
    subprocess.run(
        [pg_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
        **kwargs,  # type: ignore[arg-type]
    )
    conf = data_dir / "postgresql.auto.conf"
    with conf.open("a", encoding="utf-8") as out:
        out.write("listen_addresses = '127.0.0.1'\nshared_buffers = '128MB'\n")
        out.write("statement_timeout = '1h'\n")

    server = ensure_server(root)
    shown = _show(
        server.admin_url, "wal_level", "data_checksums", "shared_buffers", "statement_timeout"
    )
    assert shown == {
        "wal_level": "minimal",
        "data_checksums": "off",
        "shared_buffers": "512MB",
        "statement_timeout": "1h",
    }
    # a second start rewrites the block instead of adding another
    stop_server(root)
    ensure_server(root)
    lines = conf.read_text(encoding="utf-8").splitlines()
    assert lines.count(SETTINGS_BEGIN) == 1
    assert [line for line in lines if line.startswith("shared_buffers")] == [
        "shared_buffers = '512MB'"
    ]
