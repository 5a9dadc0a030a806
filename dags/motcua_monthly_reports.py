"""
### Một cửa Analytics — reports after each publication of the marts

Scheduled on the marts' assets: it runs when the nightly DAG has published
them (its `publish` step emits one asset event per mart, carrying the run's
date). On the date that closes a period (the 1st: the month; the quarter,
half-year and year when the month ends one) the official per-commune
statistics table of each closed period is written as XLSX and the HTML
dashboard refreshed; the public transparency export (CSV + JSON) is
refreshed every time — all under `REPORTS_DIR` (default `.local/reports/`),
all read from schema `marts`.

Trigger with conf `{"day": "YYYY-MM-DD"}` to produce the reports due on
another 1st (e.g. `2017-07-01` for June, Q2 and H1 2017).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from motcua.orchestration import assets, nightly
from motcua.orchestration.defaults import DEFAULT_ARGS, START_DATE, notify_run_failure

TAGS = ["motcua", "reports"]


@dag(
    dag_id="motcua_monthly_reports",
    schedule=assets.marts(),  # every mart published by the same nightly run
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=TAGS,
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
    on_failure_callback=notify_run_failure,
    params={"day": Param(None, type=["null", "string"], format="date")},
)
def motcua_monthly_reports() -> None:
    @task
    def produce_reports(**context: object) -> dict:
        return nightly.produce_reports(context)

    produce_reports()


motcua_monthly_reports()
