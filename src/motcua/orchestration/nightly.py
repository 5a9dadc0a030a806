"""Bodies of the nightly DAG's Python tasks.

They run inside Airflow workers: the warehouse is the Airflow connection
``motcua_warehouse`` (set from ``WAREHOUSE_URL`` by the CLI, or by the
deployment), the inbox is ``INBOX_DIR``. Heavy imports stay inside the
functions so that parsing the DAG file stays fast.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import Any

from motcua import config
from motcua.orchestration.defaults import WAREHOUSE_CONN_ID

log = logging.getLogger(__name__)


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
    base_url = os.environ.get("MOTCUA_API_URL")
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


def summarise(run_date: str, alerted: dict[str, Any] | None = None) -> dict[str, Any]:
    from motcua import summary

    result = summary.collect(warehouse_url(), config.parse_run_date(run_date), alerted)
    summary.store(warehouse_url(), result)
    log.info("%s", summary.render(result))
    return {"stored": True}


def produce_reports(context: dict[str, Any]) -> dict[str, Any]:
    """The monthly DAG's task: reports due on conf ``day`` or the run's local date."""
    from pathlib import Path

    from motcua.reports.monthly import produce

    params = context.get("params") or {}
    value = params.get("day") if hasattr(params, "get") else None
    logical = context.get("logical_date")
    if value:
        day = config.parse_run_date(str(value))
    elif logical is not None:
        day = logical.astimezone(config.TIMEZONE).date()  # type: ignore[union-attr]
    else:
        day = config.today_local()
    out = Path(os.environ.get("REPORTS_DIR") or config.local_dir() / "reports")
    return produce(warehouse_url(), day, out)
