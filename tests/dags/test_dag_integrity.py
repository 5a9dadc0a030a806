"""Every DAG file imports cleanly, follows the house policy, and parses light.

Parsing must not touch a database or the network: the scheduler parses DAG
files every few seconds, and a connection at import time would hammer the
warehouse and make parsing depend on it. Nor may it import what only the
tasks need (dbt, Great Expectations, the loader's driver...): how long a
parse takes is measured by ``make bench-nightly``, not asserted here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from motcua import config

DAGS_DIR = config.repo_root() / "dags"
DAG_FILES = sorted(p.name for p in DAGS_DIR.glob("*.py"))


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"network or database access at DAG import time: {args!r}")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket.socket, "connect_ex", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        bag = DagBag(dag_folder=str(DAGS_DIR))
    return bag


def test_dag_files_exist() -> None:
    assert "motcua_nightly.py" in DAG_FILES


def test_every_dag_file_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    parsed = {Path(s.file).name for s in dagbag.dagbag_stats}
    assert parsed == set(DAG_FILES)


def test_every_dag_follows_the_house_policy(dagbag) -> None:
    assert dagbag.dags, "no DAG found"
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags and "motcua" in dag.tags, dag_id
        assert dag.catchup is False, dag_id
        assert dag.start_date is not None and dag.start_date.utcoffset() is not None, dag_id
        assert dag.doc_md and len(dag.doc_md) > 100, dag_id
        assert dag.on_failure_callback, f"{dag_id}: a failed run must alert"
        for task in dag.tasks:
            if task.task_id.endswith(".dbt_producer_watcher"):
                # one dbt build per group and run: a failed build fails the run
                # (motcua.orchestration.dbt_group); Cosmos would only skip a retry
                assert task.retries == 0, f"{dag_id}.{task.task_id}"
                continue
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            assert task.retry_delay >= timedelta(minutes=1), f"{dag_id}.{task.task_id}"
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} has no failure callback"


def test_nightly_dag_shape(dagbag) -> None:
    dag = dagbag.dags["motcua_nightly"]
    from airflow.serialization.serialized_objects import encode_timetable

    encoded = encode_timetable(dag.timetable)["__var"]
    assert (encoded["expression"], encoded["timezone"]) == ("0 1 * * *", "Asia/Ho_Chi_Minh")
    ids = set(dag.task_ids)
    assert {
        "prepare_access", "resolve_run_date", "load_inbox", "pull_api", "check_pipeline",
        "check_contacts", "alert", "summarise", "secure_marts",
    } <= ids  # fmt: skip
    prepare = {t for t in ids if t.startswith("transform.")}
    publish = {t for t in ids if t.startswith("publish.")}
    assert {"publish.fct_dossier_run", "publish.commune_lateness_run"} <= publish
    assert not any(t.endswith((".fct_dossier_run", ".commune_lateness_run")) for t in prepare)
    # one task per model or seed, reporting its data tests too: no task of tests alone
    from motcua.orchestration.dbt_group import watcher_classes

    folded = set(watcher_classes().values())
    consumers = {t for t in prepare | publish if not t.endswith(("_watcher", "_watcher_done"))}
    assert consumers and all(type(dag.get_task(t)) in folded for t in consumers)
    assert {t.rsplit("_", 1)[-1] for t in consumers} == {"run", "seed"}
    fct = dag.get_task("publish.fct_dossier_run")
    assert fct.base_cmd == ["build"]  # a retry rebuilds the model and runs its tests
    manifest = json.loads(
        (config.dbt_project_dir() / "target" / "manifest.json").read_text(encoding="utf-8")
    )
    assert set(fct.model_tests) == {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test"
        and "model.motcua.fct_dossier" in node["depends_on"]["nodes"]
    }
    for group in ("transform", "publish"):  # the build keeps the data tests, not the unit tests
        flags = dag.get_task(f"{group}.dbt_producer_watcher").dbt_cmd_flags
        types = {flags[i + 1] for i, flag in enumerate(flags) if flag == "--resource-type"}
        assert types == {"model", "seed", "snapshot", "test"}, group
    load = dag.get_task("load_inbox")
    assert {a.uri for a in load.outlets} == {
        "postgres://warehouse:5432/warehouse/raw/onestop_rows",
        "postgres://warehouse:5432/warehouse/raw/survey_rows",
    }
    # one dbt build per group; every model/test task reports it after it ran (never defers)
    for group, tasks in (("transform", prepare), ("publish", publish)):
        producer = f"{group}.dbt_producer_watcher"
        assert {producer, f"{producer}_done"} <= tasks
        for task_id in tasks - {producer}:
            upstream = dag.get_task(task_id).get_flat_relative_ids(upstream=True)
            assert producer in upstream, task_id
        roots = {t for t in tasks if dag.get_task(t).upstream_task_ids == {producer}}
        assert {dag.get_task(t).trigger_rule for t in roots - {f"{producer}_done"}} == {"one_done"}
    # loads -> transform -> blocking checks -> publish -> contact checks -> alert -> summary
    gate = dag.get_task("check_pipeline")
    assert dag.get_task("transform.dbt_producer_watcher").upstream_task_ids >= {
        "load_inbox",
        "pull_api",
    }
    for task_id in prepare:
        upstream = dag.get_task(task_id).get_flat_relative_ids(upstream=True)
        assert {"load_inbox", "pull_api"} <= upstream, task_id
    assert prepare <= gate.get_flat_relative_ids(upstream=True)
    # a failed build (its _done task upstream_failed) closes the gate
    assert "transform.dbt_producer_watcher_done" in gate.upstream_task_ids
    for task_id in publish:
        assert "check_pipeline" in dag.get_task(task_id).get_flat_relative_ids(upstream=True)
    assert publish <= dag.get_task("check_contacts").get_flat_relative_ids(upstream=True)
    assert {"check_pipeline", "check_contacts"} <= dag.get_task("alert").upstream_task_ids
    assert dag.get_task("summarise").upstream_task_ids == {"alert", "resolve_run_date"}
    # the publish step announces the marts, as the manifest lists them
    from motcua.orchestration.defaults import announce_marts

    producer = dag.get_task("publish.dbt_producer_watcher")
    assert {a.name for a in producer.outlets} == {f"marts.{m}" for m in MARTS}
    assert producer._post_execute_hook is announce_marts
    assert [t.task_id for t in dag.tasks if t.outlets and t.task_id.startswith("publish.")] == [
        "publish.dbt_producer_watcher"
    ]
    # one run at a time per warehouse: every task, dbt's included, holds the run lock
    from motcua.orchestration.defaults import hold_run_lock

    assert {t.task_id for t in dag.tasks if t._pre_execute_hook is not hold_run_lock} == set()
    # roles before anything is written; marts re-secured after every publication
    assert {"load_inbox", "pull_api"} <= dag.get_task("prepare_access").downstream_task_ids
    assert publish <= dag.get_task("secure_marts").get_flat_relative_ids(upstream=True)


MARTS = {
    "fct_dossier", "dim_commune", "commune_lateness", "district_lateness", "commune_satisfaction",
    "district_satisfaction", "commune_contact_completeness", "dossiers_due_soon",
    "commune_lateness_current", "province_lateness", "province_lateness_current",
    "province_satisfaction", "commune_index_766", "commune_scorecard_766",
    "commune_processing_time", "commune_backlog_ageing",
}  # fmt: skip


def test_monthly_reports_wait_for_the_published_marts(dagbag) -> None:
    dag = dagbag.dags["motcua_monthly_reports"]
    from airflow.sdk import Asset

    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAll"  # every mart, not any
    assert all(isinstance(a, Asset) for a in condition.objects)
    assert {a.name for a in condition.objects} == {f"marts.{m}" for m in MARTS}


# What parsing our DAG files may import beyond Airflow and Cosmos: nothing the tasks need
HEAVY = ("dbt", "great_expectations", "pandas", "psycopg", "openpyxl", "motcua.quality",
         "motcua.ingest", "motcua.reports", "motcua.warehouse", "motcua.pipeline")  # fmt: skip

_IMPORTED = """
import json, runpy, sys
for path in sys.argv[1:]:
    runpy.run_path(path)
