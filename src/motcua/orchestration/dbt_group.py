"""The dbt part of the nightly DAG, rendered by Cosmos from the manifest.

``LoadMode.DBT_MANIFEST`` reads ``dbt_project/target/manifest.json`` (made by
``dbt parse`` during set-up) instead of calling dbt at parse time, which keeps
DAG parsing well under a second. Each model's tests run right after it.
The warehouse credentials come from the Airflow connection at run time.
"""

from __future__ import annotations

from typing import Any

from motcua import config
from motcua.orchestration.defaults import WAREHOUSE_CONN_ID

_CONN = f"conn.{WAREHOUSE_CONN_ID}"

DBT_ENV_TEMPLATE: dict[str, str] = {
    "WH_HOST": "{{ " + _CONN + ".host }}",
    "WH_PORT": "{{ " + _CONN + ".port or 5432 }}",
    "WH_USER": "{{ " + _CONN + ".login }}",
    "WH_PASSWORD": "{{ " + _CONN + ".password or '' }}",
    "WH_DBNAME": "{{ " + _CONN + ".schema }}",
    # the run's as-of date (macro run_date): an environment variable, so that
    # dbt's partial parsing survives a new date each night
    config.RUN_DATE_ENV: "{{ ti.xcom_pull(task_ids='resolve_run_date') }}",
    **config.TELEMETRY_OFF,
}


# What the nightly run builds before its blocking checks, and what it then
# publishes: BI tools never see marts computed from data that failed them.
PREPARE_EXCLUDE = ["path:models/marts"]
PUBLISH_SELECT = ["path:models/marts"]


def build_group(
    group_id: str, *, select: list[str] | None = None, exclude: list[str] | None = None
) -> Any:
    """A Cosmos DbtTaskGroup building part of the project for the run's ``run_date``."""
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior

    project_dir = config.dbt_project_dir()
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project_dir,
            manifest_path=project_dir / "target" / "manifest.json",
            install_dbt_deps=False,
            env_vars=DBT_ENV_TEMPLATE,  # rendered per task, like the operators' env
        ),
        profile_config=ProfileConfig(
            profile_name="motcua",
            target_name="warehouse",
            profiles_yml_filepath=project_dir / "profiles.yml",
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # a relationships test needs both of its models built: own task after both
            should_detach_multiple_parents_tests=True,
            select=select or [],
            exclude=exclude or [],
        ),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        operator_args={"append_env": True},
    )
