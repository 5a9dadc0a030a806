"""``make run``: one nightly run through Airflow on a self-contained set-up.

Resolves the environment contract (``WAREHOUSE_URL``, ``INBOX_DIR``,
``RUN_DATE``), starts the embedded PostgreSQL when no warehouse is given,
generates the sample inbox when it is missing, prepares Airflow's metadata
database and the dbt manifest, runs the nightly DAG once with
``airflow dags test`` (a real DAG run, in-process) and prints the summary.

One run at a time per warehouse: the runner takes the warehouse's run lock
(``motcua.warehouse.run_lock``) before it touches anything and holds it to
the end; a second ``make run`` (or one started while a scheduled run works)
stops at once with who holds it and since when, exit status 1. Each run
writes its logs to a directory of its own, ``run-logs/<time>-<pid>/``. A run
that fails alerts even when nothing inside Airflow could (see
:func:`alert_on_failure`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg

from motcua import config
from motcua.orchestration.dbt_group import COSMOS_ENV
from motcua.orchestration.defaults import WAREHOUSE_CONN_ID
from motcua.warehouse import run_lock

DAG_ID = "motcua_nightly"

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class RunSettings:
    warehouse_url: str
    airflow_db_url: str
    inbox: Path
    run_date: date
    sample: bool


def _ensure_database(server_url: str, name: str) -> None:
    """Create database ``name`` if missing; two processes doing it at once both succeed."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not found:  # another process may create it meanwhile: fine too
            with contextlib.suppress(
                psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation
            ):
                conn.execute(f'create database "{name}"')


def warehouse_url() -> str:
    """``WAREHOUSE_URL``, or the embedded server's ``warehouse`` (started if needed)."""
    external = config.warehouse_url_setting()
    if external:
        return external
    from motcua.warehouse.embedded import ensure_server

    return ensure_server().url("warehouse")


def airflow_db_url(warehouse: str) -> str:
    """Airflow's metadata database beside the warehouse (created if missing)."""
    params = config.parse_pg_url(warehouse)
    if not config.warehouse_url_setting():  # the embedded server's own `airflow`
        return params.url("airflow", driver="postgresql+psycopg2")
    explicit = config.airflow_db_url_setting()
    if explicit:
        return explicit
    name = f"{params.dbname}_airflow"
    _ensure_database(params.url("postgres"), name)
    return params.url(name, driver="postgresql+psycopg2")


def resolve_warehouse() -> tuple[str, str]:
    """(warehouse URL, Airflow metadata URL): external when WAREHOUSE_URL is set."""
    url = warehouse_url()
    return url, airflow_db_url(url)


def resolve_inbox() -> tuple[Path, bool, date | None]:
    """(inbox, is_sample, sample's own run date) — generating the sample if missing."""
    inbox = config.inbox_setting()
    if inbox is not None:
        if not inbox.is_dir():
            raise SystemExit(f"INBOX_DIR {inbox} is not a directory")
        return inbox, False, None
    inbox = config.sample_inbox_dir()
    manifest = inbox / "manifest.json"
    if not manifest.exists():
        try:  # the generator is development tooling, absent from the production image
            from motcua_dev.generator import write_reform, write_sample
        except ImportError as exc:
            raise SystemExit(
                "INBOX_DIR is not set and the sample generator (package motcua_dev) is not"
                " installed: set INBOX_DIR to the inbox to load"
            ) from exc
        (write_reform if config.sample_preset() == "reform" else write_sample)(inbox)
    run_date = json.loads(manifest.read_text(encoding="utf-8")).get("run_date")
    return inbox, True, config.parse_run_date(run_date) if run_date else None


def resolve(warehouse: str | None = None) -> RunSettings:
    """The run's settings; ``warehouse``: its URL when already resolved (and locked)."""
    url = warehouse or warehouse_url()
    inbox, sample, sample_date = resolve_inbox()
    run_date = config.run_date_setting() or sample_date or config.today_local()
    return RunSettings(url, airflow_db_url(url), inbox, run_date, sample)


def runner_name() -> str:
    """Who holds the lock, as a refused second run reports it."""
    return f"{run_lock.NAME_PREFIX}make-run pid={os.getpid()} host={socket.gethostname()}"


