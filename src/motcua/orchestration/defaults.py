"""What every DAG of the project shares: schedule basics, default args, callbacks.

Kept here, not in the DAG files, so the DAG files stay thin and the
integrity test can assert one policy for all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from motcua import config
from motcua.config import TIMEZONE

WAREHOUSE_CONN_ID = "motcua_warehouse"
START_DATE = datetime(2026, 1, 1, tzinfo=TIMEZONE)
NIGHTLY_CRON = "0 1 * * *"  # 01:00 Asia/Ho_Chi_Minh
TAGS = ["motcua", "nightly"]


def _retry_delay() -> timedelta:
    """Five minutes in production; the local one-shot run sets it lower."""
    return timedelta(seconds=config.retry_delay_seconds())


def notify_task_failure(context: dict[str, Any]) -> None:
    """Alert the IT team of a failed task: DAG, task, run, try, where the log is."""
    from motcua.alerts.callbacks import on_task_failure

    on_task_failure(context)


def notify_run_failure(context: dict[str, Any]) -> None:
    """The DAG's ``on_failure_callback``: a failed run that no task alert covered alerts once."""
    from motcua.alerts.callbacks import on_dag_failure

    on_dag_failure(context)


def hold_run_lock(context: dict[str, Any]) -> None:
    """``pre_execute`` of the nightly tasks: one run at a time per warehouse."""
    from motcua.orchestration.nightly import hold_run_lock as hold

    hold(context)


def announce_marts(context: dict[str, Any], result: Any = None) -> None:
    """``post_execute`` of the publish step: its marts' asset events carry the run's date.

    The monthly reports DAG, scheduled on these assets, produces the reports
    due on that date (``motcua.orchestration.nightly.reports_day``).
    """
    from motcua.orchestration.assets import RUN_DATE_EXTRA

    run_date = context["ti"].xcom_pull(task_ids="resolve_run_date")
    events = context["outlet_events"]
    for asset in context["ti"].task.outlets:
        events[asset].extra = {RUN_DATE_EXTRA: run_date}


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "provincial-it",
    "retries": config.task_retries(),
    "retry_delay": _retry_delay(),
    "on_failure_callback": notify_task_failure,
}

# The nightly DAG writes the warehouse: each of its tasks holds the run lock.
# (The monthly reports only read the marts, which dbt swaps in atomically.)
NIGHTLY_ARGS: dict[str, Any] = {**DEFAULT_ARGS, "pre_execute": hold_run_lock}
