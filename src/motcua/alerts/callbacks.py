"""Airflow 3 hooks for operations alerts: a task failed, a run failed, the night run is late.

* :func:`on_task_failure` — ``on_failure_callback`` (DEFAULT_ARGS): runs in the
  task's process after its last try failed; says which DAG, task, run and try,
  and where the log is. The exception text can carry data values (a parser error
  quoting a cell), so only its first line goes out, masked. It needs no
  database: when the SMTP connection cannot be looked up (the metadata
  database is down, as in a PostgreSQL restart) the message goes to the outbox.
* :func:`on_dag_failure` — the DAG's ``on_failure_callback``: a failed run whose
  failure no task alert reported (the task was killed, or failed before its
  callback could run) alerts once. Each failure alert that went out is
  recorded in ``<outbox>/.failures-alerted/`` (a file per DAG run), so a run
  normally gets one message, not one per layer; the ``make run`` runner reads
  the same record when ``airflow dags test`` itself fails (motcua.runner).
* :func:`nightly_deadline` — the DAG's ``deadline=``: Airflow's DeadlineAlert
  (3.1+, the successor of SLAs) fires :func:`on_deadline_missed` on the
  triggerer when the run has not finished by 06:00 Asia/Ho_Chi_Minh.

Airflow is imported inside the functions so that importing this module (the
DAG file does) costs nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time as clock
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from motcua import config
from motcua.alerts.compose import (
    TaskFailure,
    compose_deadline_missed,
    compose_run_failure,
    compose_task_failure,
)
from motcua.alerts.send import AlertDeliveryError, AlertSettings, deliver

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


LEDGER_DIR = ".failures-alerted"


def _safe(text: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", text).strip("._") or "_"


def _ledger() -> Path:
    return AlertSettings.from_env().outbox / LEDGER_DIR


def record_failure_alert(dag_id: str, run_id: str, result: Mapping[str, Any]) -> None:
    """Note that the failure of run ``run_id`` was alerted (where, and when)."""
    try:
        ledger = _ledger()
        ledger.mkdir(parents=True, exist_ok=True)
        note = {"at": clock.time(), "dag_id": dag_id, "run_id": run_id, **result}
        entry = ledger / f"{_safe(dag_id)}__{_safe(run_id)}.json"
        entry.write_text(json.dumps(note, default=str), encoding="utf-8")
    except OSError:  # the record only avoids a duplicate; never lose the alert over it
        log.warning("could not record the failure alert of %s %s", dag_id, run_id)


def failure_alerted(dag_id: str, run_id: str) -> bool:
    return (_ledger() / f"{_safe(dag_id)}__{_safe(run_id)}.json").exists()


def failure_alerted_since(dag_id: str, since: float) -> bool:
    """Whether a failure alert of any run of ``dag_id`` went out at or after ``since``."""
    for entry in _ledger().glob(f"{_safe(dag_id)}__*.json"):
        try:
            if float(json.loads(entry.read_text(encoding="utf-8"))["at"]) >= since:
                return True
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return False


def _deliver_failure(message: Any, name: str, dag_id: str, run_id: str) -> dict[str, Any] | None:
    """Deliver; record it when it reached its channel. Never raises (callbacks must not)."""
    label = str(getattr(message, "kind", "failure")).replace("_", "-")
    try:
        result = deliver(message, name=name)
    except AlertDeliveryError as exc:  # not mailed, but kept in the outbox: say where
        log.error("%s alert not mailed: %s", label, exc)
        return None
    except Exception:  # a failing callback must not hide the failure it reports
        log.exception("%s alert not delivered", label)
        return None
    record_failure_alert(dag_id, run_id, result)
    return result


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
        message = compose_task_failure(failure)
    except Exception:
        log.exception("task-failure alert not composed")
        return
    _deliver_failure(message, name, failure.dag_id, failure.run_id)


def alert_run_failure(
    *,
    dag_id: str,
    run_id: str,
    failed: str | None,
    reason: str | None,
    log_path: str | None = None,
    run_url: str | None = None,
) -> dict[str, Any] | None:
    """Send the one run-failure alert (no database needed); never raises."""
    log.error("run failed: dag=%s run=%s at=%s", dag_id, run_id, failed)
    try:
        message = compose_run_failure(dag_id, run_id, failed, reason, log_path, run_url)
    except Exception:
        log.exception("run-failure alert not composed")
        return None
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    return _deliver_failure(message, f"run-failure_{dag_id}_{run_id}_{stamp}", dag_id, run_id)


def on_dag_failure(context: Mapping[str, Any]) -> None:
    """The DAG's ``on_failure_callback``: alert once for a failed run no task alert covered.

    Airflow runs it where it decides the run failed (the DAG processor of a
    deployment; ``airflow dags test`` in-process), with the context of the
    task that made the run fail and a ``reason``. Never raises.
    """
    try:
        ti = context.get("task_instance") or context.get("ti")
        dag = context.get("dag")
        dag_run = context.get("dag_run")
        dag_id = str(getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None) or "?")
        run_id = str(context.get("run_id") or getattr(dag_run, "run_id", None) or "?")
        if failure_alerted(dag_id, run_id):
            log.info("run %s of %s failed; its failure was alerted already", run_id, dag_id)
            return
        try_number = getattr(ti, "try_number", None)
        alert_run_failure(
            dag_id=dag_id,
            run_id=run_id,
            failed=str(getattr(ti, "task_id", None) or "") or None,
            reason=str(context.get("reason") or "") or None,
            log_path=_log_path(ti, try_number) if ti is not None else None,
            run_url=_run_url(dag_id, run_id),
        )
    except Exception:
        log.exception("run-failure alert not delivered")


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
    if not config.deadline_alert_enabled():
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