def lock_warehouse(url: str) -> run_lock.RunLock:
    """The warehouse's run lock for this run, or exit 1 saying who holds it."""
    try:
        return run_lock.acquire(url, runner_name())
    except run_lock.WarehouseBusy as busy:
        masked = config.parse_pg_url(url).masked()
        raise SystemExit(f"motcua run: the warehouse {masked} is busy: {busy}") from None


def airflow_env(settings: RunSettings, home: Path | None = None) -> dict[str, str]:
    """The environment of the Airflow and dbt processes of a local run."""
    home = home or config.local_dir() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    config.apply_telemetry_off(env)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(config.repo_root() / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.airflow_db_url,
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # Cosmos' dbt cache (partial parse) of this Airflow home, not the machine's
            # /tmp/cosmos that other projects and warehouses overwrite: the producers
            # then reuse the partial parse the set-up's `dbt parse` has just written
            "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
            **COSMOS_ENV,  # as in the deployment's image
            f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": settings.warehouse_url,
            **config.launcher_env(settings.warehouse_url, settings.inbox, settings.run_date),
            **config.dbt_env(settings.warehouse_url),
        }
    )
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


class StepFailed(SystemExit):
    """A step of the run failed; ``step`` and ``log`` say which and where to look."""

    def __init__(self, message: str, step: str, log: Path | None) -> None:
        super().__init__(message)
        self.step = step
        self.log = log


def _run(cmd: list[str], env: dict[str, str], log: Path | None = None) -> None:
    """Run a step; with ``log``, its output goes there and only a failure is shown."""
    if log is None:
        result = subprocess.run(cmd, env=env, check=False)
    else:
        with log.open("w", encoding="utf-8") as handle:
            result = subprocess.run(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT)
    _check(cmd, result.returncode, log)


def _run_together(steps: list[tuple[list[str], Path]], env: dict[str, str]) -> None:
    """Run independent steps at once, each logging to its file; the first failure raises."""
    procs = []
    for cmd, log in steps:
        with log.open("w", encoding="utf-8") as handle:  # the child keeps its own descriptor
            procs.append(subprocess.Popen(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT))
    codes = [proc.wait() for proc in procs]
    for (cmd, log), code in zip(steps, codes, strict=True):
        _check(cmd, code, log)


def _check(cmd: list[str], returncode: int, log: Path | None) -> None:
    """Raise ``StepFailed`` naming the step (and showing its log's tail) when it failed."""
    if returncode != 0:
        if log is not None:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            print("\n".join(tail), file=sys.stderr)
        where = f" (full log: {log})" if log else ""
        words, rest = [Path(cmd[0]).name], cmd[1:]
        if rest[:2] == ["-m", DAGS_TEST_MODULE]:  # Airflow's CLI through run_dag's module
            words, rest = ["airflow"], rest[2:]
        for arg in rest[:3]:
            if arg.startswith("-"):
                break
            words.append(arg)
        step = " ".join(words)  # "dbt parse", "airflow db migrate", "airflow dags test <dag>"
        raise StepFailed(f"command failed ({returncode}): {' '.join(cmd)}{where}", step, log)


def _dbt_parse_step(logs: Path) -> tuple[list[str], Path]:
    """``dbt parse``: the manifest Cosmos renders the DAG from, and dbt's partial parse.

    With the profile and target named as the DAG's dbt tasks name them: dbt
    keeps a partial parse only for the same ones, so the tasks reuse this one.
    """
    from motcua.orchestration.dbt_group import DBT_PROFILE, DBT_TARGET

    project = str(config.dbt_project_dir())
    cmd = [str(VENV_BIN / "dbt"), "parse", "--project-dir", project, "--profiles-dir", project]
    return [*cmd, "--profile", DBT_PROFILE, "--target", DBT_TARGET], logs / "dbt_parse.log"


def _migrate_step(logs: Path) -> tuple[list[str], Path]:
    return [str(VENV_BIN / "airflow"), "db", "migrate"], logs / "airflow_db_migrate.log"


def dbt_parse(env: dict[str, str], logs: Path) -> None:
    cmd, log = _dbt_parse_step(logs)
    _run(cmd, env, log)


def migrate_airflow(env: dict[str, str], logs: Path) -> None:
    cmd, log = _migrate_step(logs)
    _run(cmd, env, log)