print(json.dumps(sorted(sys.modules)))
"""


def test_parsing_imports_nothing_the_tasks_need() -> None:
    """A fresh interpreter parses both DAG files; none of the tasks' heavy modules is loaded."""
    files = [str(DAGS_DIR / name) for name in DAG_FILES]
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTED, *files], capture_output=True, text=True, check=True
    ).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    assert "cosmos" in modules  # the check sees what the DAG files import
    heavy = sorted(m for m in modules if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY)))
    assert heavy == []


def test_each_model_task_covers_the_tests_its_groups_build_runs(dagbag) -> None:
    """The transform build (``--exclude`` the marts) leaves out a test touching a mart.

    Such a test (a staging model's relationships to a mart, a vocabulary
    check on a mart's column) runs in the publish build, and is reported by
    the mart's task there: each producer waits for the same lists its model
    tasks report, and every test a group runs is reported by a model task.
    """
    dag = dagbag.dags["motcua_nightly"]
    manifest = json.loads(
        (config.dbt_project_dir() / "target" / "manifest.json").read_text(encoding="utf-8")
    )
    tests = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"}
    marts = {uid for uid, n in manifest["nodes"].items() if n["path"].startswith("marts/")}
    for group in ("transform", "publish"):
        producer = dag.get_task(f"{group}.dbt_producer_watcher")
        reported = {
            t: dag.get_task(t).model_tests
            for t in dag.task_ids
            if t.startswith(f"{group}.") and hasattr(dag.get_task(t), "model_tests")
        }
        assert {dag.get_task(t).model_unique_id: list(v) for t, v in reported.items() if v} == {
            k: v for k, v in producer.tests_per_model.items() if not k.startswith("source.")
        }
        covered = {test for v in reported.values() for test in v}
        # (a source's tests, no task of their own, fail the build and so the group)
        with_model = {
            uid
            for uid, n in tests.items()
            if any(p.startswith(("model.", "seed.")) for p in n["depends_on"]["nodes"])
        }
        runs_here = {
            uid
            for uid in with_model
            if (group == "publish") == bool(marts & set(tests[uid]["depends_on"]["nodes"]))
        }
        assert covered == runs_here, group


