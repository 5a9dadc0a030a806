"""Assets the DAGs produce, named by table so downstream DAGs can subscribe.

The URIs name a logical host ``warehouse``: the asset identifies the table,
whichever server the deployment points the connection at. The marts' assets
are read from the precompiled dbt manifest (the models under
``models/marts``, as the publish step selects them), so a new mart is an
asset without an edit here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from airflow.sdk import Asset

from motcua import config
from motcua.orchestration.dbt_group import MARTS_PATH

# the extra of the marts' asset events: the nightly run's as-of date
RUN_DATE_EXTRA = "run_date"


def _table(schema: str, table: str) -> Asset:
    return Asset(
        name=f"{schema}.{table}", uri=f"postgres://warehouse:5432/warehouse/{schema}/{table}"
    )


def manifest_path() -> Path:
    return config.dbt_project_dir() / "target" / "manifest.json"


@cache
def mart_tables(manifest: Path | None = None) -> tuple[tuple[str, str], ...]:
    """(schema, table) the marts' models build, from the manifest (``dbt parse`` writes it)."""
    path = manifest or manifest_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `dbt parse` (make run does) first")
    nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"].values()
    return tuple(
        sorted(
            (node["schema"], node["alias"])
            for node in nodes
            if node["resource_type"] == "model"
            and node["original_file_path"].startswith(f"{MARTS_PATH}/")
        )
    )


def marts() -> list[Asset]:
    """One asset per mart: what the publish step emits, what the reports wait for."""
    return [_table(schema, table) for schema, table in mart_tables()]


RAW_ONESTOP = _table("raw", "onestop_rows")
RAW_SURVEY = _table("raw", "survey_rows")
DQ_RESULTS = _table("dq", "validation_results")
