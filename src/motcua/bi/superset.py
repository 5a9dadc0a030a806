"""Run Superset from its own virtualenv: metadata, assets, access, the web server.

Superset pins SQLAlchemy 1.4 and Flask-AppBuilder, so it lives in
``.venv-superset`` (``superset/requirements.lock``, installed by ``make
venv-superset``) and is only ever driven as a subprocess: its own CLI
(``superset db upgrade``, ``init``, ``fab create-admin``,
``import-datasources``, ``import-dashboards``), gunicorn, and
``superset/provision_access.py`` for what its bundles cannot carry.

A ``Home`` is one Superset installation's state: the SQLite metadata
database, the secret key and the admin password (files 0600), the bundle
last imported and the logs. ``make bi`` uses ``.local/superset/``; the tests
a temporary directory.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua import config
from motcua.bi import bundle, spec
from motcua.warehouse.access import COMMUNE_SHARED_MARTS

ADMIN = "admin"
PASSWORD_ENV = "BI_WAREHOUSE_PASSWORD"


class SupersetError(RuntimeError):
    """Superset could not be set up or started as asked."""


def venv_dir() -> Path:
    return config.superset_venv_dir()


def superset_dir() -> Path:
    """The project's Superset files: lock, superset_config.py, provision_access.py."""
    return config.repo_root() / "superset"


def executable(name: str) -> Path:
    path = venv_dir() / "bin" / name
    if not path.exists():
        raise SupersetError(f"{path} is missing: run `make venv-superset` first")
    return path


