"""The nightly DAG run twice on one warehouse, shared by the end-to-end and Celery tests.

Airflow runs are the slowest thing the suite does, so this package makes two
and asks everything of them: the first as ``make run`` runs it
(``runner.run_pipeline``: ``airflow dags test``) on a small generated inbox,
the second as a deployment runs it (the CeleryExecutor stack of
docker-compose.yml, triggered through the REST API) on the same warehouse
and the same, now archived, inbox. The first must reproduce the generator's
figures; the second must load nothing and change nothing in the marts, with
every task having gone through Redis to the Celery worker.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from motcua import runner, summary
from motcua.config import parse_pg_url, parse_run_date
from motcua_dev.celery_stack import CeleryStack
from motcua_dev.generator import write_small
from tests.alerts.conftest import RECIPIENTS, SENDER, SmtpServer, _Handler, _LoopbackController
from tests.conftest import create_database, drop_database

DAG_ID = "motcua_nightly"
# ~50 tasks at concurrency 2: minutes on an idle 2-core machine, far more when it is busy
RUN_TIMEOUT = int(os.environ.get("MOTCUA_CELERY_RUN_TIMEOUT", 30 * 60))
MARTS = (
    "commune_lateness",
    "district_lateness",
    "commune_satisfaction",
    "district_satisfaction",
    "commune_contact_completeness",
    "dim_commune",
    "fct_dossier",
    "dossiers_due_soon",
)


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every mart's rows: equal snapshots, equal marts."""
    with psycopg.connect(url) as conn:
        out = {}
        for name in MARTS:
            row = conn.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                f" from marts.{name} as t"
            ).fetchone()
            assert row is not None
            out[name] = (row[0], row[1])
        return out


def _celery_run(
    settings: runner.RunSettings, home: Any, run_date: str, airflow_db: str
) -> dict[str, Any]:
    """Start the Celery stack, trigger the nightly DAG through the REST API, stop the stack."""
    stack = CeleryStack(settings, home, worker_concurrency=2)
    result: dict[str, Any] = {"stack": stack, "airflow_db": airflow_db}
    started = time.monotonic()
    try:
        stack.start()
        result["dag"] = stack.wait_for_dag(DAG_ID)
        tasks = stack.api("GET", f"/api/v2/dags/{DAG_ID}/tasks")["tasks"]
        result["dag_tasks"] = {t["task_id"] for t in tasks}
        run_id = stack.trigger(DAG_ID, {"run_date": run_date})
        result["run_id"] = run_id
        result["state"] = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
        result["seconds"] = time.monotonic() - started
        result["task_instances"] = stack.task_instances(DAG_ID, run_id)
        result["tails"] = {s.name: s.tail(40) for s in stack.services}
    finally:
        stack.stop()
    result["leftovers"] = stack.leftover_processes()
    result["worker_log"] = stack.service("celery-worker").log.read_text(
        encoding="utf-8", errors="replace"
    )
    return result


@pytest.fixture(scope="package")
def nightly_runs(
    tmp_path_factory: pytest.TempPathFactory, admin_url: str
) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("e2e")
    inbox = base / "inbox"
    write_small(inbox)
    manifest = json.loads((inbox / "manifest.json").read_text(encoding="utf-8"))
    shutil.copy(inbox / "manifest.json", base / "manifest.json")
    warehouse = create_database(admin_url, "motcua_e2e_wh")
    airflow_db = create_database(admin_url, "motcua_e2e_af")
    celery_db = create_database(admin_url, "motcua_celery_af")

    def settings(airflow: str) -> runner.RunSettings:
        return runner.RunSettings(
            warehouse_url=warehouse,
            airflow_db_url=parse_pg_url(airflow).url(driver="postgresql+psycopg2"),
            inbox=inbox,
            run_date=parse_run_date(manifest["run_date"]),
            sample=False,
        )

    # alerts go through Airflow's SMTP provider to a real SMTP server on loopback
    handler = _Handler()
    controller = _LoopbackController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    smtp = SmtpServer("127.0.0.1", controller.port, handler)
    env = pytest.MonkeyPatch()
    env.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp.conn_uri)
    env.setenv("DQ_ALERT_TO", ", ".join(RECIPIENTS))
    env.setenv("DQ_ALERT_FROM", SENDER)
    env.setenv("DQ_ALERT_OUTBOX", str(base / "outbox"))
    try:
        logs = runner.run_pipeline(settings(airflow_db), airflow_home=base / "airflow")
        first = snapshot(warehouse)
        first_summary = summary.latest(warehouse)
        mails_after_first = len(smtp.received)
        try:
            celery = _celery_run(
                settings(celery_db), base / "celery", manifest["run_date"], celery_db
            )
        except Exception as exc:  # the first run's tests still stand; the Celery ones fail
            celery = {"error": repr(exc)}
        yield {
            "url": warehouse,
            "manifest": manifest,
            "inbox": inbox,
            "first": first,
            "second": snapshot(warehouse),
            "summaries": (first_summary, summary.latest(warehouse)),
            "logs": logs,
            "airflow_home": base / "airflow",
            "mails": list(smtp.received),
            "mails_after_first": mails_after_first,
            "celery": celery,
        }
    finally:
        controller.stop()
        env.undo()
        for url in (warehouse, airflow_db, celery_db):
            drop_database(admin_url, url)
