"""The nightly benchmark's reading of an ``airflow dags test`` log."""

from __future__ import annotations

from pathlib import Path

from motcua_dev.bench_nightly import dag_timeline

LOG = """\
2026-12-07T09:15:40.000000Z [info] DAG bundles loaded: dags-folder [x] loc=manager.py:304
2026-12-07T09:15:50.000000Z [info] [DAG TEST] starting task_id=prepare_access map_index=-1 [a]
2026-12-07T09:15:52.500000Z [info] [DAG TEST] end task task_id=prepare_access map_index=-1 [a]
2026-12-07T09:15:53.000000Z [info] [DAG TEST] starting task_id=transform.dbt_producer_watcher \
map_index=-1 [a]
a continuation line of dbt's output, without a time stamp
2026-12-07T09:16:23.000000Z [info] [DAG TEST] end task task_id=transform.dbt_producer_watcher \
map_index=-1 [a]
2026-12-07T09:16:23.000000Z [info] [DAG TEST] starting task_id=transform.stg_a.run map_index=-1
2026-12-07T09:16:23.250000Z [info] [DAG TEST] end task task_id=transform.stg_a.run map_index=-1
2026-12-07T09:16:24.000000Z [info] [DAG TEST] starting task_id=transform.stg_a.test map_index=-1
2026-12-07T09:16:24.500000Z [info] [DAG TEST] end task task_id=transform.stg_a.test map_index=-1
"""


def test_the_dag_log_splits_into_start_up_producers_model_tasks_and_the_rest(
    tmp_path: Path,
) -> None:
    log = tmp_path / "nightly_dag.log"
    log.write_text(LOG, encoding="utf-8")
    assert dag_timeline(log) == {
        "before first task": 10.0,
        "dbt producers": 30.0,
        "model tasks": 0.75,
        "python tasks": 2.5,
        "between tasks": 34.5 - 33.25,
        "tasks": 4.0,
    }
