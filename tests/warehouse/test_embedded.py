"""The embedded PostgreSQL's set-up: a cluster of its own under a temp root.

Starts real servers (initdb, pg_ctl) beside the one the suite uses, so it
runs whatever WAREHOUSE_URL says.

When the suite runs as root the server runs as the service user, which must be
able to reach the root: the roots here are made in /tmp (not under pytest's
0700 ``/tmp/pytest-of-root``) with search permission for others, as a
checkout's ``.local`` normally has.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from motcua.config import parse_pg_url
from motcua.warehouse.embedded import (
    SECRET_FILE,
    SERVICE_USER,
    SETTINGS_BEGIN,
    _run_as_service_user,
    ensure_server,
    pg_bin,
    stop_server,
)

AS_ROOT = os.geteuid() == 0


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="motcua-pg-test-"))
    path.chmod(0o711)  # search only: what the service user needs, no listing
    try:
        yield path
    finally:
        stop_server(path)
        shutil.rmtree(path, ignore_errors=True)


def _refused(url: str) -> str:
    """The server's refusal of ``url`` (the test fails when it lets the login in)."""
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("PG")]:
            mp.delenv(key)
        mp.setenv("PGPASSFILE", "/nonexistent/.pgpass")  # no ~/.pgpass may supply it
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(url, connect_timeout=10).close()
    return str(refused.value)


def _hba_rules(data_dir: Path) -> list[str]:
    lines = (data_dir / "pg_hba.conf").read_text(encoding="utf-8").splitlines()
    return [" ".join(line.split()) for line in lines if line.strip() and not line.startswith("#")]


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


def test_new_cluster_compares_text_by_code_point_with_unicode_case(root: Path) -> None:
    server = ensure_server(root)
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute('create database "collation_probe"')
        probe = parse_pg_url(server.admin_url).url("collation_probe")
    with psycopg.connect(probe, autocommit=True) as conn:
        provider, locale = conn.execute(
            "select datlocprovider, datlocale from pg_database where datname = current_database()"
        ).fetchone()
        ordered = conn.execute(
            "select array_agg(w order by w) from unnest(array['Đông', 'Ân', 'an', 'Z', 'ă']) as w"
        ).fetchone()[0]
        lowered = conn.execute("select lower('ĐẮK LẮK'), upper('đắk lắk')").fetchone()
    assert (provider, locale) == ("b", "C.UTF-8")  # new databases inherit the builtin provider
    assert ordered == ["Z", "an", "Ân", "ă", "Đông"]  # code points: Z < a < Â (U+00C2) < ă < Đ
    assert lowered == ("đắk lắk", "ĐẮK LẮK")


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
        shutil.chown(data_dir, user=SERVICE_USER, group=SERVICE_USER)
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


def test_a_login_needs_the_generated_secret(root: Path) -> None:
    server = ensure_server(root)
    params = parse_pg_url(server.admin_url)
    assert params.password and len(params.password) >= 32
    without = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    wrong = f"postgresql://postgres:{'x' * 43}@127.0.0.1:{server.port}/warehouse"
    assert "password" in _refused(without)
    assert "password authentication failed" in _refused(wrong)
    # a role without a password (one an operator forgot to give one) is refused too
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute("create role nopass login")
    assert "password" in _refused(f"postgresql://nopass@127.0.0.1:{server.port}/postgres")
    with psycopg.connect(server.url("warehouse"), autocommit=True) as conn:
        assert conn.execute("select current_user, inet_server_addr()::text").fetchone() == (
            "postgres",
            "127.0.0.1/32",
        )
        assert conn.execute("show password_encryption").fetchone() == ("scram-sha-256",)
    assert _hba_rules(server.data_dir) == [
        "host all all 127.0.0.1/32 scram-sha-256",
        "host all all ::1/128 scram-sha-256",
    ]
    # the secret: one file, read and written by the invoking user only, never in a repr
    secret = root / "pg" / SECRET_FILE
    info = secret.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, os.getuid())
    assert secret.read_text(encoding="utf-8").strip() == params.password
    assert params.password not in repr(server)
    assert stat.S_IMODE((root / "pg").stat().st_mode) & 0o077 in (0, 0o011)  # no listing
    assert stat.S_IMODE((root / "pg" / "postgres.log").stat().st_mode) == 0o600


def test_a_trusting_cluster_of_the_older_version_is_locked_at_start(root: Path) -> None:
    """Left by the older version: initdb --auth=trust, running, with data in it."""
    data_dir = root / "pg" / "data"
    data_dir.mkdir(parents=True)
    kwargs = _run_as_service_user()
    if kwargs:
        shutil.chown(data_dir, user=SERVICE_USER, group=SERVICE_USER)
    data_dir.chmod(0o700)
    subprocess.run(
        [pg_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
        **kwargs,  # type: ignore[arg-type]
    )
    log = root / "pg" / "postgres.log"
    log.touch()
    if kwargs:
        shutil.chown(log, user=SERVICE_USER, group=SERVICE_USER)
    port = _free_port()
    (root / "pg" / "port").write_text(str(port))
    subprocess.run(
        [pg_bin("pg_ctl"), "-D", str(data_dir), "-l", str(log), "-w", "-o",
         f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''", "start"],
        check=True,
        capture_output=True,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    trusted = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    with psycopg.connect(trusted, autocommit=True) as conn:  # anyone could, so far
        conn.execute("create table kept as select 42 as answer")

    server = ensure_server(root)

    assert server.port == port  # restarted on its port, which nothing else took
    assert "password" in _refused(trusted)
    assert not any("trust" in rule for rule in _hba_rules(data_dir))
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        assert conn.execute("select answer from kept").fetchone() == (42,)
    # a later start keeps the same secret and does not reset anything
    stop_server(root)
    again = ensure_server(root)
    assert again.admin_url == server.admin_url
    with psycopg.connect(again.admin_url, autocommit=True) as conn:
        assert conn.execute("select answer from kept").fetchone() == (42,)


def test_a_lost_secret_is_replaced_and_the_old_one_stops_working(root: Path) -> None:
    first = ensure_server(root)
    (root / "pg" / SECRET_FILE).unlink()
    second = ensure_server(root)
    assert second.admin_url != first.admin_url
    assert "password authentication failed" in _refused(first.admin_url)
    with psycopg.connect(second.admin_url, autocommit=True) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


@pytest.mark.skipif(not AS_ROOT, reason="the service user exists only when run as root")
def test_no_parent_directory_is_opened_up_for_the_service_user() -> None:
    """A checkout under a 0700 directory: refused, naming it; its mode is left alone."""
    closed = Path(tempfile.mkdtemp(prefix="motcua-pg-closed-"))  # 0700, like /root
    try:
        inner = closed / "checkout" / ".local"
        inner.mkdir(parents=True)
        before = {p: stat.S_IMODE(p.stat().st_mode) for p in [inner, *inner.parents]}
        with pytest.raises(RuntimeError) as refused:
            ensure_server(inner)
        message = str(refused.value)
        assert f"{SERVICE_USER} cannot enter {closed}" in message
        assert "chmod" in message and "WAREHOUSE_URL" in message
        after = {p: stat.S_IMODE(p.stat().st_mode) for p in [inner, *inner.parents]}
        assert after == before
        assert not (inner / "pg" / "data").exists()
    finally:
        shutil.rmtree(closed)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
