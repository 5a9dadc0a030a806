"""One home for settings: only ``motcua.config`` reads the environment contract.

Every other module of ``src/`` and ``dags/`` asks ``motcua.config``; the
check walks their syntax trees for a read of the environment (``os.environ``
looked up, ``os.getenv``) and for a contract variable's name looked up in any
mapping (``env.get("MOTCUA_RETRIES")`` on a copy of the environment is a read
too). Copying the whole environment for a subprocess, and setting variables
(or defaults, ``setdefault``) for one, are not reads.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from motcua import config, runner
from motcua.alerts.send import AlertSettings

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "src" / "motcua" / "config.py"
CONTRACT = re.compile(
    r"WAREHOUSE_URL|INBOX_DIR|RUN_DATE|REPORTS_DIR|BI_WAREHOUSE_URL|SUPERSET_PORT"
    r"|DQ_ALERT_\w+|MOTCUA_\w+|AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
)


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` (or a bare ``environ`` imported from os)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name)
    return isinstance(node, ast.Name) and node.id == "environ"


def _is_contract_name(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CONTRACT.fullmatch(node.value) is not None
    )


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for each read of the environment or of a contract variable in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, method = node.func.value, node.func.attr
            key = node.args[0] if node.args else None
            if _is_environ(owner) and method in {"get", "pop", "items", "keys", "values"}:
                if method != "get" or key is None or _is_contract_name(key):
                    found.append((node.lineno, f"os.environ.{method}"))
                elif not isinstance(key, ast.Constant):
                    found.append((node.lineno, "os.environ.get(<a computed name>)"))
            elif method == "getenv":
                found.append((node.lineno, "os.getenv"))
            elif method in {"get", "pop"} and _is_contract_name(key):
                found.append((node.lineno, f".{method}({key.value!r})"))  # type: ignore[union-attr]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if _is_environ(node.value) or _is_contract_name(node.slice):
                found.append((node.lineno, "a lookup of the environment"))
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
            and (_is_contract_name(node.left) or any(_is_environ(c) for c in node.comparators))
        ):
            found.append((node.lineno, "a membership test on the environment"))
    return found


def _modules() -> list[Path]:
    return sorted(
        path
        for folder in (ROOT / "src", ROOT / "dags")
        for path in folder.rglob("*.py")
        if path != HOME
    )


def test_no_module_but_config_reads_the_environment() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _modules()
        for line, what in environment_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_check_sees_every_kind_of_read() -> None:
    """The check above can fail: each of these reads is reported, the writes are not."""
    source = """
import os
a = os.environ.get("WAREHOUSE_URL")
b = os.environ["INBOX_DIR"]
c = os.getenv("X")
env = dict(os.environ)
d = env.get("MOTCUA_RETRIES", "0")
e = "RUN_DATE" in env
f = os.environ.get(name)
g = env["DQ_ALERT_TO"]
env["MOTCUA_RETRIES"] = "0"
h = {**os.environ, "REPORTS_DIR": "/x"}
i = os.environ.get("CI")
"""
    assert sorted(line for line, _ in environment_reads(source)) == [3, 4, 5, 7, 8, 9, 10]
    assert environment_reads(HOME.read_text(encoding="utf-8"))  # where the reads are


def test_config_reads_the_contract_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", "postgres://u:pw@db.example/wh")
    monkeypatch.setenv("INBOX_DIR", "/srv/inbox")
    monkeypatch.setenv("RUN_DATE", " 2017-07-14 ")
    monkeypatch.setenv("MOTCUA_RETRIES", "4")
    monkeypatch.setenv("MOTCUA_DEADLINE_ALERT", "Off")
    monkeypatch.setenv("DQ_ALERT_TO", "a@x.vn; b@x.vn")
    assert config.warehouse_url_setting() == "postgresql://u:pw@db.example:5432/wh"
    assert config.inbox_dir() == Path("/srv/inbox")
    assert config.run_date_setting() == date(2017, 7, 14)
    assert config.task_retries() == 4
    assert config.deadline_alert_enabled() is False
    assert AlertSettings.from_env().to == ("a@x.vn", "b@x.vn")
    monkeypatch.setenv("MOTCUA_RETRIES", "two")
    with pytest.raises(ValueError, match="MOTCUA_RETRIES must be a int, got 'two'"):
        config.task_retries()
    monkeypatch.setenv("RUN_DATE", "14/07/2017")
    with pytest.raises(ValueError, match="RUN_DATE must be YYYY-MM-DD"):
        config.run_date_setting()


def test_unset_means_the_launcher_decides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("WAREHOUSE_URL", "INBOX_DIR", "RUN_DATE", "MOTCUA_RETRIES", "REPORTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOTCUA_LOCAL_DIR", str(tmp_path))
    assert config.warehouse_url_setting() is None
    assert config.inbox_setting() is None
    assert config.inbox_dir() == tmp_path / "sample_inbox"
    assert config.run_date_setting() is None
    assert config.reports_dir() == tmp_path / "reports"
    assert config.task_retries() == 2  # the DAG's default
    # the launcher hands Airflow's processes what it resolved: a one-shot run retries
    # nothing and has no deadline alert unless told otherwise
    env = config.launcher_env("postgresql://u@h:5432/w", tmp_path / "in", date(2017, 7, 14))
    assert env == {
        "WAREHOUSE_URL": "postgresql://u@h:5432/w",
        "INBOX_DIR": str(tmp_path / "in"),
        "RUN_DATE": "2017-07-14",
        "MOTCUA_RETRIES": "0",
        "MOTCUA_DEADLINE_ALERT": "off",
    }


def test_the_launcher_supplies_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without WAREHOUSE_URL the launcher starts the embedded server and passes its URL on."""

    class Server:
        def url(self, dbname: str) -> str:
            return f"postgresql://postgres:secret@127.0.0.1:55432/{dbname}"

    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setattr("motcua.warehouse.embedded.ensure_server", lambda: Server())
    url = runner.warehouse_url()
    assert url == "postgresql://postgres:secret@127.0.0.1:55432/warehouse"
    assert runner.airflow_db_url(url) == (
        "postgresql+psycopg2://postgres:secret@127.0.0.1:55432/airflow"
    )
