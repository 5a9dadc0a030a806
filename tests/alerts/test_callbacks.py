"""Airflow 3 wiring: the task-failure callback and the 06:00 deadline alert."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from motcua.alerts import callbacks, send
from motcua.config import TIMEZONE
from tests.alerts.conftest import RECIPIENTS, SmtpServer
from tests.alerts.samples import ADDRESS, CITIZEN_STRINGS, EMAIL, PHONE

RUN_ID = "scheduled__2026-01-01T18:00:00+00:00"
LOG_URL = "http://airflow.example.vn/dags/motcua_nightly/runs/x/tasks/check_quality?try_number=3"


def _failure_context() -> dict[str, Any]:
    """What Airflow 3 hands to on_failure_callback, reduced to what the callback reads."""
    ti = SimpleNamespace(
        dag_id="motcua_nightly",
        task_id="check_quality",
        run_id=RUN_ID,
        try_number=3,
        map_index=-1,
        log_url=LOG_URL,
    )
    error = ValueError(f"cannot parse phone {PHONE} of {EMAIL}\nĐịa chỉ: {ADDRESS}\nline three")
    return {
        "ti": ti,
        "task_instance": ti,
        "exception": error,
        "logical_date": datetime(2026, 1, 1, 18, 0, tzinfo=UTC),
        "run_id": RUN_ID,
    }


def test_failure_callback_mails_where_to_look(smtp_env: SmtpServer) -> None:
    callbacks.on_task_failure(_failure_context())

    [received] = smtp_env.received
    assert received.rcpt_tos == RECIPIENTS
    assert received.message["Subject"] == (
        "[Một cửa Analytics] Tác vụ thất bại — motcua_nightly.check_quality (lần thử 3)"
    )
    parts = received.parts()
    assert list(parts) == ["text/plain", "text/html"]
    text = parts["text/plain"]
    for fact in ("motcua_nightly", "check_quality", RUN_ID, LOG_URL, "02/01/2026 01:00"):
        assert fact in text
        assert fact.replace("&", "&amp;") in parts["text/html"]
    assert "Lần thử" in text
    assert f"dag_id=motcua_nightly/run_id={RUN_ID}/task_id=check_quality/attempt=3.log" in text
    assert "ValueError: cannot parse phone [số đã ẩn] of [email đã ẩn]" in text
    assert "line three" not in text and "Địa chỉ: " not in text  # first line only
    seen = "\n".join([str(received.message["Subject"]), *parts.values()])
    for secret in CITIZEN_STRINGS:
        assert secret not in seen, secret


def test_failure_callback_without_smtp_writes_the_outbox(clean_alert_env: Path) -> None:
    callbacks.on_task_failure(_failure_context())
    [eml] = clean_alert_env.glob("task-failure_motcua_nightly_check_quality_try3_*.eml")
    assert b"Subject:" in eml.read_bytes()


def test_failure_callback_never_raises(
    clean_alert_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(callbacks, "deliver", _explode)
    with caplog.at_level(logging.ERROR, logger="motcua.alerts.callbacks"):
        callbacks.on_task_failure({"ti": None, "exception": None})
    assert "task-failure alert not delivered" in caplog.text


def _explode(*args: object, **kwargs: object) -> None:
    raise OSError("mail server on fire")


def test_deadline_is_airflows_own_alert_at_0600_local(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    from motcua.orchestration.defaults import NIGHTLY_CRON, START_DATE

    monkeypatch.delenv("MOTCUA_DEADLINE_ALERT", raising=False)
    alert = callbacks.nightly_deadline()
    assert isinstance(alert, DeadlineAlert)
    assert alert.reference == DeadlineReference.DAGRUN_LOGICAL_DATE
    assert alert.interval == timedelta(hours=5)
    assert isinstance(alert.callback, AsyncCallback)
    assert alert.callback.path == "motcua.alerts.callbacks.on_deadline_missed"
    assert alert.callback.kwargs == {"finish_by": "06:00"}

    # the nightly run's logical date is its 01:00 local trigger time: + interval = 06:00 local
    timetable = CronTriggerTimetable(NIGHTLY_CRON, timezone="Asia/Ho_Chi_Minh")
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=START_DATE, latest=None, catchup=True),
    )
    assert info is not None and info.logical_date is not None
    deadline = (info.logical_date + alert.interval).astimezone(TIMEZONE)
    assert (deadline.hour, deadline.minute) == (6, 0)


@pytest.mark.parametrize("value", ["off", "OFF", "false", "0", "no"])
def test_deadline_can_be_switched_off_for_the_local_one_shot_run(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MOTCUA_DEADLINE_ALERT", value)
    assert callbacks.nightly_deadline() is None


def test_deadline_survives_dag_serialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    monkeypatch.setenv("MOTCUA_DEADLINE_ALERT", "on")
    dag = DAG(
        "deadline_probe",
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=TIMEZONE),
        deadline=callbacks.nightly_deadline(),
    )
    [stored] = DagSerialization.to_dict(dag)["dag"]["deadline"]
    assert stored["reference"] == {"reference_type": "DagRunLogicalDateDeadline"}
    assert stored["interval"]["__data__"] == 5 * 3600
    assert stored["callback"]["__data__"] == {
        "path": "motcua.alerts.callbacks.on_deadline_missed",
        "kwargs": {"finish_by": "06:00"},
    }


def test_deadline_callback_mails_the_late_run(smtp_env: SmtpServer) -> None:
    # the simple context Airflow 3 gives deadline callbacks: the DAGRunResponse JSON + deadline
    context = {
        "dag_run": {
            "dag_id": "motcua_nightly",
            "dag_run_id": RUN_ID,
            "logical_date": "2026-01-01T18:00:00Z",
            "start_date": "2026-01-01T18:00:04Z",
            "state": "running",
            "conf": {"note": f"gọi {PHONE}"},
        },
        "deadline": {"id": "0192", "deadline_time": "2026-01-01T23:00:00+00:00"},
    }
    result = asyncio.run(callbacks.on_deadline_missed(context=context, finish_by="06:00"))

    assert result["channel"] == "smtp"
    [received] = smtp_env.received
    assert received.message["Subject"] == (
        "[Một cửa Analytics] Lượt chạy đêm chưa xong lúc 06:00 — motcua_nightly, 02/01/2026"
    )
    text = received.parts()["text/plain"]
    assert RUN_ID in text
    assert "02/01/2026 06:00 (giờ Việt Nam)" in text
    assert "02/01/2026 01:00 (giờ Việt Nam)" in text
    assert "running" in text
    assert "/dags/motcua_nightly/runs/scheduled__2026-01-01T18%3A00%3A00%2B00%3A00" in text
    assert PHONE not in text  # run conf is never copied into an alert


# --- a failed run alerts even when no database answers ------------------------------


def test_the_smtp_lookup_failing_with_the_database_down_still_leaves_the_alert(
    clean_alert_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Mail is configured (DQ_ALERT_TO) but ``smtp_default`` lives in the metadata DB, which is
    down: the lookup raises (not 'not found'), and the message must go to the outbox."""
    monkeypatch.setenv("DQ_ALERT_TO", ", ".join(RECIPIENTS))
    # Airflow's metadata database on a port nobody listens on, as in a PostgreSQL restart
    monkeypatch.setattr(send, "smtp_connection", _lookup_in_a_dead_database)
    with caplog.at_level(logging.ERROR, logger="motcua.alerts.callbacks"):
        callbacks.on_task_failure(_failure_context())

    [eml] = clean_alert_env.glob("task-failure_motcua_nightly_check_quality_try3_*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for fact in ("motcua_nightly", "check_quality", RUN_ID):
        assert fact in text
    for secret in CITIZEN_STRINGS:
        assert secret not in eml.read_text(errors="replace") and secret not in text, secret
    assert "kept in" in caplog.text  # the log says the mail did not go and where it is


def _lookup_in_a_dead_database(conn_id: str) -> object:
    """What Connection.get does when the connection is only in a database that is down."""
    import psycopg

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    psycopg.connect(f"postgresql://airflow@127.0.0.1:{dead_port}/airflow", connect_timeout=5)
    raise AssertionError("nothing listens there")


def _dag_failure_context(run_id: str = RUN_ID) -> dict[str, Any]:
    """What Airflow 3 hands a DAG's on_failure_callback: the failing task's context + reason."""
    ti = SimpleNamespace(
        dag_id="motcua_nightly",
        task_id="transform.int_onestop__rows_checked.run",
        run_id=run_id,
        try_number=1,
        map_index=-1,
    )
    return {
        "dag": SimpleNamespace(dag_id="motcua_nightly"),
        "run_id": run_id,
        "ti": ti,
        "task_instance": ti,
        "reason": "task_failure",
    }


def test_a_failed_run_that_no_task_reported_alerts_once(clean_alert_env: Path) -> None:
    callbacks.on_dag_failure(_dag_failure_context())

    [eml] = clean_alert_env.glob("run-failure_*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "[Một cửa Analytics] Lượt chạy thất bại — motcua_nightly"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for fact in ("motcua_nightly", RUN_ID, "transform.int_onestop__rows_checked.run"):
        assert fact in text
    callbacks.on_dag_failure(_dag_failure_context())  # Airflow calling twice: still one
    assert len(list(clean_alert_env.glob("*.eml"))) == 1


def test_a_run_whose_task_alerted_gets_no_second_message(clean_alert_env: Path) -> None:
    callbacks.on_task_failure(_failure_context())
    callbacks.on_dag_failure(_dag_failure_context())
    assert [p.name.split("_")[0] for p in clean_alert_env.glob("*.eml")] == ["task-failure"]
    # another run of the same DAG is another failure
    callbacks.on_dag_failure(_dag_failure_context("manual__2026-01-02T03:00:00+00:00"))
    assert len(list(clean_alert_env.glob("run-failure_*.eml"))) == 1