def set_up(env: dict[str, str], logs: Path) -> None:
    """``dbt parse`` and ``airflow db migrate``, each unless already done for this state.

    Independent, so at the same time. Each is skipped when its stamp shows it
    ran, and succeeded, for exactly what it would see now (:func:`parse_key`,
    :func:`migrate_key`): a second ``make run`` with nothing changed starts
    the DAG at once. A skipped step's log says so.
    """
    steps: list[tuple[list[str], Path]] = []
    todo: list[tuple[Path, Callable[[], str | None]]] = []
    for step, key, stamp in (
        (_dbt_parse_step(logs), lambda: parse_key(env), _parse_stamp()),
        (_migrate_step(logs), lambda: migrate_key(env), _migrate_stamp(env)),
    ):
        current = key()
        if current is not None and _stamped(stamp) == current:
            step[1].write_text(f"skipped: already done for this state ({stamp})\n", "utf-8")
            continue
        stamp.unlink(missing_ok=True)
        steps.append(step)
        todo.append((stamp, key))
    _run_together(steps, env)
    for stamp, key in todo:
        done = key()
        if done is not None:
            stamp.write_text(done, encoding="utf-8")


def _stamped(stamp: Path) -> str | None:
    try:
        return stamp.read_text(encoding="utf-8")
    except OSError:
        return None


def _parse_stamp() -> Path:
    return config.dbt_project_dir() / "target" / ".motcua-parse-key"


def parse_key(env: dict[str, str]) -> str | None:
    """What ``dbt parse``'s manifest and partial parse depend on, hashed; None when missing.

    The project's files (not its ``target/`` and ``logs/``), dbt's version,
    the value of every environment variable the project reads (``env_var``:
    the connection settings, the province...), and the manifest and partial
    parse themselves (size, modification time).
    """
    from importlib.metadata import version

    project = config.dbt_project_dir()
    outputs = [project / "target" / name for name in ("manifest.json", "partial_parse.msgpack")]
    if not all(path.is_file() for path in outputs):
        return None
    digest = hashlib.sha256()
    # ... and the outputs as this parse left them: another dbt command writing them
    # since (a lint's parse with another profile or target) makes the next run reparse
    for path in outputs:
        stat = path.stat()
        digest.update(f"{path.name} {stat.st_size} {stat.st_mtime_ns}\0".encode())
    names: set[str] = set()
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if rel.parts[0] in {"target", "logs", "dbt_packages"} or not path.is_file():
            continue
        content = path.read_bytes()
        digest.update(f"{rel}\0".encode())
        digest.update(content)
        names.update(m.decode() for m in _ENV_VAR.findall(content))
    digest.update(f"dbt-core {version('dbt-core')} dbt-postgres {version('dbt-postgres')}".encode())
    # (not the run date: read by a macro at run time, dbt's partial parse ignores it)
    for name in sorted(names - {config.RUN_DATE_ENV}):
        digest.update(f"\0{name}={env.get(name, '')}".encode())
    return digest.hexdigest()


_ENV_VAR = re.compile(rb"""env_var\(\s*['"]([A-Za-z0-9_]+)['"]""")


def _migrate_stamp(env: dict[str, str]) -> Path:
    return Path(env["AIRFLOW_HOME"]) / ".motcua-migrated"


def migrate_key(env: dict[str, str]) -> str | None:
    """Airflow's version and the metadata database's schema revision (hashed with its URL).

    None when the database has no schema yet or cannot be read: then it is
    migrated (``airflow db migrate`` is a no-op at head, but costs an Airflow
    start-up).
    """
    from importlib.metadata import version

    url = config.airflow_db_url_of(env)
    try:
        with psycopg.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1)) as conn:
            row = conn.execute("select version_num from alembic_version").fetchone()
    except psycopg.Error:
        return None
    if row is None:
        return None
    where = hashlib.sha256(url.encode()).hexdigest()[:16]
    return f"apache-airflow-core {version('apache-airflow-core')} revision {row[0]} db {where}"


# ``airflow dags test`` with the in-process execution API reduced to the version its
# tasks speak: the first task no longer builds nine unused versions of it
DAGS_TEST_MODULE = "motcua.orchestration.dags_test"