class _PokedTi:
    """A consumer's view of its run on its first try: the producer's XComs, by key."""

    def __init__(self, xcom: dict[str, Any]) -> None:
        self.xcom = xcom
        self.try_number = 1
        self.pulled: list[str] = []

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        self.pulled.append(key)
        return self.xcom.get(key)


def _poke(task: Any, xcom: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[bool, Any]:
    """Poke ``task`` once: (its answer, its reads; the producer's task state counts as one)."""
    ti = _PokedTi(xcom)
    base = type(task).__mro__[2]  # Cosmos' own class, under the mixin and the folded class

    def producer_state(self: Any, context: Any) -> str:
        ti.pulled.append("<producer task state>")
        return "success"

    monkeypatch.setattr(base, "_get_producer_task_status", producer_state)
    done = task.poke({"ti": ti, "run_id": "manual__1"})
    return done, ti


def test_a_model_task_reads_its_outcome_in_few_api_calls(dagbag, monkeypatch) -> None:
    """Each read is a round trip to Airflow's API: a model's task makes three on its first try.

    Its status, dbt's event for the log and its tests' verdict. The producer's
    task state is read only when the status is missing; the compiled SQL is
    read when the task's fields are rendered, from the producer's XCom.
    """
    from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
    from cosmos.operators._watcher.state import (
        get_compiled_sql_xcom_key,
        get_dbt_event_xcom_key,
        get_status_xcom_key,
    )

    task = dagbag.dags["motcua_nightly"].get_task("transform.int_onestop__rows_checked_run")
    uid = task.model_unique_id
    assert task.model_tests
    assert task.compiled_sql == (
        "{{ ti.xcom_pull(task_ids='transform.dbt_producer_watcher',"
        f" key='{get_compiled_sql_xcom_key(uid)}') or '' }}}}"
    )
    status, tests = get_status_xcom_key(uid), get_tests_status_xcom_key(uid)
    succeeded = {"status": "success", "outlet_uris": []}

    done, ti = _poke(task, {status: succeeded, tests: "pass"}, monkeypatch)
    assert done is True
    assert ti.pulled == [status, get_dbt_event_xcom_key(uid), tests]

    # no status yet: Cosmos reads the producer's state, and waits as it runs
    done, ti = _poke(task, {}, monkeypatch)
    assert done is False
    assert ti.pulled == [status, "<producer task state>", status]

    from airflow.sdk.exceptions import AirflowException

    ti = _PokedTi({status: {"status": "error", "outlet_uris": []}})
    with pytest.raises(AirflowException, match="finished with status 'error'"):
        task.poke({"ti": ti, "run_id": "manual__1"})
