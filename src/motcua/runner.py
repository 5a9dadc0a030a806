"""``make run``: one nightly run through Airflow on a self-contained set-up.

Resolves the environment contract (``WAREHOUSE_URL``, ``INBOX_DIR``,
``RUN_DATE``), starts the embedded PostgreSQL when no warehouse is given,
generates the sample inbox when it is missing, prepares Airflow's metadata
database and the dbt manifest, runs the nightly DAG once with
``airflow dags test`` (a real DAG run, in-process) and prints the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from motcua import config
from motcua.orchestration.defaults import WAREHOUSE_CONN_ID

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class RunSettings:
    warehouse_url: str
    airflow_db_url: str
    inbox: Path
    run_date: date
    sample: bool


def _ensure_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'create database "{name}"')


def resolve_warehouse() -> tuple[str, str]:
    """(warehouse URL, Airflow metadata URL): external when WAREHOUSE_URL is set."""
    external = os.environ.get("WAREHOUSE_URL")
    if external:
        params = config.parse_pg_url(external)
        airflow_db = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
        if not airflow_db:
            name = f"{params.dbname}_airflow"
            _ensure_database(params.url("postgres"), name)
            airflow_db = params.url(name, driver="postgresql+psycopg2")
        return params.url(), airflow_db
    from motcua.warehouse.embedded import ensure_server

    server = ensure_server()
    return server.url("warehouse"), server.url("airflow").replace(
        "postgresql://", "postgresql+psycopg2://"
    )


def resolve_inbox() -> tuple[Path, bool, date | None]:
    """(inbox, is_sample, sample's own run date) — generating the sample if missing."""
    if os.environ.get("INBOX_DIR"):
        inbox = config.inbox_dir()
        if not inbox.is_dir():
            raise SystemExit(f"INBOX_DIR {inbox} is not a directory")
        return inbox, False, None
    inbox = config.sample_inbox_dir()
    manifest = inbox / "manifest.json"
    if not manifest.exists():
        from motcua.generator import write_sample

        write_sample(inbox)
    run_date = json.loads(manifest.read_text(encoding="utf-8")).get("run_date")
    return inbox, True, config.parse_run_date(run_date) if run_date else None


def resolve() -> RunSettings:
    warehouse_url, airflow_db_url = resolve_warehouse()
    inbox, sample, sample_date = resolve_inbox()
    if os.environ.get("RUN_DATE"):
        run_date = config.parse_run_date(os.environ["RUN_DATE"])
    else:
        run_date = sample_date or config.today_local()
    return RunSettings(warehouse_url, airflow_db_url, inbox, run_date, sample)


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
            f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": settings.warehouse_url,
            "WAREHOUSE_URL": settings.warehouse_url,
            "INBOX_DIR": str(settings.inbox),
            "RUN_DATE": settings.run_date.isoformat(),
            "MOTCUA_RETRIES": env.get("MOTCUA_RETRIES", "0"),
            # a one-shot run has no triggerer; and `dags test` 3.3.2 exits 1 after a
            # successful run of a DAG with a deadline (apache/airflow#73428)
            "MOTCUA_DEADLINE_ALERT": env.get("MOTCUA_DEADLINE_ALERT", "off"),
            **config.dbt_env(settings.warehouse_url),
        }
    )
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(cmd: list[str], env: dict[str, str], log: Path | None = None) -> None:
    """Run a step; with ``log``, its output goes there and only a failure is shown."""
    if log is None:
        result = subprocess.run(cmd, env=env, check=False)
    else:
        with log.open("w", encoding="utf-8") as handle:
            result = subprocess.run(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        if log is not None:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            print("\n".join(tail), file=sys.stderr)
        where = f" (full log: {log})" if log else ""
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}{where}")


def dbt_parse(env: dict[str, str], logs: Path) -> None:
    """Write the manifest Cosmos renders the DAG from."""
    project = str(config.dbt_project_dir())
    cmd = [str(VENV_BIN / "dbt"), "parse", "--project-dir", project, "--profiles-dir", project]
    _run(cmd, env, logs / "dbt_parse.log")


def migrate_airflow(env: dict[str, str], logs: Path) -> None:
    _run([str(VENV_BIN / "airflow"), "db", "migrate"], env, logs / "airflow_db_migrate.log")


def run_dag(env: dict[str, str], run_date: date, logs: Path) -> None:
    conf = json.dumps({"run_date": run_date.isoformat()})
    cmd = [str(VENV_BIN / "airflow"), "dags", "test", "motcua_nightly", "--conf", conf]
    _run(cmd, env, logs / "nightly_dag.log")


def run_pipeline(settings: RunSettings, airflow_home: Path | None = None) -> None:
    """Prepare Airflow and the dbt manifest, then run the nightly DAG once."""
    env = airflow_env(settings, airflow_home)
    logs = Path(env["AIRFLOW_HOME"]) / "run-logs"
    logs.mkdir(parents=True, exist_ok=True)
    dbt_parse(env, logs)
    migrate_airflow(env, logs)
    run_dag(env, settings.run_date, logs)


def main() -> None:
    settings = resolve()
    print(f"warehouse: {config.parse_pg_url(settings.warehouse_url).masked()}")
    print(f"inbox:     {settings.inbox}{' (generated sample)' if settings.sample else ''}")
    print(f"run date:  {settings.run_date.isoformat()}")
    run_pipeline(settings)
    from motcua import summary

    print(summary.render(summary.latest(settings.warehouse_url)))
