"""
### Một cửa Analytics — reports of the 1st of the month

At **06:00 Asia/Ho_Chi_Minh on the 1st** (after the nightly run), for every
period that has just closed (the month; the quarter, half-year and year when
the month ends one) the official per-commune statistics table is written as
XLSX, then the public transparency export (CSV + JSON) and the HTML
dashboard are refreshed — all under `REPORTS_DIR` (default
`.local/reports/`), all read from schema `marts`.

Trigger with conf `{"day": "YYYY-MM-DD"}` to produce the reports due on
another 1st (e.g. `2017-07-01` for June, Q2 and H1 2017).
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from motcua.orchestration import nightly
from motcua.orchestration.defaults import DEFAULT_ARGS, START_DATE, notify_run_failure

TAGS = ["motcua", "reports"]


@dag(
    dag_id="motcua_monthly_reports",
    schedule=CronTriggerTimetable("0 6 1 * *", timezone="Asia/Ho_Chi_Minh"),
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
