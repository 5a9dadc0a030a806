"""The nightly pipeline's steps as plain functions.

The DAG's tasks call these (so they are testable without Airflow) and the
CLI prints their results. Each step is safe to re-run: loading skips files
already registered, dbt models are rebuilt from raw, checks are recomputed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from motcua.ingest import loader

log = logging.getLogger(__name__)


def connect(url: str) -> psycopg.Connection:
    """A warehouse connection in autocommit mode; steps open their own transactions."""
    return psycopg.connect(url, autocommit=True, application_name="motcua")


def ingest_inbox(url: str, inbox: Path, run_date: date) -> dict[str, Any]:
    """Load every pending inbox file into raw; return per-file outcomes."""
    with connect(url) as conn:
        loader.ensure_raw_schema(conn)
        batch_id = loader.start_batch(conn, run_date, inbox)
        outcomes = [asdict(o) for o in loader.load_inbox(conn, inbox, batch_id)]
        loader.finish_batch(conn, batch_id)
    return {"batch_id": batch_id, "files": outcomes}


def pull_api(url: str, base_url: str, run_date: date) -> dict[str, Any]:
    """Pull the dossiers changed since the last pull from the one-stop-shop HTTP API.

    One pseudo-file per pull, committed together with the new watermark;
    settings from ``MOTCUA_API_*`` (see ``motcua.sources.api``). Raises
    ``ApiError`` when the API cannot be read, with nothing committed.
    """
    from motcua.sources import api

    with connect(url) as conn:
        loader.ensure_raw_schema(conn)
        batch_id = loader.start_batch(conn, run_date, None)
        outcome = api.pull(conn, batch_id, base_url, **api.settings_from_env())
        loader.finish_batch(conn, batch_id)
    return {"batch_id": batch_id, "files": [asdict(outcome)]}


def check_quality(url: str, run_date: date) -> dict[str, Any]:
    """Run the data-quality checkpoints; results go to ``dq.validation_results``.

    Returns the JSON-ready summary (per-suite success, per-commune findings);
    raises ``motcua.quality.QualityGateError`` after storing when a blocking
    check failed.
    """
    from motcua.quality import run_checks

    return run_checks(url, run_date)


def prepare_access(url: str) -> dict[str, Any]:
    """The roles migration (idempotent): loader, transformer and BI roles, grants."""
    from motcua.warehouse import access

    with connect(url) as conn:
        return access.apply_access(conn).as_dict()


def secure_marts(url: str) -> dict[str, Any]:
    """Re-grant and re-secure the marts dbt has just rebuilt."""
    from motcua.warehouse import access

    with connect(url) as conn:
        return access.secure_marts(conn).as_dict()
