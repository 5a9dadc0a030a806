"""``make run``'s ``airflow dags test`` (``motcua.orchestration.dags_test``).

The in-process execution API reduced to the version the tasks' client
speaks serves that version exactly as Airflow's full API does (same OpenAPI
document: every route, parameter and model); the exit keeps ``sys.exit``'s
status, message and exit handlers; a failure is named as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from motcua import runner
from motcua.orchestration import dags_test

# In a fresh interpreter: the reduction replaces a module attribute of Airflow's
_OPENAPI = """
import json, sys
from airflow.__main__ import main  # Airflow's configuration first, as the module does
from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI
from airflow.sdk.api.datamodels._generated import API_VERSION
from motcua.orchestration.dags_test import serve_newest_version_only

def document():
    api = InProcessExecutionAPI()
    import httpx
    client = httpx.Client(transport=api.transport, base_url="http://in-process.invalid./")
    health = client.get("/health", headers={"Airflow-API-Version": API_VERSION})
    assert health.status_code == 200, health.text
    doc = client.get("/openapi.json", params={"version": API_VERSION})
    assert doc.status_code == 200, doc.text
    return sorted(api.app.router.versioned_routers), doc.json()

full_versions, full = document()
done = serve_newest_version_only()
reduced_versions, reduced = document()
print(json.dumps({"api_version": API_VERSION, "done": done, "full_versions": full_versions,
                  "reduced_versions": reduced_versions, "same": full == reduced,
                  "paths": len(reduced["paths"])}))
"""


def test_reduced_api_serves_the_clients_version_as_the_full_one(tmp_path: Path) -> None:
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": str(runner.VENV_BIN)}
    done = subprocess.run(
        [sys.executable, "-c", _OPENAPI], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["done"] is True
    assert out["full_versions"][-1] == out["api_version"]
    assert len(out["full_versions"]) == 9  # Airflow 3.3.2's nine dated versions
    assert out["reduced_versions"] == [dags_test.RESTORED_VERSION, out["api_version"]]
    assert out["same"] is True
    assert out["paths"] > 0


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [(None, 0, ""), (3, 3, ""), ("DagRun failed", 1, "DagRun failed\n")],
)
def test_exit_now_is_sys_exit_without_the_teardown(code: object, status: int, stderr: str) -> None:
    script = (
        "import atexit, threading\n"
        "from motcua.orchestration.dags_test import exit_now\n"
        "atexit.register(lambda: print(' exit handler', end=''))\n"
        "print('out', end='', flush=True)\n"
        "threading.Thread(target=lambda: print(' thread', end='')).start()\n"
        f"exit_now({code!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        status,
        "out thread exit handler",
        stderr,
    )


def test_a_failed_dag_run_is_named_as_airflows_command() -> None:
    cmd = [sys.executable, "-m", runner.DAGS_TEST_MODULE, "dags", "test", "motcua_nightly"]
    with pytest.raises(runner.StepFailed) as failed:
        runner._check([*cmd, "--conf", "{}"], 1, None)
    assert failed.value.step == "airflow dags test motcua_nightly"
