"""One real warehouse for every report test: the sample inbox, loaded and built once.

The sample (``motcua_dev.generator.write_sample``) tells the story of letter
2114/UBND: 27 Ninh Hòa units, 1 Jan 2016 – 14 Jul 2017, and its
``manifest.json`` states the exact figures docs/rules.md gives for it. The session
fixture loads it into a fresh database, runs ``dbt build`` once (target and
logs in a temporary directory) and drops the database at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from motcua import config, pipeline
from motcua_dev.generator import write_sample
from tests.conftest import create_database, drop_database
from tests.reports import browser

DBT = str(Path(sys.executable).parent / "dbt")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: renders a page in headless Chromium (apt-get install -y chromium; "
        "CHROMIUM=/path overrides; MOTCUA_REQUIRE_BROWSER=1 fails instead of skipping)",
    )


@dataclass(frozen=True)
class Built:
    url: str
    manifest: dict[str, Any]
    work: Path

    def expected(self, section: str, **keys: Any) -> list[dict[str, Any]]:
        """Manifest cells of ``section`` matching every key (values compared as text)."""
        return [
            cell
            for cell in self.manifest["expected"][section]
            if all(str(cell.get(k)) == str(v) for k, v in keys.items())
        ]


def dbt_build(url: str, run_date: str, work: Path) -> None:
    project = str(config.dbt_project_dir())
    env = config.apply_telemetry_off(dict(os.environ))
    env.update(config.dbt_env(url))
    # dbt's unit tests do not depend on the data: tests/dbt_project runs them once
    env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
    cmd = [
        DBT,
        "build",
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        f"{{run_date: '{run_date}'}}",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.fixture(scope="session")
def built(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("reports_wh")
    manifest = write_sample(work / "inbox")
    url = create_database(admin_url, prefix="motcua_reports_t")
    try:
        pipeline.ingest_inbox(url, work / "inbox", date.fromisoformat(manifest["run_date"]))
        dbt_build(url, manifest["run_date"], work)
        yield Built(url, manifest, work)
    finally:
        drop_database(admin_url, url)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium/Chrome binary; skips (or fails under MOTCUA_REQUIRE_BROWSER=1)."""
    found = browser.find_chromium()
    if found is None:
        reason = (
            "no Chromium found (looked for $CHROMIUM, chromium, chromium-browser, "
            "google-chrome, headless_shell on PATH): apt-get install -y chromium"
        )
        if os.environ.get("MOTCUA_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found