def _secret_file(path: Path, length: int = 32) -> str:
    """Read a generated secret, or make one (0600, never in git)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(length)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value + "\n")
    return value


@dataclass
class Home:
    """One Superset installation's state directory."""

    root: Path

    @property
    def metadata_url(self) -> str:
        return f"sqlite:///{self.root / 'superset.db'}"

    @property
    def secret_key(self) -> str:
        return _secret_file(self.root / "secret_key", 42)

    def admin_password(self) -> tuple[str, bool]:
        """The admin password, and whether it was made just now (to print it once)."""
        path = self.root / "admin_password"
        fresh = not path.exists()
        return _secret_file(path, 18), fresh

    def env(self, bi_password: str = "") -> dict[str, str]:
        env = dict(os.environ)
        config.apply_telemetry_off(env)
        env.update(
            {
                "SUPERSET_CONFIG_PATH": str(superset_dir() / "superset_config.py"),
                "SUPERSET_SECRET_KEY": self.secret_key,
                "SUPERSET_METADATA_URL": self.metadata_url,
                PASSWORD_ENV: bi_password,
                "FLASK_APP": "superset.app:create_app()",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("PYTHONPATH", None)  # nothing of the project's venv leaks in
        return env

    def log(self, name: str) -> Path:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        return self.root / "logs" / name


def _lock_hash() -> str:
    import hashlib

    return hashlib.sha256((superset_dir() / "requirements.lock").read_bytes()).hexdigest()[:12]


def run_cli(
    home: Home, *args: str, log_name: str, stdin: str | None = None, bi_password: str = ""
) -> str:
    """Run ``superset <args>``; its output goes to a log, raised with its tail on failure.

    ``bi_password``: for commands that connect to the warehouse (the import checks
    each table), given through the environment as the server gets it.
    """
    cmd = [str(executable("superset")), *args]
    result = subprocess.run(
        cmd, env=home.env(bi_password), input=stdin, capture_output=True, text=True, check=False
    )
    home.log(log_name).write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise SupersetError(f"superset {' '.join(args[:1])} failed ({result.returncode}):\n{tail}")
    return result.stdout + result.stderr


def bootstrap(home: Home) -> tuple[str, bool]:
    """Metadata schema, default roles, the admin user; returns (admin password, fresh)."""
    home.root.mkdir(parents=True, exist_ok=True)
    os.chmod(home.root, 0o700)
    stamp = home.root / f".initialised-{_lock_hash()}"
    if not stamp.exists():
        run_cli(home, "db", "upgrade", log_name="db-upgrade.log")
        run_cli(home, "init", log_name="init.log")
        stamp.touch()
    password, fresh = home.admin_password()
    out = run_cli(
        home,
        "fab",
        "create-admin",
        "--username",
        ADMIN,
        "--firstname",
        "Quản trị",
        "--lastname",
        "Một cửa",
        "--email",
        "admin@localhost",
        "--password",
        password,
        log_name="create-admin.log",
    )
    if "already exist" not in out and "created" not in out.lower():
        raise SupersetError(f"fab create-admin said: {out[-1000:]}")
    return password, fresh


def bundle_files(bi_url: str) -> dict[str, dict[str, Any]]:
    """The bundle for a BI login URL (its password, if any, is left out)."""
    params = config.parse_pg_url(bi_url)
    uri = f"postgresql+psycopg2://{params.user}@{params.host}:{params.port}/{params.dbname}"
    return bundle.render(uri, spec.DATASETS, spec.DASHBOARDS)


def import_assets(home: Home, bi_url: str) -> Path:
    """Write the bundle ZIP and import it with Superset's own CLI (datasets, then dashboards)."""
    files = bundle_files(bi_url)
    target = home.root / "bundle"
    shutil.rmtree(target, ignore_errors=True)
    bundle.write_directory(files, target / "yaml")
    archive = bundle.write_zip(files, target / "motcua_superset.zip")
    password = config.parse_pg_url(bi_url).password
    for command in ("import-datasources", "import-dashboards"):
        run_cli(
            home,
            command,
            "-p",
            str(archive),
            "-u",
            ADMIN,
            log_name=f"{command}.log",
            bi_password=password,
        )
    return archive


@dataclass(frozen=True)
class User:
    username: str
    password: str = ""  # empty: keep the current one
    commune: str | None = None  # a commune account sees this commune's rows only


def dataset_access() -> dict[str, list[str]]:
    """Dataset UUIDs by access: commune RLS, shared with communes, BI staff only.

    The same split as the warehouse's commune security (``motcua.warehouse.access``):
    marts with a ``commune_code`` column get the commune rule, the unit
    dimension and district marts are shared, anything else (the data-quality
    view) is for BI staff only.
    """
    split: dict[str, list[str]] = {
        "rls_datasets": [],
        "shared_datasets": [],
        "bi_only_datasets": [],
    }
    for ds in spec.DATASETS:
        if ds.schema == "marts" and ds.table in COMMUNE_SHARED_MARTS:
            split["shared_datasets"].append(ds.uuid)
        elif ds.schema == "marts" and ds.has_column("commune_code"):
            split["rls_datasets"].append(ds.uuid)
        else:
            split["bi_only_datasets"].append(ds.uuid)
    return split


def access_plan(users: Sequence[User]) -> dict[str, Any]:
    """The JSON ``superset/provision_access.py`` reads on stdin."""
    return {
        **dataset_access(),
        "charts": [chart.uuid for d in spec.DASHBOARDS for chart in d.charts],
        "users": [
            {"username": u.username, "password": u.password, "commune": u.commune} for u in users
        ],
    }


def provision_access(home: Home, users: Sequence[User] = ()) -> dict[str, Any]:
    """Roles, commune rules, users and stale-chart clean-up (``provision_access.py``)."""
    plan = access_plan(users)
    script = superset_dir() / "provision_access.py"
    result = subprocess.run(
        [str(executable("python")), str(script)],
        env=home.env(),
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=False,
    )
    home.log("provision-access.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SupersetError(
            f"provision_access.py failed:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(home: Home, bi_password: str, port: int, workers: int = 1) -> Server:
    """gunicorn on 127.0.0.1:<port>, ready when /health answers."""
    log = home.log("gunicorn.log").open("ab")
    cmd = [
        str(executable("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "8",
        "--worker-class",
        "gthread",
        "--timeout",
        "120",
        "superset.app:create_app()",
    ]
    process = subprocess.Popen(
        cmd, env=home.env(bi_password), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SupersetError(
                f"gunicorn exited ({process.returncode}): see {home.log('gunicorn.log')}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    server.stop()
    raise SupersetError(f"Superset did not answer on {server.url}/health within 180 s")


def marts_row_count(url: str) -> int:
    """Rows in marts.commune_lateness (0 when the marts are missing or empty)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        exists = conn.execute("select to_regclass('marts.commune_lateness') is not null").fetchone()
        if not exists or not exists[0]:
            return 0
        row = conn.execute("select count(*) from marts.commune_lateness").fetchone()
        return int(row[0]) if row else 0


def print_flush(*args: object) -> None:
    print(*args, flush=True)
    sys.stdout.flush()
