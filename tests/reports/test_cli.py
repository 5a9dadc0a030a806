"""``python -m motcua.reports``: the three commands, the URL default, errors, cheap import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reports.conftest import Built


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua.reports", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, motcua.reports, motcua.reports.official_table, motcua.reports.dashboard, "
        "motcua.reports.transparency, motcua.reports.__main__ as m; "
        "print(sorted(x for x in ('openpyxl', 'psycopg', 'yaml', 'motcua.runner') "
        "if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_period_is_a_usage_error(tmp_path: Path) -> None:
    result = run("official", "--period", "2017-H3", "--out", str(tmp_path / "x.xlsx"))
    assert result.returncode == 2 and "2017-H3" in result.stderr


@pytest.mark.slow
def test_three_commands(built: Built, tmp_path: Path) -> None:
    xlsx = tmp_path / "official.xlsx"
    result = run("official", "--period", "2017-H1", "--out", str(xlsx), "--url", built.url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["lateness"]["late_rate"] == "7.61" and xlsx.exists()

    # no --url: WAREHOUSE_URL
    env = {**os.environ, "WAREHOUSE_URL": built.url}
    result = run("transparency", "--out", str(tmp_path / "public"), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"]["satisfaction_district"] == 2

    html = tmp_path / "dash.html"
    result = run("dashboard", "--period", "2017-H1", "--year", "2016", "--out", str(html), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["satisfaction_index"] == "72.12"

    result = run("dashboard", "--period", "2015-H1", "--out", str(html), env=env)
    assert result.returncode == 2 and "error:" in result.stderr and "2015-H1" in result.stderr
