"""A run that fails because PostgreSQL went away still alerts, through the outbox.

Real processes, no stand-ins: a PostgreSQL server of the module's own (the
embedded one, under a temp root) holds both the warehouse and Airflow's
metadata, and ``airflow dags test`` runs one-task DAGs built with the
project's nightly defaults, as ``make run`` does (inside the runner's
failure guard). Each task stops that server in the middle of its work, as a
restart during the build does:

* the task then fails: its failure callback runs with no database to look
  the SMTP connection up in, nor to record the task's state in — the alert
  must land in the outbox, and the runner must not send a second one;
* the task ends without error: Airflow cannot record it and ``airflow dags
  test`` crashes without calling any callback (what a restart did to
  ``make run``: a failed run, no alert) — the runner alerts.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from motcua import runner
from motcua.config import apply_telemetry_off, parse_pg_url
from motcua.warehouse.embedded import EmbeddedServer, ensure_server, stop_server
from tests.alerts.conftest import ALERT_ENV, RECIPIENTS
from tests.alerts.samples import CITIZEN_STRINGS, EMAIL, PHONE

pytestmark = pytest.mark.slow

FAILS = "motcua_outage_task_fails"
ENDS = "motcua_outage_task_ends"
TASK_ID = "build_while_postgres_restarts"

PROBE_DAGS = f'''
"""Tasks that lose their PostgreSQL server mid-build (tests/alerts/test_failure_without_db.py)."""

from airflow.sdk import dag, task

from motcua.orchestration.defaults import NIGHTLY_ARGS, START_DATE, notify_run_failure


def probe(dag_id, fail):
    @dag(
        dag_id=dag_id,
        schedule=None,
        start_date=START_DATE,
        default_args=NIGHTLY_ARGS,
        on_failure_callback=notify_run_failure,
    )
    def outage():
        @task
        def {TASK_ID}():
            import os
            from pathlib import Path

            import psycopg

            from motcua.warehouse.embedded import stop_server

            # the warehouse and Airflow's metadata database go down together
            stop_server(Path(os.environ["PROBE_PG_ROOT"]))
            if not fail:
                return
            try:
                psycopg.connect(os.environ["WAREHOUSE_URL"], connect_timeout=5).close()
            except psycopg.OperationalError as exc:
                first = str(exc).splitlines()[0]
                raise RuntimeError(
                    "lost the warehouse while loading the dossier of {PHONE} <{EMAIL}>: " + first
                ) from exc

        {TASK_ID}()

    return outage()


probe("{FAILS}", fail=True)
probe("{ENDS}", fail=False)
'''


@dataclass
class Outage:
    root: Path
    base: Path
    server: EmbeddedServer
    env: dict[str, str]

    def dags_test(self, dag_id: str) -> tuple[runner.StepFailed | None, Path]:
        """``airflow dags test dag_id`` as ``make run`` runs a DAG, inside its failure guard."""
        ensure_server(self.root)  # up again (same port and secret) for the next run
        log = self.base / f"{dag_id}.log"
        cmd = [str(Path(sys.executable).parent / "airflow"), "dags", "test", dag_id]
        try:
            with runner.alert_on_failure(self.env, dag_id=dag_id):
                runner._run(cmd, self.env, log)
        except runner.StepFailed as failed:
            return failed, log
        return None, log

    def emls(self, dag_id: str) -> list[Path]:
        outbox = self.base / "outbox"
        return sorted(outbox.glob(f"*_{dag_id}_*.eml")) if outbox.exists() else []


def _env(base: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ALERT_ENV}
    apply_telemetry_off(env)
    env.update(
        {
            "AIRFLOW_HOME": str(base / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "DQ_ALERT_OUTBOX": str(base / "outbox"),
            # mail is configured, but smtp_default is not in the environment: the
            # callback has to ask Airflow's metadata database for it
            "DQ_ALERT_TO": ", ".join(RECIPIENTS),
            "MOTCUA_RETRIES": "0",
            # Airflow retries its calls to a dead database with backoff; one try is enough here
            "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "1",
            **extra,
        }
    )
    return env


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A server of this module's own (the tests stop it), Airflow's metadata migrated on it."""
    root = Path(tempfile.mkdtemp(prefix="motcua-outage-"))
    root.chmod(0o711)  # the service user (when run as root) must reach its data directory
    base = tmp_path_factory.mktemp("outage")
    try:
        server = ensure_server(root)
        dags = base / "dags"
        dags.mkdir()
        (dags / "outage_probes.py").write_text(PROBE_DAGS, encoding="utf-8")
        airflow_db = parse_pg_url(server.url("airflow")).url(driver="postgresql+psycopg2")
        env = _env(
            base,
            {
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db,
                "AIRFLOW_CONN_MOTCUA_WAREHOUSE": server.url("warehouse"),
                "WAREHOUSE_URL": server.url("warehouse"),
                "PROBE_PG_ROOT": str(root),
            },
        )
        airflow = str(Path(sys.executable).parent / "airflow")
        runner._run([airflow, "db", "migrate"], env, base / "migrate.log")
        yield Outage(root, base, server, env)
    finally:
        stop_server(root)
        shutil.rmtree(root, ignore_errors=True)


