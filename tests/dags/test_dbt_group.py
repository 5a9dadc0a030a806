"""A model's task reports its data tests: what the producer recorded decides its outcome.

The producer of a dbt group writes, once all of a model's tests finished,
their verdict (Cosmos' XCom key); the model's task
(``motcua.orchestration.dbt_group.check_model_tests``) reads it after its
model succeeded. Which tests a model's task covers is checked against the
manifest in ``test_dag_integrity``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

PRODUCER = "transform.dbt_producer_watcher"
MODEL = "model.motcua.stg_onestop__dossiers"
TESTS = (
    "test.motcua.not_null_stg_onestop__dossiers_dossier_code.1",
    "test.motcua.unique_stg_onestop__dossiers_dossier_code.2",
    "test.motcua.relationships_stg_onestop__dossiers_unit_code.3",
)


class FakeTi:
    """What the task reads: the producer's XCom, by key."""

    def __init__(self, xcom: dict[str, Any]) -> None:
        self.xcom = xcom
        self.pulled: list[str] = []

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        assert task_ids == PRODUCER
        self.pulled.append(key)
        return self.xcom.get(key)


class FakeTask:
    model_unique_id = MODEL
    model_tests = TESTS
    producer_task_id = PRODUCER
    log = logging.getLogger("test_dbt_group")


AGGREGATE = f"{MODEL.replace('.', '__')}_tests_status"


def _check(xcom: dict[str, Any], tests: tuple[str, ...] = TESTS) -> FakeTi:
    from motcua.orchestration.dbt_group import check_model_tests

    task = FakeTask()
    task.model_tests = tests
    ti = FakeTi(xcom)
    check_model_tests(task, {"ti": ti})
    return ti


def test_all_tests_passed_is_one_read() -> None:
    ti = _check({AGGREGATE: "pass"})
    assert ti.pulled == [AGGREGATE]


def test_a_failed_test_fails_the_model_task() -> None:
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException) as failed:
        _check({AGGREGATE: "fail"})
    message = str(failed.value)
    assert message.startswith(f"{MODEL}: data tests failed (one or more of: not_null_stg_")
    assert "unique_stg_onestop__dossiers_dossier_code" in message
    assert PRODUCER in message


def test_tests_that_never_all_reported_fail_the_model_task() -> None:
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match="data tests did not all run"):
        _check({})


def test_a_model_without_tests_reads_nothing() -> None:
    ti = _check({}, tests=())
    assert ti.pulled == []
