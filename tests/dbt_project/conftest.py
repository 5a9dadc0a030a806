"""Helpers of the dbt end-to-end tests: a fresh warehouse database and dbt runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from motcua import config
from motcua.ingest.loader import ensure_raw_schema
from tests.conftest import create_database, drop_database

DBT = str(Path(sys.executable).parent / "dbt")


class Warehouse:
    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work

    def dbt(
        self, *args: str, run_date: str | None, unit_tests: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """dbt ``args`` on this warehouse as of ``run_date`` (None: no run date at all).

        dbt's unit tests do not depend on the data: they run in one build
        (``unit_tests=True``, tests/dbt_project/test_dbt_build.py), not in every
        test's build, as the nightly DAG leaves them out too.
        """
        project = str(config.dbt_project_dir())
        env = config.apply_telemetry_off(dict(os.environ))
        env.update(config.dbt_env(self.url))
        if not unit_tests:
            env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
        cmd = [
            DBT,
            *args,
            "--project-dir",
            project,
            "--profiles-dir",
            project,
            "--target-path",
            str(self.work / "target"),
            "--log-path",
            str(self.work / "logs"),
        ]
        env.pop(config.RUN_DATE_ENV, None)
        if run_date is not None:
            env[config.RUN_DATE_ENV] = run_date
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)

    def run_sql(self, path: Path) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(path.read_text(encoding="utf-8"))

    def rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()


def assert_built(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "WARN=0" in result.stdout, result.stdout[-3000:]


@pytest.fixture(scope="module")
def empty_warehouse(
    admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    """A fresh database with the loader's raw schema, dropped afterwards."""
    url = create_database(admin_url, prefix="motcua_dbt_t")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_raw_schema(conn)
        yield Warehouse(url, tmp_path_factory.mktemp("dbt"))
    finally:
        drop_database(admin_url, url)