def _read(eml: Path) -> tuple[EmailMessage, str]:
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return message, text


def _facts(text: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _no_secrets(outage: Outage, *texts: str) -> None:
    seen = "\n".join(texts)
    for secret in (*CITIZEN_STRINGS, outage.server.password):
        assert secret not in seen, secret


def test_a_task_failing_with_postgres_down_alerts_through_the_outbox(outage: Outage) -> None:
    failed, log = outage.dags_test(FAILS)
    output = log.read_text(encoding="utf-8", errors="replace")

    assert failed is not None, output  # the run could not even be recorded: Airflow gave up
    [eml] = outage.emls(FAILS)  # the task's own alert; the runner saw it and sent no other
    assert eml.name.startswith(f"task-failure_{FAILS}_{TASK_ID}_try1_")
    message, text = _read(eml)
    assert (
        message["Subject"] == f"[Một cửa Analytics] Tác vụ thất bại — {FAILS}.{TASK_ID} (lần thử 1)"
    )
    assert [a.strip() for a in message["To"].split(",")] == RECIPIENTS
    facts = _facts(text)
    assert (facts["DAG"], facts["Tác vụ"]) == (FAILS, TASK_ID)
    assert facts["Lượt chạy (run_id)"].startswith("manual__")
    assert facts["Lượt chạy (run_id)"] in output  # the run Airflow logged
    assert facts["Lỗi (dòng đầu, đã che dữ liệu cá nhân)"].startswith(
        "RuntimeError: lost the warehouse while loading the dossier of [số đã ẩn] <[email đã ẩn]>"
    )
    _no_secrets(outage, eml.read_bytes().decode("ascii", errors="replace"), text)


def test_airflow_crashing_with_postgres_down_alerts_from_the_runner(outage: Outage) -> None:
    failed, log = outage.dags_test(ENDS)
    output = log.read_text(encoding="utf-8", errors="replace")

    assert failed is not None and failed.step == f"airflow dags test {ENDS}", output
    assert "Traceback" in output and "OperationalError" in output  # Airflow's own writes failed
    [eml] = outage.emls(ENDS)  # no callback ran inside Airflow: this one is the runner's
    assert eml.name.startswith(f"run-failure_{ENDS}_")
    message, text = _read(eml)
    assert message["Subject"] == f"[Một cửa Analytics] Lượt chạy thất bại — {ENDS}"
    facts = _facts(text)
    assert facts["DAG"] == ENDS
    assert facts["Lượt chạy (run_id)"].startswith("make-run pid=")
    assert facts["Bước / tác vụ thất bại"] == f"airflow dags test {ENDS}"
    assert facts["Tệp log"] == str(log)
    _no_secrets(outage, eml.read_bytes().decode("ascii", errors="replace"), text, output)
