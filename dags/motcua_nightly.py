"""
### Một cửa Analytics — nightly warehouse load

Every night at **01:00 Asia/Ho_Chi_Minh**:

1. `prepare_access`: the roles migration (loader, transformer, read-only
   `bi_reader`), idempotent; then `load_inbox`: new one-stop-shop and survey
   files of `INBOX_DIR` are loaded into the raw layer with `COPY` (one
   transaction per file, re-delivered files skipped) and moved to
   `INBOX_DIR/archive/` (unreadable ones to `INBOX_DIR/rejected/` with a
   reason);
2. `pull_api`: dossiers changed since the last watermark are pulled from the
   one-stop-shop HTTP API when `MOTCUA_API_URL` is set;
3. `transform` (dbt via Cosmos, from the precompiled manifest): one
   `dbt build` (its task `dbt_producer_watcher`) of the seeds, staging,
   quarantine, intermediate and ops models, each model's tests right after
   it; each model keeps a task that shows its outcome and its tests';
4. `check_pipeline`: the blocking Great Expectations suites (files reconcile,
   no duplicate dossier, closed vocabularies...): if the numbers cannot be
   trusted the run stops here and the marts BI tools read stay as they were;
5. `publish` (dbt, one `dbt build` too): the marts; on success its producer
   emits the marts' assets (the monthly reports DAG waits for them); then
   `secure_marts` re-applies the BI grants (and the commune row-level
   security when enabled) to the rebuilt tables;
6. `check_contacts`: contact-field completeness per commune (warnings);
7. `alert`: one e-mail to provincial IT when there are findings;
8. `summarise`: the run's figures, logged and stored for the CLI.

Trigger with conf `{"run_date": "YYYY-MM-DD"}` to compute figures as of
another date (default: the run's logical date in Asia/Ho_Chi_Minh).

One run at a time per warehouse: every task holds the warehouse's run lock
(a PostgreSQL advisory lock, shared by the tasks of one run); a task that
finds another run (a `make run`) holding it fails, naming it, and retries.
A failed run always alerts provincial IT, through the outbox when no mail
server or database is reachable.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from motcua.alerts.callbacks import nightly_deadline
from motcua.orchestration import assets, dbt_group, nightly
from motcua.orchestration.defaults import (
    NIGHTLY_ARGS,
    NIGHTLY_CRON,
    START_DATE,
    TAGS,
    announce_marts,
    notify_run_failure,
)


@dag(
    dag_id="motcua_nightly",
    schedule=CronTriggerTimetable(NIGHTLY_CRON, timezone="Asia/Ho_Chi_Minh"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=TAGS,
    doc_md=__doc__,
    default_args=NIGHTLY_ARGS,  # every task holds the warehouse's run lock
    on_failure_callback=notify_run_failure,  # a failed run always alerts
    deadline=nightly_deadline(),  # not finished by 06:00 Asia/Ho_Chi_Minh: alert
    params={"run_date": Param(None, type=["null", "string"], format="date")},
)
def motcua_nightly() -> None:
    @task
    def prepare_access() -> dict:
        return nightly.prepare_access()

    @task(trigger_rule="all_done")
    def secure_marts() -> dict:
        return nightly.secure_marts()

    @task
    def resolve_run_date(**context: object) -> str:
        return nightly.resolve_run_date(context).isoformat()

    @task(outlets=[assets.RAW_ONESTOP, assets.RAW_SURVEY])
    def load_inbox(run_date: str) -> dict:
        return nightly.load_inbox(run_date)

    @task(outlets=[assets.RAW_ONESTOP])
    def pull_api(run_date: str) -> dict:
        return nightly.pull_api(run_date)

    @task(outlets=[assets.DQ_RESULTS])
    def check_pipeline(run_date: str) -> dict:
        return nightly.check_pipeline(run_date)

    @task(outlets=[assets.DQ_RESULTS])
    def check_contacts(run_date: str) -> dict:
        return nightly.check_contacts(run_date)

    @task
    def alert(run_date: str, pipeline: dict, contacts: dict) -> dict:
        return nightly.alert(run_date, pipeline, contacts)

    @task
    def summarise(run_date: str, alerted: dict, **context: object) -> dict:
        # this run's loads (upstream through the transform), for its own counts
        loads = context["ti"].xcom_pull(task_ids=list(nightly.LOAD_TASKS))  # type: ignore[attr-defined]
        return nightly.summarise(run_date, alerted, loads)

    run_date = resolve_run_date()
    prepare = dbt_group.build_group("transform", exclude=dbt_group.PREPARE_EXCLUDE)
    publish = dbt_group.build_group(
        "publish",
        select=dbt_group.PUBLISH_SELECT,
        producer_args={"outlets": assets.marts(), "post_execute": announce_marts},
    )
    loaded = [load_inbox(run_date), pull_api(run_date)]
    prepare_access() >> loaded
    pipeline = check_pipeline(run_date)
    contacts = check_contacts(run_date)
    loaded >> prepare >> pipeline >> publish >> [contacts, secure_marts()]
    summarise(run_date, alert(run_date, pipeline, contacts))


motcua_nightly()
