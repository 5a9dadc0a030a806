"""Assets the DAGs produce, named by table so downstream DAGs can subscribe.

The URIs name a logical host ``warehouse``: the asset identifies the table,
whichever server the deployment points the connection at.
"""

from __future__ import annotations

from airflow.sdk import Asset


def _table(schema: str, table: str) -> Asset:
    return Asset(
        name=f"{schema}.{table}", uri=f"postgres://warehouse:5432/warehouse/{schema}/{table}"
    )


RAW_ONESTOP = _table("raw", "onestop_rows")
RAW_SURVEY = _table("raw", "survey_rows")
MARTS = [
    _table("marts", name)
    for name in (
        "fct_dossier",
        "dim_commune",
        "commune_lateness",
        "district_lateness",
        "commune_satisfaction",
        "district_satisfaction",
        "commune_contact_completeness",
        "dossiers_due_soon",
    )
]
DQ_RESULTS = _table("dq", "validation_results")
