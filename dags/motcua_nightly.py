"""
### Một cửa Analytics — nightly warehouse load

Every night at **01:00 Asia/Ho_Chi_Minh**:

1. `load_inbox`: new one-stop-shop and survey files of `INBOX_DIR` are loaded
   into the raw layer with `COPY` (one transaction per file, re-delivered
   files skipped) and moved to `INBOX_DIR/archive/` (unreadable ones to
   `INBOX_DIR/rejected/` with a reason);
2. `pull_api`: dossiers changed since the last watermark are pulled from the
   one-stop-shop HTTP API when `MOTCUA_API_URL` is set;
3. `dbt`: the dbt project builds staging, quarantine, intermediate and marts
   models, each model's tests right after it (Cosmos, from the precompiled
   manifest);
4. `check_quality`: Great Expectations suites on the warehouse;
5. `summarise`: the run's figures, logged and stored for the CLI.

Trigger with conf `{"run_date": "YYYY-MM-DD"}` to compute figures as of
another date (default: the run's logical date in Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from motcua.orchestration import assets, dbt_group, nightly
from motcua.orchestration.defaults import (
    DEFAULT_ARGS,
    NIGHTLY_CRON,
    START_DATE,
    TAGS,
)


@dag(
    dag_id="motcua_nightly",
    schedule=CronTriggerTimetable(NIGHTLY_CRON, timezone="Asia/Ho_Chi_Minh"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=TAGS,
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
    params={"run_date": Param(None, type=["null", "string"], format="date")},
)
def motcua_nightly() -> None:
    @task
    def resolve_run_date(**context: object) -> str:
        return nightly.resolve_run_date(context).isoformat()

    @task(outlets=[assets.RAW_ONESTOP, assets.RAW_SURVEY])
    def load_inbox(run_date: str) -> dict:
        return nightly.load_inbox(run_date)

    @task(outlets=[assets.RAW_ONESTOP])
    def pull_api(run_date: str) -> dict:
        return nightly.pull_api(run_date)

    @task(outlets=[*assets.MARTS, assets.DQ_RESULTS])
    def check_quality(run_date: str) -> dict:
        return nightly.check_quality(run_date)

    @task
    def summarise(run_date: str) -> dict:
        return nightly.summarise(run_date)

    run_date = resolve_run_date()
    transform = dbt_group.build_group(run_date)
    loaded = [load_inbox(run_date), pull_api(run_date)]
    checked = check_quality(run_date)
    loaded >> transform >> checked >> summarise(run_date)


motcua_nightly()
