"""One run at a time per warehouse: the advisory lock of ``motcua.warehouse.run_lock``.

Two real sessions (or processes) per test, on a fresh database each; the
last test starts a second, real ``python -m motcua run`` while a run holds
the warehouse and reads what it says.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from motcua.config import TIMEZONE, parse_pg_url
from motcua.warehouse import run_lock
from tests.conftest import create_database, drop_database

RUNNER = "motcua make-run pid=4242 host=ubnd-ninhhoa"
NIGHT = "motcua motcua_nightly scheduled__2026-03-01T18:00:00+00:00"
OTHER_NIGHT = "motcua motcua_nightly manual__2026-03-02T09:15:00+00:00"


def test_a_second_run_is_refused_while_the_first_holds_the_warehouse(db_url: str) -> None:
    first = run_lock.acquire(db_url, RUNNER)
    try:
        with pytest.raises(run_lock.WarehouseBusy) as busy:
            run_lock.acquire(db_url, "motcua make-run pid=5151 host=ubnd-ninhhoa")
        message = str(busy.value)
        assert "already running since " in message
        assert "make-run pid=4242 host=ubnd-ninhhoa" in message
        assert f"session {first.backend_pid}" in message
        [holder] = busy.value.holders
        assert (holder.pid, holder.name, holder.exclusive) == (first.backend_pid, RUNNER, True)
        assert holder.since is not None
        assert holder.since.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S") in message
    finally:
        first.release()
    again = run_lock.acquire(db_url, RUNNER)  # released: the next run goes
    again.release()


def test_the_lock_is_per_warehouse(db_url: str, admin_url: str) -> None:
    other = create_database(admin_url)
    try:
        with run_lock.acquire(db_url, RUNNER), run_lock.acquire(other, RUNNER):
            pass  # two warehouses on one server: two runs at once are fine
    finally:
        drop_database(admin_url, other)


def test_a_killed_run_leaves_no_lock_behind(db_url: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from motcua.warehouse import run_lock;"
            " lock = run_lock.acquire(sys.argv[1], 'motcua make-run pid=killed');"
            " print('held', flush=True);"
            " time.sleep(600)",
            db_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(run_lock.WarehouseBusy, match="make-run pid=killed"):
            run_lock.acquire(db_url, RUNNER)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the server ends the dead client's session when it sees the socket closed
    lock = _acquire_when_free(db_url)
    lock.release()


def _acquire_when_free(url: str) -> run_lock.RunLock:
    for _ in range(300):
        try:
            return run_lock.acquire(url, RUNNER)
        except run_lock.WarehouseBusy:
            time.sleep(0.1)
    raise AssertionError("the killed holder's lock was never released")


def test_tasks_of_one_dag_run_share_it_and_exclude_everything_else(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(run_lock.HOLDER_ENV, raising=False)
    load = run_lock.acquire_for_task(db_url, NIGHT)
    pull = run_lock.acquire_for_task(db_url, NIGHT)  # parallel task, same run: shares
    assert load is not None and pull is not None
    with pytest.raises(run_lock.WarehouseBusy) as busy:
        run_lock.acquire(db_url, RUNNER)  # make run while a scheduled run works
    assert "motcua_nightly scheduled__2026-03-01T18:00:00+00:00" in str(busy.value)
    with pytest.raises(run_lock.WarehouseBusy, match="scheduled__2026-03-01"):
        run_lock.acquire_for_task(db_url, OTHER_NIGHT)  # a task of another DAG run
    load.close()
    pull.close()

    runner = run_lock.acquire(db_url, RUNNER)
    try:
        with pytest.raises(run_lock.WarehouseBusy, match="make-run pid=4242"):
            run_lock.acquire_for_task(db_url, NIGHT)  # a scheduled task during a make run
        # the tasks of the make run itself: the runner told them its session
        monkeypatch.setenv(run_lock.HOLDER_ENV, str(runner.backend_pid))
        assert run_lock.acquire_for_task(db_url, OTHER_NIGHT) is None
    finally:
        runner.release()


def test_a_second_real_make_run_is_refused_with_the_message(
    db_url: str, admin_url: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "onestop").mkdir(parents=True)
    local = tmp_path / "local"
    env = {
        **os.environ,
        "WAREHOUSE_URL": db_url,
        "INBOX_DIR": str(inbox),
        "RUN_DATE": "2017-07-14",
        "MOTCUA_LOCAL_DIR": str(local),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    airflow_db = f"{parse_pg_url(db_url).dbname}_airflow"
    with run_lock.acquire(db_url, RUNNER) as first:
        code, out, err = _run_in_own_group([sys.executable, "-m", "motcua", "run"], env)
    assert code == 1, out + err
    message = err.strip().splitlines()[-1]
    assert message.startswith("motcua run: the warehouse ")
    assert "is already running since " in message
    assert f"make-run pid=4242 host=ubnd-ninhhoa, session {first.backend_pid}" in message
    password = parse_pg_url(db_url).password
    assert not password or password not in out + err
    # it stopped before touching anything: no Airflow database, no logs, no Airflow home
    assert not local.exists() or not any(local.rglob("*"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", [airflow_db])
        assert found.fetchone() is None


def _run_in_own_group(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``cmd``; if it does not stop by itself (a run that went ahead), end its whole group."""
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"the second run did not stop: it ran\n{out}{err}") from None
    return proc.returncode, out, err


def test_the_tasks_of_a_make_run_recheck_the_runner_on_one_session(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = run_lock.acquire(db_url, RUNNER)
    probe = run_lock.probe(db_url, NIGHT)
    try:
        monkeypatch.delenv(run_lock.HOLDER_ENV, raising=False)
        assert run_lock.runner_holds(probe) is False  # no runner named: check afresh
        monkeypatch.setenv(run_lock.HOLDER_ENV, str(probe.info.backend_pid))
        assert run_lock.runner_holds(probe) is False  # that session holds nothing
        monkeypatch.setenv(run_lock.HOLDER_ENV, str(runner.backend_pid))
        assert run_lock.runner_holds(probe) is True
        assert run_lock.holders(probe)[0].pid == runner.backend_pid  # the probe holds nothing
        assert len(run_lock.holders(probe)) == 1
    finally:
        runner.release()
    assert run_lock.runner_holds(probe) is False  # the runner's session ended
    probe.close()
    assert run_lock.runner_holds(probe) is False  # a broken probe: check afresh
