"""Run-time settings of the pipeline, read from a fixed environment contract.

The contract (README "Configuration"): ``WAREHOUSE_URL`` (an external
Postgres; unset means the embedded server under ``.local/``), ``INBOX_DIR``
(the inbox to load; unset means the generated sample) and ``RUN_DATE``
(``YYYY-MM-DD``, the as-of date). Everything else derives from these so that
the DAG, the CLI and the tests agree on one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def repo_root() -> Path:
    """The project checkout; ``MOTCUA_HOME`` overrides it for installed copies."""
    override = os.environ.get("MOTCUA_HOME")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def local_dir() -> Path:
    """Git-ignored state: embedded Postgres, Airflow home, sample inbox, outputs."""
    return Path(os.environ.get("MOTCUA_LOCAL_DIR", repo_root() / ".local")).resolve()


def dbt_project_dir() -> Path:
    override = os.environ.get("MOTCUA_DBT_PROJECT_DIR")
    return Path(override).resolve() if override else repo_root() / "dbt_project"


def expectations_dir() -> Path:
    return repo_root() / "expectations"


SAMPLE_ENV = "MOTCUA_SAMPLE"  # which generated sample make run loads: sample (default), reform


def sample_preset() -> str:
    """``MOTCUA_SAMPLE``: ``sample`` (the letter's story) or ``reform`` (across 1/7/2025)."""
    value = os.environ.get(SAMPLE_ENV, "sample").strip() or "sample"
    if value not in ("sample", "reform"):
        raise SystemExit(f"{SAMPLE_ENV}={value!r}: use sample or reform")
    return value


def sample_inbox_dir() -> Path:
    preset = sample_preset()
    return local_dir() / ("sample_inbox" if preset == "sample" else f"{preset}_inbox")


def inbox_dir() -> Path:
    """``INBOX_DIR`` or the generated sample inbox."""
    value = os.environ.get("INBOX_DIR")
    return Path(value).resolve() if value else sample_inbox_dir()


def parse_run_date(value: str) -> date:
    """Parse ``RUN_DATE``; a clear error beats a silent fallback to today."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValueError(f"RUN_DATE must be YYYY-MM-DD, got {value!r}") from exc


def today_local() -> date:
    return datetime.now(TIMEZONE).date()


@dataclass(frozen=True)
class PgParams:
    """Connection parameters split out of a URL, for dbt's env-var profile."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def url(self, dbname: str | None = None, driver: str = "postgresql") -> str:
        auth = self.user if not self.password else f"{self.user}:{self.password}"
        return f"{driver}://{auth}@{self.host}:{self.port}/{dbname or self.dbname}"

    def masked(self) -> str:
        """The URL with the password hidden, for logs and terminals."""
        auth = self.user if not self.password else f"{self.user}:***"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"


def parse_pg_url(url: str) -> PgParams:
    """Split a ``postgresql://user:pass@host:port/db`` URL."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in {"postgres", "postgresql"}:
        raise ValueError(f"WAREHOUSE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return PgParams(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=(parts.path or "/").lstrip("/") or "postgres",
    )


# The run's as-of date for dbt (macro run_date in dbt_project/macros): an
# environment variable rather than --vars, so that a new date each night does
# not make dbt re-parse the whole project.
RUN_DATE_ENV = "MOTCUA_RUN_DATE"


def dbt_env(url: str) -> dict[str, str]:
    """Environment the dbt profile (``dbt_project/profiles.yml``) reads."""
    params = parse_pg_url(url)
    return {
        "WH_HOST": params.host,
        "WH_PORT": str(params.port),
        "WH_USER": params.user,
        "WH_PASSWORD": params.password,
        "WH_DBNAME": params.dbname,
    }


# Every usage-data call of the stack, switched off. Applied to the process and
# to every subprocess the pipeline starts (tests/test_telemetry.py proves it).
TELEMETRY_OFF: dict[str, str] = {
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
}


def apply_telemetry_off(env: dict[str, str] | None = None) -> dict[str, str]:
    """Set the opt-outs in ``env`` (default ``os.environ``) and return it."""
    target = os.environ if env is None else env
    target.update(TELEMETRY_OFF)
    return target  # type: ignore[return-value]
