"""Bodies of the nightly DAG's Python tasks.

They run inside Airflow workers: the warehouse is the Airflow connection
``motcua_warehouse`` (set from ``WAREHOUSE_URL`` by the CLI, or by the
deployment), the inbox is ``INBOX_DIR``. Heavy imports stay inside the
functions so that parsing the DAG file stays fast.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from motcua import config
from motcua.orchestration.defaults import WAREHOUSE_CONN_ID

log = logging.getLogger(__name__)

LOAD_TASKS = ("load_inbox", "pull_api")  # the tasks that open raw batches

# The run lock's session for this task process (see hold_run_lock): kept open
# until the process ends, which releases it.
_task_lock: Any = None
# Under make run: a session that saw the runner holding the lock, asked again by
# the next tasks of the same process (one query, no new connection each).
_runner_probe: Any = None


def warehouse_url() -> str:
    """The warehouse URL from the Airflow connection (single source of truth)."""
    from airflow.sdk import Connection

    conn = Connection.get(WAREHOUSE_CONN_ID)
    params = config.PgParams(
        host=conn.host or "127.0.0.1",
        port=int(conn.port or 5432),
        user=conn.login or "postgres",
        password=conn.password or "",
        dbname=conn.schema or "postgres",
    )
    return params.url()


def _still_held(conn: Any) -> bool:
    try:
        conn.execute("select 1")
    except Exception:  # the server restarted: the lock went with the session
        return False
    return True


def hold_run_lock(context: dict[str, Any]) -> None:
    """``pre_execute`` of every nightly task: one run at a time per warehouse.

    Holds the run lock shared, named after this DAG run, for the rest of the
    task's process (``motcua.warehouse.run_lock``): tasks of this run share
    it, a ``make run`` waits for it, a task of another run is refused. Under
    ``make run`` the runner's own session holds it already (its pid in
    ``MOTCUA_RUN_LOCK_PID``) and nothing more is taken. In ``airflow dags
    test`` every task runs in one process, so the first task's session serves
    the whole run; likewise, under ``make run``, the first task's finding that
    the runner holds it is re-checked by the next ones on the same session
    (``run_lock.runner_holds``). Raises ``WarehouseBusy`` (the task fails, then
    retries).
    """
    global _task_lock, _runner_probe
    from motcua.warehouse import run_lock

    if _task_lock is not None and _still_held(_task_lock):
        return
    if _runner_probe is not None:
        if run_lock.runner_holds(_runner_probe):
            return
        _runner_probe.close()
        _runner_probe = None
    ti = context["ti"]
    name = f"{run_lock.NAME_PREFIX}{ti.dag_id} {ti.run_id}"
    url = warehouse_url()
    _task_lock = run_lock.acquire_for_task(url, name)
    if _task_lock is None:  # the runner's: watch it from one session from now on
        _runner_probe = run_lock.probe(url, name)


def resolve_run_date(context: dict[str, Any]) -> date:
    """conf/param ``run_date``, else the logical date in Asia/Ho_Chi_Minh."""
    params = context.get("params") or {}
    value = params.get("run_date") if hasattr(params, "get") else None
    if value:
        return config.parse_run_date(str(value))
    logical = context.get("logical_date")
    if logical is not None:
        return logical.astimezone(config.TIMEZONE).date()  # type: ignore[union-attr]
    return config.today_local()


def prepare_access() -> dict[str, Any]:
    from motcua import pipeline

    return pipeline.prepare_access(warehouse_url())


def secure_marts() -> dict[str, Any]:
    from motcua import pipeline

    return pipeline.secure_marts(warehouse_url())


def load_inbox(run_date: str) -> dict[str, Any]:
    from motcua import pipeline

    inbox = config.inbox_dir()
    result = pipeline.ingest_inbox(warehouse_url(), inbox, config.parse_run_date(run_date))
    for item in result["files"]:
        log.info("%(source)s %(file_name)s: %(status)s, %(rows_read)s rows (%(file_format)s)", item)
    return result


def pull_api(run_date: str) -> dict[str, Any]:
    base_url = config.api_url()
    if not base_url:
        return {"skipped": "MOTCUA_API_URL is not set"}
    from motcua import pipeline

    return pipeline.pull_api(warehouse_url(), base_url, config.parse_run_date(run_date))


def check_pipeline(run_date: str) -> dict[str, Any]:
    """Blocking checks before publication; on failure alert, then fail the task."""
    from motcua.quality.run import QualityGateError, run_checks

    try:
        return run_checks(warehouse_url(), config.parse_run_date(run_date), scope="pipeline")
    except QualityGateError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        from motcua.alerts import alert_quality

        alert_quality(exc.summary, config.parse_run_date(run_date))
        # a retry would find the same data and send the same alert again
        raise AirflowFailException(str(exc)) from exc


def check_contacts(run_date: str) -> dict[str, Any]:
    from motcua.quality.run import run_checks

    return run_checks(warehouse_url(), config.parse_run_date(run_date), scope="contacts")


def alert(run_date: str, pipeline: dict[str, Any], contacts: dict[str, Any]) -> dict[str, Any]:
    """One message for the run's findings, warnings of both check stages together."""
    from motcua.alerts import alert_quality
    from motcua.quality.run import merge_summaries

    return alert_quality(merge_summaries(pipeline, contacts), config.parse_run_date(run_date))


def batch_ids(loads: list[Any]) -> list[int]:
    """The raw batches this run's load tasks opened (a skipped API pull opens none)."""
    return sorted(
        int(r["batch_id"]) for r in loads if isinstance(r, dict) and r.get("batch_id") is not None
    )


def summarise(
    run_date: str, alerted: dict[str, Any] | None = None, loads: list[Any] | None = None
) -> dict[str, Any]:
    """The run's summary: its own files and rows (``loads``: the load tasks' results)."""
    from motcua import summary

    result = summary.collect(
        warehouse_url(), config.parse_run_date(run_date), alerted, batch_ids(loads or [])
    )
    summary.store(warehouse_url(), result)
    log.info("%s", summary.render(result))
    return {"stored": True}


def reports_day(context: dict[str, Any]) -> date:
    """The date whose due reports to produce.

    conf ``day``, else the run date the publishing nightly run put on the
    marts' asset events, else the logical date, else today (Asia/Ho_Chi_Minh).
    """
    from motcua.orchestration.assets import RUN_DATE_EXTRA

    params = context.get("params") or {}
    value = params.get("day") if hasattr(params, "get") else None
    if value:
        return config.parse_run_date(str(value))
    events = context.get("triggering_asset_events") or {}
    dates = {
        str(event.extra[RUN_DATE_EXTRA])
        for asset_events in events.values()  # type: ignore[attr-defined]
        for event in asset_events
        if (event.extra or {}).get(RUN_DATE_EXTRA)
    }
    if dates:
        return config.parse_run_date(max(dates))
    logical = context.get("logical_date")
    if logical is not None:
        return logical.astimezone(config.TIMEZONE).date()  # type: ignore[union-attr]
    return config.today_local()


def produce_reports(context: dict[str, Any]) -> dict[str, Any]:
    """The monthly DAG's task: the reports due on :func:`reports_day`."""
    from motcua.reports.monthly import produce

    return produce(warehouse_url(), reports_day(context), config.reports_dir())
