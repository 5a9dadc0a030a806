"""One run at a time per warehouse: a PostgreSQL advisory lock in the warehouse database.

Two runs at once on one warehouse (a second ``make run``, or a ``make run``
during the scheduled night) load the same inbox twice over, rebuild the same
tables under each other and write Airflow's metadata for the same DAG at the
same time. The lock lives in the warehouse itself, so every process that can
write to it can see it, whichever machine it runs on; an advisory lock is
released by the server when its session ends, so a killed run never leaves
one behind. Advisory locks are per database: two warehouses on one server
do not exclude each other.

Which session holds it:

* ``make run`` (:mod:`motcua.runner`) takes it **exclusively** on a session of
  its own, before it touches anything, and keeps it until the summary is
  printed. The tasks of its ``airflow dags test`` are told that session's
  server pid (``MOTCUA_RUN_LOCK_PID``) and recognise the lock as their run's.
* A DAG run on a deployed scheduler has no process that lives as long as the
  run: each of its tasks holds the lock **shared** for the life of its process
  (:func:`acquire_for_task`, from the DAG's ``pre_execute``), under an
  ``application_name`` naming the DAG run. Tasks of the same run (in parallel
  on several workers) share it; a ``make run`` cannot start while one of them
  works, and a task that finds another run holding it fails (and retries).
  Between two tasks of a deployed run nothing is held: a ``make run`` started
  in that gap wins, and the deployed run's next task waits for it through its
  retries (the scheduler's ``max_active_runs=1`` already keeps two scheduled
  runs apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import psycopg

from motcua import config
from motcua.config import TIMEZONE

# One bigint key ("motcuaRN" in ASCII). The roles migration, the loader and
# the API connector use their own hashtext(...) keys for shorter sections.
RUN_LOCK_KEY = int.from_bytes(b"motcuaRN", "big")
HOLDER_ENV = config.RUN_LOCK_HOLDER_ENV  # the server pid of the session holding it for this run
NAME_PREFIX = "motcua "
MAX_NAME = 63  # PostgreSQL truncates application_name to NAMEDATALEN - 1

HOLDERS_SQL = """
select l.pid, l.mode = 'ExclusiveLock' as exclusive, a.application_name, a.backend_start
from pg_locks as l
left join pg_stat_activity as a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted and l.objsubid = 1
  and l.database = (select oid from pg_database where datname = current_database())
  and l.classid = %(hi)s::oid and l.objid = %(lo)s::oid
order by a.backend_start nulls last, l.pid
"""


@dataclass(frozen=True)
class Holder:
    """A session holding the run lock, as ``pg_locks`` and ``pg_stat_activity`` show it."""

    pid: int
    exclusive: bool
    name: str | None  # its application_name: who runs it (another role's may be hidden)
    since: datetime | None  # when that session started: the run's (or task's) start

    def describe(self) -> str:
        who = (self.name or "").removeprefix(NAME_PREFIX).strip() or "an unnamed session"
        when = (
            self.since.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S %z")
            if self.since
            else "an unknown time"
        )
        return f"since {when} ({who}, session {self.pid})"


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse; the message says who and since when."""

    def __init__(self, holders: list[Holder]) -> None:
        self.holders = holders
        super().__init__(self._message())

    def _message(self) -> str:
        if not self.holders:
            return "another run is already running (it finished meanwhile: run again)"
        first, *more = self.holders
        also = f" and {len(more)} more session(s) of it" if more else ""
        return (
            f"another run is already running {first.describe()}{also}; "
            "wait for it to finish (or stop it) and run again"
        )


def holders(conn: psycopg.Connection) -> list[Holder]:
    """Every session holding the run lock of ``conn``'s database."""
    rows = conn.execute(
        HOLDERS_SQL, {"hi": RUN_LOCK_KEY >> 32, "lo": RUN_LOCK_KEY & 0xFFFFFFFF}
    ).fetchall()
    return [Holder(int(pid), bool(excl), name, since) for pid, excl, name, since in rows]


def _connect(url: str, name: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, application_name=name[:MAX_NAME])


class RunLock:
    """The exclusive run lock, held by an open session until :meth:`release`."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.backend_pid = conn.info.backend_pid

    def release(self) -> None:
        """End the session: the server drops the lock with it."""
        self.conn.close()

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def acquire(url: str, name: str) -> RunLock:
    """Take the run lock exclusively for a whole run, or raise :class:`WarehouseBusy`.

    ``name`` (``motcua make-run pid=… host=…``) becomes the session's
    ``application_name``: it is what a refused second run reports.
    """
    conn = _connect(url, name)
    try:
        row = conn.execute("select pg_try_advisory_lock(%s)", [RUN_LOCK_KEY]).fetchone()
        if row is not None and row[0]:
            return RunLock(conn)
        found = holders(conn)
    except BaseException:
        conn.close()
        raise
    conn.close()
    raise WarehouseBusy(found)


def acquire_for_task(url: str, name: str) -> psycopg.Connection | None:
    """Hold the run lock shared for one task of the DAG run ``name``; the session is returned.

    None when the lock is this run's already: held exclusively by the
    ``make run`` session whose pid is in ``MOTCUA_RUN_LOCK_PID``. Raises
    :class:`WarehouseBusy` when another run holds it (a ``make run``, or tasks
    of another DAG run, told apart by their ``application_name``).
    """
    conn = _connect(url, name)
    try:
        row = conn.execute("select pg_try_advisory_lock_shared(%s)", [RUN_LOCK_KEY]).fetchone()
        got = row is not None and bool(row[0])
        found = holders(conn)
        own = conn.info.backend_pid
        if got:
            others = [h for h in found if h.pid != own and h.name != name[:MAX_NAME]]
            if not others:
                return conn
            found = others
    except BaseException:
        conn.close()
        raise
    conn.close()
    runner = config.run_lock_holder_pid()
    if not got and runner is not None and any(h.pid == runner for h in found):
        return None
    raise WarehouseBusy(found)


def runner_holds(conn: psycopg.Connection) -> bool:
    """Whether the ``make run`` session (``MOTCUA_RUN_LOCK_PID``) still holds it, from ``conn``.

    The tasks of one ``airflow dags test`` (one process) ask this on the
    session that first found the runner holding the lock (one query per task,
    no new connection): False when the runner's session is gone (the server
    restarted, the run was stopped) or ``conn`` broke, and the task then
    checks afresh with :func:`acquire_for_task`.
    """
    runner = config.run_lock_holder_pid()
    if runner is None:
        return False
    try:
        found = holders(conn)
    except psycopg.Error:
        return False
    return any(h.pid == runner and h.exclusive for h in found)


def probe(url: str, name: str) -> psycopg.Connection:
    """A session of its own for :func:`runner_holds` (it holds nothing)."""
    return _connect(url, name)
