"""The dbt part of the nightly DAG: one ``dbt build`` per task group, watched per model.

Cosmos renders each group from the precompiled manifest (``LoadMode.DBT_MANIFEST``:
``dbt_project/target/manifest.json``, made by ``dbt parse`` during set-up; no
dbt call at parse time) in ``ExecutionMode.WATCHER``: one *producer* task runs
a single ``dbt build`` of the group's selection with dbt's own threads and
records each node's outcome in XCom; every model and seed keeps a task of its
own that reports that outcome *and its data tests'* (dbt ran them right after
it, in the same build), so the Airflow UI still shows model by model what was
built, which tests failed, or what was skipped. The unit tests are not part of
the night (``BUILD_ENV``).

Why one task per model rather than one for the model and one for its tests
(Cosmos' ``TestBehavior.AFTER_EACH``): under ``airflow dags test`` every task
costs a fixed start-up (task instance, API round trips, state) whatever it
does, and these tasks only read XCom; halving their number halved the
per-model part of the run (``docs/benchmarks.md``). The groups are rendered
with ``TestBehavior.NONE`` (no test tasks), the producer's build is told to
keep the data tests (Cosmos would otherwise leave them out), and each
consumer is a :class:`ModelWithTestsWatcher`: it fails when its model failed
or when any of its data tests did, naming them.

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
  the blocking checks and the publication cannot run on a failed build (a
  failed data test fails the build too); the task's failure alert goes out at
  once. Re-running the night is safe: files already loaded are skipped and
  every model is idempotent;
- a root consumer runs when the producer succeeded *or failed*
  (``one_done``), to show which model failed; when the producer did not run
  (a load failed) the consumers are skipped and the ``..._done`` task carries
  the failure downstream;
- a consumer's own retry re-runs only its model *and its tests* with ``dbt
  build --select <model>`` (Cosmos' fallback, with ``build`` for ``run``):
  idempotent, and always before the gate downstream.

The warehouse credentials come from the Airflow connection at run time.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, ClassVar

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


# Cosmos' settings for the dbt groups, the same in `make run` (motcua.runner) and in
# the deployment's image (Dockerfile). Cosmos' "reliable retry" re-writes, at every
# XCom the producer pushes (several per model and test), an Airflow Variable holding
# all of them so far, compressed: quadratic, it cost the producers ~20 s on the
# sample. Its purpose is a producer *retry*, which ours never makes (retries=0; the
# consumers' own retries run dbt themselves): Cosmos still writes that Variable
# once when the producer fails (its failure callback).
COSMOS_ENV: dict[str, str] = {"AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False"}

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
            # each model's tests are reported by its own task (ModelWithTestsWatcher);
            # a relationships test counts for both of its models
            test_behavior=TestBehavior.NONE,
            select=select or [],
            exclude=exclude or [],
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # dbt in its own process: in-process (DBT_RUNNER), dbt's threads wait for
            # Cosmos' per-event XCom writes and share the GIL with the task
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=str(Path(sys.executable).parent / "dbt"),
            setup_operator_args={
                "retries": 0,
                # TestBehavior.NONE makes Cosmos restrict the build to these resource
                # types; the data tests are added back (unit tests stay out: BUILD_ENV)
                "dbt_cmd_flags": ["--resource-type", "test"],
                **(producer_args or {}),
            },
        ),
        # the marts' assets are declared from the manifest (motcua.orchestration.assets)
        operator_args={"append_env": True, "emit_datasets": False},
    )
    fold_tests_into_models(group, selected=bool(select))
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


def fold_tests_into_models(group: Any, *, selected: bool) -> None:
    """Make each model's (and seed's) task report its data tests too (see the module's text).

    Cosmos builds the tasks; their class is then narrowed to the matching
    :func:`watcher_classes` subclass, which only overrides how the outcome is
    read and what a retry runs. A model's tests are those of the group's dbt
    graph that *this group's build runs*: with ``--exclude`` (``selected``
    false) dbt leaves out a test one of whose models is excluded (it runs in
    the group that builds that model: a relationships test from a staging
    model to a mart runs with the marts); with ``--select`` it runs every
    test of a selected model. The producer aggregates the same lists (its
    ``tests_per_model``), so that every model's verdict arrives.
    """
    graph = group.dbt_graph
    built = {"model", "seed", "snapshot"}
    left_out: set[str] = (
        set()
        if selected
        else {
            uid
            for uid, node in graph.nodes.items()
            if node.resource_type.value in built and uid not in graph.filtered_nodes
        }
    )
    tests_per_model = {
        uid: sorted(t for t in tests if left_out.isdisjoint(graph.nodes[t].depends_on))
        for uid, tests in graph.tests_per_model.items()
    }
    classes = watcher_classes()
    for task in group.iter_tasks():
        if task.task_id.endswith(f".{PRODUCER_TASK_ID}"):
            task.tests_per_model = {uid: tests for uid, tests in tests_per_model.items() if tests}
            continue
        folded = classes.get(type(task))
        if folded is None:
            continue
        task.__class__ = folded
        task.model_tests = tuple(tests_per_model.get(task.model_unique_id, ()))
        task.compiled_sql = compiled_sql_template(task.producer_task_id, task.model_unique_id)


def compiled_sql_template(producer_task_id: str, unique_id: str) -> str:
    """The consumer's ``compiled_sql`` field: the SQL the producer ran, read when the task starts.

    Cosmos reads it while poking and then has Airflow upload the task's
    rendered fields a second time; a consumer starts after its producer ended
    (see the module's text), so the first upload can already carry it. A seed
    has none (empty).
    """
    from cosmos.operators._watcher.state import get_compiled_sql_xcom_key

    key = get_compiled_sql_xcom_key(unique_id)
    return f"{{{{ ti.xcom_pull(task_ids={producer_task_id!r}, key={key!r}) or '' }}}}"


@functools.cache
def watcher_classes() -> dict[type, type]:
    """Cosmos' model and seed watcher classes -> their :class:`ModelWithTestsWatcher` kind.

    Built on first use: Cosmos' operators are imported only when a DAG file
    builds a group, not when this module is imported.
    """
    from cosmos.operators.watcher import DbtRunWatcherOperator, DbtSeedWatcherOperator

    mixin = model_with_tests_mixin()
    classes: dict[type, type] = {}
    for base in (DbtRunWatcherOperator, DbtSeedWatcherOperator):
        # DbtRunWatcherWithTestsOperator...: the UI's operator column still says Dbt...
        name = base.__name__.replace("Operator", "WithTestsOperator")
        classes[base] = type(name, (mixin, base), {"__module__": __name__})
    return classes


@functools.cache
def model_with_tests_mixin() -> type:
    """The behaviour both folded watcher classes share (see :class:`ModelWithTestsWatcher`)."""

    class ModelWithTestsWatcher:
        """A Cosmos watcher that also fails when one of its model's data tests failed.

        The model's status comes first (Cosmos' own reading: failed, skipped,
        not yet reported); once it succeeded, the tests' outcomes, which the
        producer recorded per test. A retry runs ``dbt build`` of the model,
        so its tests run again with it.
        """

        model_tests: tuple[str, ...] = ()
        # the retry's dbt command (Cosmos' fallback): the model and its tests
        base_cmd: ClassVar[list[str]] = ["build"]
        # the model's status when this poke has already read it (first try only)
        _status_read: Any = None

        def poke(self, context: Any) -> bool:
            # Every call here is a round trip to Airflow's API (~10 ms in `make
            # run`, ×52 tasks): the status is read first, and when it is there
            # the producer's task state (only needed without it, or on a
            # retry) is not fetched. The rest is Cosmos' own poke.
            ti = context["ti"]
            self._status_read = None
            if ti.try_number == 1:
                self._status_read = super()._get_node_status(ti, context)  # type: ignore[misc]
            try:
                done = super().poke(context)  # type: ignore[misc]
            finally:
                self._status_read = None
            if done and ti.try_number == 1:
                check_model_tests(self, context)
            return bool(done)

        def _get_node_status(self, ti: Any, context: Any) -> Any:
            if self._status_read is not None:
                return self._status_read
            return super()._get_node_status(ti, context)  # type: ignore[misc]

        def _get_producer_task_status(self, context: Any) -> str | None:
            if self._status_read is not None:
                return None  # read by Cosmos only without a status, or on a retry
            return super()._get_producer_task_status(context)  # type: ignore[misc]

        def _cache_compiled_sql(self, ti: Any, context: Any) -> None:
            """Read when the task started (compiled_sql_template), after the producer ended."""

        def _log_startup_events(self, ti: Any) -> None:
            """Not read: Cosmos logs dbt's start-up events at debug level only."""

        def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
            super().execute_complete(context, event)  # type: ignore[misc]
            if context["ti"].try_number == 1:
                check_model_tests(self, context)

    return ModelWithTestsWatcher


def check_model_tests(task: Any, context: Any) -> None:
    """Raise unless all the data tests of ``task``'s model passed (or warned) in the build.

    Reads the verdict the producer pushes once every test of the model has
    finished (Cosmos' aggregate: ``pass`` or ``fail``); none means the build
    stopped before they all ran. dbt's messages, naming each failed test and
    its failing rows' count, are in the producer's log.
    """
    if not task.model_tests:
        return
    from airflow.sdk.exceptions import AirflowException
    from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key

    ti, producer = context["ti"], task.producer_task_id
    uid = task.model_unique_id
    verdict = ti.xcom_pull(task_ids=producer, key=get_tests_status_xcom_key(uid))
    names = [test.split(".")[2] for test in task.model_tests]  # test.<package>.<name>[.<hash>]
    if verdict == "pass":
        task.log.info("%s: its %d data tests passed: %s", uid, len(names), ", ".join(names))
        return
    what = "failed" if verdict == "fail" else "did not all run"
    raise AirflowException(
        f"{uid}: data tests {what} (one or more of: {', '.join(names)});"
        f" dbt names each failure in the log of task {producer}"
    )
