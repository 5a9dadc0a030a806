"""No usage data leaves the machine: every opt-out is set where the pipeline runs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import yaml

from motcua import config, runner
from motcua.orchestration.dbt_group import DBT_ENV_TEMPLATE


def _pipeline_env(tmp_path: Path) -> dict[str, str]:
    settings = runner.RunSettings(
        warehouse_url="postgresql://u@127.0.0.1:5999/w",
        airflow_db_url="postgresql+psycopg2://u@127.0.0.1:5999/a",
        inbox=tmp_path,
        run_date=date(2017, 7, 14),
        sample=False,
    )
    return runner.airflow_env(settings, home=tmp_path / "airflow")


def test_pipeline_environment_has_every_opt_out(tmp_path: Path) -> None:
    env = _pipeline_env(tmp_path)
    assert {k: env[k] for k in config.TELEMETRY_OFF} == {
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
    }
    # the dbt tasks get them too, whatever the worker's own environment
    assert all(DBT_ENV_TEMPLATE[k] == v for k, v in config.TELEMETRY_OFF.items())


def test_dbt_project_turns_usage_stats_off() -> None:
    project = yaml.safe_load((config.dbt_project_dir() / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False


PROBE = """
import json
import cosmos.settings, cosmos.telemetry
from airflow.configuration import conf
from dbt.cli.main import dbtRunner
import dbt.tracking
dbtRunner().invoke(["--version"])
result = dbtRunner().invoke(["parse", "--project-dir", {project!r}, "--profiles-dir", {project!r},
                            "--quiet"])
user = dbt.tracking.active_user
print(json.dumps({{
    "cosmos_emits": cosmos.telemetry.should_emit(),
    "airflow_usage": conf.getboolean("usage_data_collection", "enabled", fallback=False),
    "dbt_parse_ok": result.success,
    "dbt_tracking_off": user is None or bool(user.do_not_track),
}}))
"""


def test_cosmos_dbt_and_airflow_report_nothing_in_the_pipeline_env(tmp_path: Path) -> None:
    env = _pipeline_env(tmp_path)
    env.update({"WH_HOST": "127.0.0.1", "WH_PORT": "5999", "WH_USER": "u", "WH_DBNAME": "w"})
    code = PROBE.format(project=str(config.dbt_project_dir()))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report == {
        "cosmos_emits": False,
        "airflow_usage": False,
        "dbt_parse_ok": True,
        "dbt_tracking_off": True,
    }


def test_great_expectations_project_has_analytics_off() -> None:
    gx_config = yaml.safe_load(
        (config.expectations_dir() / "gx" / "great_expectations.yml").read_text()
    )
    assert gx_config["analytics_enabled"] is False
    from motcua.quality.gx_project import close_context, open_context

    context = open_context("postgresql://u@127.0.0.1:5999/w")
    try:
        assert context.variables.analytics_enabled is False
    finally:
        close_context(context)
