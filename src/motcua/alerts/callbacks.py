"""Airflow 3 hooks for operations alerts: a task failed, the night run is late.

* :func:`on_task_failure` — ``on_failure_callback`` (DEFAULT_ARGS): runs in the
  task's process after its last try failed; says which DAG, task, run and try,
  and where the log is. The exception text can carry data values (a parser error
  quoting a cell), so only its first line goes out, masked.
* :func:`nightly_deadline` — the DAG's ``deadline=``: Airflow's DeadlineAlert
  (3.1+, the successor of SLAs) fires :func:`on_deadline_missed` on the
  triggerer when the run has not finished by 06:00 Asia/Ho_Chi_Minh.

Airflow is imported inside the functions so that importing this module (the
DAG file does) costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from motcua.alerts.compose import TaskFailure, compose_deadline_missed, compose_task_failure
from motcua.alerts.send import deliver

if TYPE_CHECKING:
    from airflow.sdk import DeadlineAlert

log = logging.getLogger(__name__)

NIGHTLY_STARTS_AT = time(1, 0)  # defaults.NIGHTLY_CRON: 01:00 Asia/Ho_Chi_Minh
NIGHTLY_FINISH_BY = time(6, 0)  # the IT team and the morning dashboards need the data by then
DEFAULT_API_URL = "http://localhost:8080/"


def _first_line(error: object) -> str | None:
    """'ValueError: first non-empty line', capped; masking happens in compose."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        lines = str(error).strip().splitlines()
        first = next((line.strip() for line in lines if line.strip()), "")
        return f"{type(error).__name__}: {first}"[:300] if first else type(error).__name__
    return str(error).strip().splitlines()[0][:300] if str(error).strip() else None


def _log_path(ti: Any, try_number: int | None) -> str | None:
    """The task log on the worker, from ``[logging] base_log_folder`` and the file template."""
    try:
        import jinja2
        from airflow.sdk.configuration import conf

        base = conf.get("logging", "base_log_folder")
        template = conf.get("logging", "log_filename_template").replace("%%", "%")
        relative = jinja2.Template(template).render(ti=ti, try_number=try_number)
        return f"{base.rstrip('/')}/{relative}"
    except Exception:  # a best-effort hint; the log URL is the primary pointer
        return None


def task_failure_from_context(context: Mapping[str, Any]) -> TaskFailure:
    """The facts of a failed task, from the Airflow 3 callback context (``ti``, ``exception``)."""
    ti = context.get("task_instance") or context.get("ti")
    try_number = getattr(ti, "try_number", None)
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # log_url reads [api] base_url; never let the hint break the alert
        log_url = None
    logical = context.get("logical_date")
    return TaskFailure(
        dag_id=str(getattr(ti, "dag_id", None) or context.get("dag_id") or "?"),
        task_id=str(getattr(ti, "task_id", None) or "?"),
        run_id=str(getattr(ti, "run_id", None) or context.get("run_id") or "?"),
        try_number=try_number if isinstance(try_number, int) else None,
        map_index=getattr(ti, "map_index", None),
        logical_date=logical.isoformat() if isinstance(logical, datetime) else None,
        log_url=log_url if isinstance(log_url, str) else None,
        log_path=_log_path(ti, try_number) if ti is not None else None,
        error=_first_line(context.get("exception")),
    )


def on_task_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: log and send who failed and where to look; never raises."""
    failure = task_failure_from_context(context)
    log.error(
        "task failed: dag=%s task=%s run=%s try=%s log=%s",
        failure.dag_id,
        failure.task_id,
        failure.run_id,
        failure.try_number,
        failure.log_url or failure.log_path,
    )
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    name = f"task-failure_{failure.dag_id}_{failure.task_id}_try{failure.try_number}_{stamp}"
    try:
        deliver(compose_task_failure(failure), name=name)
    except Exception:  # a failing callback must not hide the task's own failure
        log.exception("task-failure alert not delivered")


def _run_url(dag_id: str, run_id: str) -> str | None:
    try:
        from airflow.sdk.configuration import conf

        base = conf.get("api", "base_url", fallback=None) or DEFAULT_API_URL
    except Exception:
        base = DEFAULT_API_URL
    return f"{base.rstrip('/')}/dags/{quote(dag_id)}/runs/{quote(run_id)}"


async def on_deadline_missed(
    context: Mapping[str, Any] | None = None, finish_by: str = "06:00"
) -> dict[str, Any]:
    """DeadlineAlert callback (runs on the triggerer): the night run is still not done.

    ``context`` is what Airflow 3 passes to deadline callbacks: ``dag_run`` (the
    REST API's DAGRunResponse as JSON) and ``deadline`` (``deadline_time``).
    Delivery is blocking I/O, so it runs in a worker thread, off the triggerer's loop.
    """
    context = context or {}
    dag_run = dict(context.get("dag_run") or {})
    deadline = dict(context.get("deadline") or {})
    dag_id = str(dag_run.get("dag_id", "?"))
    run_id = str(dag_run.get("dag_run_id") or dag_run.get("run_id") or "?")
    message = compose_deadline_missed(
        dag_run, deadline.get("deadline_time"), finish_by, _run_url(dag_id, run_id)
    )
    log.warning("deadline missed: dag=%s run=%s", dag_id, run_id)
    name = "deadline_" + re.sub(r"\W+", "_", f"{dag_id}_{run_id}")
    return await asyncio.to_thread(deliver, message, name=name)


def nightly_deadline(
    starts_at: time = NIGHTLY_STARTS_AT, finish_by: time = NIGHTLY_FINISH_BY
) -> DeadlineAlert | None:
    """``@dag(deadline=...)``: alert when a run is not finished by ``finish_by`` local time.

    The reference is the run's logical date, which for the 01:00
    ``CronTriggerTimetable`` is 01:00 Asia/Ho_Chi_Minh; 01:00 + 5 h = 06:00. Runs
    without a logical date (some manual triggers) get no deadline — Airflow skips it.

    ``MOTCUA_DEADLINE_ALERT=off`` (read when the DAG file is parsed) gives None, for
    the local one-shot ``make run``: no triggerer runs there to fire the alert, and
    ``airflow dags test`` 3.3.2 exits 1 after a *successful* run of a DAG with a
    deadline (apache/airflow#73428).
    """
    if os.environ.get("MOTCUA_DEADLINE_ALERT", "on").strip().lower() in {"off", "false", "0", "no"}:
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    interval = datetime.combine(date.min, finish_by) - datetime.combine(date.min, starts_at)
    if interval <= timedelta(0):
        interval += timedelta(days=1)
    label = finish_by.strftime("%H:%M")
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=interval,
        callback=AsyncCallback(on_deadline_missed, kwargs={"finish_by": label}),
        name=f"nightly run finished by {label} Asia/Ho_Chi_Minh",
    )
