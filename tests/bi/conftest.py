"""A warehouse with known figures and one Superset on loopback for the module.

The warehouse is the ``small`` generated inbox (4 Ninh Hòa communes, Dec 2016
→ 28 Apr 2017; ``manifest.json`` states the mart figures it was built to
give), loaded and built with dbt once. Superset runs from ``.venv-superset``
with SQLite metadata in a temporary directory, the assets imported with its
own CLI, logged in to the warehouse as a fresh login in ``bi_reader``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg import sql
from psycopg.rows import dict_row

from motcua import config, pipeline
from motcua.bi import superset as ss
from motcua.warehouse.access import BI_ROLE, apply_access
from motcua_dev.generator import write_small
from tests.conftest import create_database, drop_database

DBT = str(Path(sys.executable).parent / "dbt")
COMMUNE_USER = ("ninhtay", "22534")  # Xã Ninh Tây


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: renders a page in headless Chromium (see tests/reports/conftest.py)"
    )


@dataclass
class Warehouse:
    url: str
    manifest: dict[str, Any]

    def rows(self, query: str, *params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def expected(self, section: str) -> list[dict[str, Any]]:
        return list(self.manifest["expected"][section])


def _dbt_build(url: str, run_date: str, work: Path) -> None:
    project = str(config.dbt_project_dir())
    env = config.apply_telemetry_off(dict(os.environ))
    env.update(config.dbt_env(url))
    env[config.RUN_DATE_ENV] = run_date
    flags = ["--project-dir", project, "--profiles-dir", project]
    flags += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    # seeds and models only: their data tests run in tests/dbt_project on the same inbox
    skip = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    result = subprocess.run(
        [DBT, "build", *skip, *flags], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def warehouse(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    work = tmp_path_factory.mktemp("bi_wh")
    manifest = write_small(work / "inbox")
    url = create_database(admin_url, prefix="motcua_bi_t")
    try:
        pipeline.ingest_inbox(url, work / "inbox", date.fromisoformat(manifest["run_date"]))
        _dbt_build(url, manifest["run_date"], work)
        yield Warehouse(url, manifest)
    finally:
        drop_database(admin_url, url)


@dataclass
class Superset:
    url: str
    home: ss.Home
    admin_password: str
    commune_password: str
    bi_login: str
    setup_report: dict[str, Any]

    def token(self, username: str, password: str) -> str:
        response = requests.post(
            f"{self.url}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def api(self, path: str, token: str, **params: Any) -> Any:
        response = requests.get(
            f"{self.url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            params=params,
            timeout=120,
        )
        assert response.status_code == 200, (path, response.status_code, response.text[:2000])
        return response.json()

    def admin_token(self) -> str:
        return self.token(ss.ADMIN, self.admin_password)


@pytest.fixture(scope="module")
def superset(
    request: pytest.FixtureRequest, admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Superset]:
    """Superset with the assets imported by its CLI, as the operator's ``make bi`` does.

    Its metadata (``db upgrade``, ``init``, the admin) needs no warehouse, so it
    is set up while dbt builds the marts.
    """
    if not (ss.venv_dir() / "bin" / "superset").exists():
        pytest.fail(f"{ss.venv_dir()} is missing: `make venv-superset` (make test installs it)")
    home = ss.Home(tmp_path_factory.mktemp("superset_home"))
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = pool.submit(ss.bootstrap, home)
        warehouse: Warehouse = request.getfixturevalue("warehouse")
        admin_password, _ = started.result()
    login = f"t{uuid.uuid4().hex[:8]}_superset"
    password = secrets.token_urlsafe(16)
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        apply_access(conn)  # bi_reader and its grants, as the nightly run applies them
        conn.execute(
            sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(login), sql.Literal(password), sql.Identifier(BI_ROLE)
            )
        )
    params = config.parse_pg_url(warehouse.url)
    bi_url = config.PgParams(params.host, params.port, login, password, params.dbname).url()
    server = None
    try:
        ss.import_assets(home, bi_url)
        commune_password = secrets.token_urlsafe(12)
        report = ss.provision_access(
            home, [ss.User(COMMUNE_USER[0], commune_password, COMMUNE_USER[1])]
        )
        server = ss.start(home, password, ss.free_port())
        yield Superset(server.url, home, admin_password, commune_password, login, report)
    finally:
        if server is not None:
            server.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (make test installs it when it can); MOTCUA_REQUIRE_BROWSER=1 fails."""
    from tests.reports import browser

    found = browser.find_chromium()
    if found is None:
        if os.environ.get("MOTCUA_REQUIRE_BROWSER") == "1":
            pytest.fail("no Chromium: apt-get install -y chromium")
        pytest.skip("no Chromium: apt-get install -y chromium")
    return found