def run_dag(env: dict[str, str], run_date: date, logs: Path) -> None:
    """``airflow dags test`` of the nightly DAG (through :mod:`motcua.orchestration.dags_test`)."""
    conf = json.dumps({"run_date": run_date.isoformat()})
    cmd = [sys.executable, "-m", DAGS_TEST_MODULE, "dags", "test", DAG_ID, "--conf", conf]
    _run(cmd, env, logs / "nightly_dag.log")


def run_logs_dir(home: Path, started: datetime) -> Path:
    """``run-logs/<time>-<pid>/`` for this run's logs, and ``run-logs/latest`` pointing to it."""
    base = home / "run-logs"
    base.mkdir(parents=True, exist_ok=True)
    stem = f"{started:%Y%m%dT%H%M%S}-{os.getpid()}"
    for n in range(1, 100):
        logs = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            logs.mkdir()
        except FileExistsError:
            continue
        link = base / f".latest-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(logs.name)
        link.replace(base / "latest")
        return logs
    raise RuntimeError(f"no free run-log directory under {base}")


def run_pipeline(
    settings: RunSettings,
    airflow_home: Path | None = None,
    lock: run_lock.RunLock | None = None,
    timings: dict[str, float] | None = None,
) -> Path:
    """Prepare Airflow and the dbt manifest, then run the nightly DAG once; return its logs.

    Under the warehouse's run lock: ``lock`` when the caller holds it already,
    else taken here (exit 1 when another run holds it) and released at the end.
    ``timings``, when given, receives each step's wall time in seconds (the
    nightly benchmark times ``make run``'s own steps with it).
    """
    held = lock or lock_warehouse(settings.warehouse_url)
    times = timings if timings is not None else {}
    try:
        env = airflow_env(settings, airflow_home)
        env[run_lock.HOLDER_ENV] = str(held.backend_pid)  # the DAG's tasks: "the lock is ours"
        with alert_on_failure(env) as started:
            logs = run_logs_dir(Path(env["AIRFLOW_HOME"]), started)
            for step, call in (
                ("set-up (dbt parse, airflow db migrate)", lambda: set_up(env, logs)),
                ("airflow dags test", lambda: run_dag(env, settings.run_date, logs)),
            ):
                start = time.perf_counter()
                call()
                times[step] = time.perf_counter() - start
        return logs
    finally:
        if lock is None:
            held.release()


@contextlib.contextmanager
def alert_on_failure(env: dict[str, str], dag_id: str = DAG_ID) -> Iterator[datetime]:
    """The last line of defence: a failed step that Airflow could not report alerts here.

    The task and DAG failure callbacks record every failure alert they send
    (``motcua.alerts.callbacks``); when a step fails and none was recorded for
    ``dag_id`` since the block began (a step before Airflow failed, or the
    metadata database went down so that ``airflow dags test`` itself crashed
    and no callback ran — what a PostgreSQL restart during the build does),
    the runner sends the run-failure alert itself: outside Airflow, with no
    database, into the outbox when no mail server is reachable. Yields the
    start time.
    """
    started = datetime.now(config.TIMEZONE)
    since = time.time()
    try:
        yield started
    except StepFailed as failed:
        from unittest.mock import patch

        from motcua.alerts import callbacks

        who = runner_name().removeprefix(run_lock.NAME_PREFIX)
        with patch.dict(os.environ, env):  # the run's alert settings and Airflow home
            if not callbacks.failure_alerted_since(dag_id, since):
                callbacks.alert_run_failure(
                    dag_id=dag_id,
                    run_id=f"{who}, started {started:%Y-%m-%d %H:%M:%S %z}",
                    failed=failed.step,
                    reason=str(failed.code).split(" (full log")[0][:300],
                    log_path=str(failed.log) if failed.log else None,
                )
        raise


def main() -> None:
    url = warehouse_url()
    print(f"warehouse: {config.parse_pg_url(url).masked()}")
    with lock_warehouse(url) as lock:
        settings = resolve(url)
        print(f"inbox:     {settings.inbox}{' (generated sample)' if settings.sample else ''}")
        print(f"run date:  {settings.run_date.isoformat()}")
        logs = run_pipeline(settings, lock=lock)
        from motcua import summary

        print(summary.render(summary.latest(settings.warehouse_url)))
        print(f"logs:      {logs}")
