"""The dbt part of the nightly DAG: one ``dbt build`` per task group, watched per model.

Cosmos renders each group from the precompiled manifest (``LoadMode.DBT_MANIFEST``:
``dbt_project/target/manifest.json``, made by ``dbt parse`` during set-up; no
dbt call at parse time) in ``ExecutionMode.WATCHER``: one *producer* task runs
a single ``dbt build`` of the group's selection with dbt's own threads and
records each node's outcome in XCom; every model (and its data tests, right
after it) keeps a task of its own that reports that outcome, so the Airflow
UI still shows model by model what was built, failed or skipped. The unit
tests are not part of the night (``BUILD_ENV``).

Why the consumers come after the producer. In Cosmos' default layout the
model tasks start beside the producer and *defer* until their model's status
appears. ``airflow dags test`` (what ``make run`` uses) runs one task at a
time and a deferred task's trigger inline, so a consumer that defers before
the producer ran waits forever. Here every root consumer is downstream of the
producer (the others follow through the model graph): a consumer starts only
when the whole build is over, finds its status at its first poke and never
defers. ``make run`` and a deployment therefore run the same DAG the same
way. The cost: a model turns green when the group's build ends rather than
when the model does; the per-model outcome, compiled SQL and dbt messages are
all there.

Failure and retries:
- the producer never retries (``retries=0``): Cosmos refuses a second build
  in the same run (a retry would only skip), and its ``..._done`` task, a
  leaf of the group, turns ``upstream_failed`` on any producer failure, so
  the blocking checks and the publication cannot run on a failed build; the
  task's failure alert goes out at once. Re-running the night is safe: files
  already loaded are skipped and every model is idempotent;
- a root consumer runs when the producer succeeded *or failed*
  (``one_done``), to show which model failed; when the producer did not run
  (a load failed) the consumers are skipped and the ``..._done`` task carries
  the failure downstream;
- a consumer's own retry re-runs only its model (or its model's tests) with
  dbt (Cosmos' fallback): idempotent, and always before the gate downstream.

The warehouse credentials come from the Airflow connection at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from motcua import config
from motcua.orchestration.defaults import WAREHOUSE_CONN_ID

_CONN = f"conn.{WAREHOUSE_CONN_ID}"

# The night's dbt build checks the night's data: the unit tests check the rules
# on their own fixtures, the same every night, and run in CI (`make test`). An
# environment variable rather than a flag: `dbt build` and `dbt test` read it,
# `dbt run` (a model task's retry) has no such option and ignores it.
BUILD_ENV: dict[str, str] = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}

DBT_ENV_TEMPLATE: dict[str, str] = {
    "WH_HOST": "{{ " + _CONN + ".host }}",
    "WH_PORT": "{{ " + _CONN + ".port or 5432 }}",
    "WH_USER": "{{ " + _CONN + ".login }}",
    "WH_PASSWORD": "{{ " + _CONN + ".password or '' }}",
    "WH_DBNAME": "{{ " + _CONN + ".schema }}",
    # the run's as-of date (macro run_date): an environment variable, so that
    # dbt's partial parsing survives a new date each night
    config.RUN_DATE_ENV: "{{ ti.xcom_pull(task_ids='resolve_run_date') }}",
    **BUILD_ENV,
    **config.TELEMETRY_OFF,
}


# What the nightly run builds before its blocking checks, and what it then
# publishes: BI tools never see marts computed from data that failed them.
MARTS_PATH = "models/marts"
PREPARE_EXCLUDE = [f"path:{MARTS_PATH}"]
PUBLISH_SELECT = [f"path:{MARTS_PATH}"]

DBT_PROFILE, DBT_TARGET = "motcua", "warehouse"
PRODUCER_TASK_ID = "dbt_producer_watcher"  # cosmos.constants.PRODUCER_WATCHER_TASK_ID


def build_group(
    group_id: str,
    *,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
    producer_args: dict[str, Any] | None = None,
) -> Any:
    """A Cosmos DbtTaskGroup running one ``dbt build`` of its selection for the run's date.

    ``producer_args``: extra operator arguments of the producer task alone
    (the publish group's outlets).
    """
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project_dir = config.dbt_project_dir()
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project_dir,
            manifest_path=project_dir / "target" / "manifest.json",
            install_dbt_deps=False,
            env_vars=DBT_ENV_TEMPLATE,  # rendered per task, like the operators' env
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE,
            target_name=DBT_TARGET,
            profiles_yml_filepath=project_dir / "profiles.yml",
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # a relationships test needs both of its models built: own task after both
            should_detach_multiple_parents_tests=True,
            select=select or [],
            exclude=exclude or [],
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # dbt in its own process: in-process (DBT_RUNNER), dbt's threads wait for
            # Cosmos' per-event XCom writes and share the GIL with the task
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=str(Path(sys.executable).parent / "dbt"),
            setup_operator_args={"retries": 0, **(producer_args or {})},
        ),
        # the marts' assets are declared from the manifest (motcua.orchestration.assets)
        operator_args={"append_env": True, "emit_datasets": False},
    )
    consumers_after_producer(group)
    return group


def consumers_after_producer(group: Any) -> None:
    """Put the group's root consumers downstream of its producer (see the module's text)."""
    from airflow.task.trigger_rule import TriggerRule

    tasks = list(group.iter_tasks())
    producer = next(t for t in tasks if t.task_id.endswith(f".{PRODUCER_TASK_ID}"))
    ids = {t.task_id for t in tasks}
    for task in tasks:
        if hasattr(task, "producer_task_id") and task.upstream_task_ids.isdisjoint(ids):
            producer >> task
            task.trigger_rule = TriggerRule.ONE_DONE
