"""The settings of the pipeline: the one module that reads the environment.

The contract (README "Configuration"): ``WAREHOUSE_URL`` (an external
Postgres; unset means the embedded server, which the launcher
``python -m motcua run`` starts and supplies), ``INBOX_DIR`` (the inbox to
load; unset means the generated sample), ``RUN_DATE`` (``YYYY-MM-DD``, the
as-of date), ``REPORTS_DIR``, the alert targets ``DQ_ALERT_*``, the BI login
``BI_WAREHOUSE_URL`` and the ``MOTCUA_*`` tuning variables. Every other
module asks this one (tests/test_settings.py proves that no other module
reads them), so the DAG, the CLI and the tests agree on one place and a
variable's name, default and validation are written once. Values are read
at call time, never cached at import, so a test or a launcher may set them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

Number = TypeVar("Number", int, float)


def _get(name: str, env: Mapping[str, str] | None = None) -> str:
    """The variable's value, stripped; "" when unset. ``env``: another mapping to read."""
    if env is None:
        return os.environ.get(name, "").strip()
    return env.get(name, "").strip()


def _number(name: str, kind: type[Number], default: Number, minimum: float = 1) -> Number:
    """A numeric variable, ``default`` when unset; a clear error when malformed or too small."""
    value = _get(name)
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ValueError(f"{name} must be a {kind.__name__}, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {value!r}")
    return number


def _flag(name: str, default: bool) -> bool:
    """An on/off variable: off, false, 0, no turn it off; anything else on."""
    value = _get(name).lower()
    if not value:
        return default
    return value not in {"off", "false", "0", "no"}


# --------------------------------------------------------------------------- places


def repo_root() -> Path:
    """The project checkout; ``MOTCUA_HOME`` overrides it for installed copies."""
    override = _get("MOTCUA_HOME")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def local_dir() -> Path:
    """Git-ignored state: embedded Postgres, Airflow home, sample inbox, outputs."""
    return Path(_get("MOTCUA_LOCAL_DIR") or repo_root() / ".local").resolve()


def dbt_project_dir() -> Path:
    override = _get("MOTCUA_DBT_PROJECT_DIR")
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


def inbox_setting() -> Path | None:
    """``INBOX_DIR``, None when unset (the launcher then generates the sample)."""
    value = _get("INBOX_DIR")
    return Path(value).resolve() if value else None


def inbox_dir() -> Path:
    """``INBOX_DIR`` or the generated sample inbox."""
    return inbox_setting() or sample_inbox_dir()


def reports_dir() -> Path:
    """``REPORTS_DIR`` or ``.local/reports``: where the monthly DAG writes."""
    value = _get("REPORTS_DIR")
    return Path(value) if value else local_dir() / "reports"


def dq_settings_path() -> Path:
    """``MOTCUA_DQ_SETTINGS`` or ``expectations/dq_settings.yml``."""
    override = _get("MOTCUA_DQ_SETTINGS")
    return Path(override).resolve() if override else expectations_dir() / "dq_settings.yml"


def gx_project_dir() -> Path:
    """The directory holding ``gx/`` (``MOTCUA_GX_PROJECT_DIR`` overrides it)."""
    override = _get("MOTCUA_GX_PROJECT_DIR")
    return Path(override).resolve() if override else expectations_dir()


def superset_venv_dir() -> Path:
    """Superset's own virtualenv (``MOTCUA_SUPERSET_VENV`` overrides it)."""
    return Path(_get("MOTCUA_SUPERSET_VENV") or repo_root() / ".venv-superset")


def parse_run_date(value: str) -> date:
    """Parse ``RUN_DATE``; a clear error beats a silent fallback to today."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValueError(f"RUN_DATE must be YYYY-MM-DD, got {value!r}") from exc


def today_local() -> date:
    return datetime.now(TIMEZONE).date()


def run_date_setting() -> date | None:
    """``RUN_DATE`` parsed, None when unset (the launcher then picks the sample's or today)."""
    value = _get("RUN_DATE")
    return parse_run_date(value) if value else None


# --------------------------------------------------------------------------- the warehouse


def warehouse_url_setting() -> str | None:
    """``WAREHOUSE_URL`` normalised, None when unset: the launcher supplies the embedded one."""
    value = _get("WAREHOUSE_URL")
    return parse_pg_url(value).url() if value else None


def airflow_db_url_setting() -> str | None:
    """An explicit Airflow metadata URL (``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``), or None."""
    return _get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or None


def airflow_db_url_of(env: Mapping[str, str]) -> str:
    """The Airflow metadata URL that an environment built for Airflow's processes carries."""
    return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def bi_warehouse_url() -> str | None:
    """``BI_WAREHOUSE_URL``: the BI login's URL when given, else None (one is made)."""
    return _get("BI_WAREHOUSE_URL") or None


def superset_port() -> int:
    """``SUPERSET_PORT``, 8088 by default."""
    return _number("SUPERSET_PORT", int, 8088)


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


# --------------------------------------------------------------------------- the launcher


def launcher_env(warehouse_url: str, inbox: Path, run_date: date) -> dict[str, str]:
    """The contract as ``python -m motcua run`` hands it to Airflow's and dbt's processes.

    The launcher resolves what the user left unset (the embedded server, the
    sample inbox and its date) and passes the result on, so the DAG's tasks
    read the same settings. A one-shot local run retries nothing unless told
    to, and has no triggerer to fire a deadline alert; ``airflow dags test``
    3.3.2 also exits 1 after a successful run of a DAG with a deadline
    (apache/airflow#73428).
    """
    return {
        "WAREHOUSE_URL": warehouse_url,
        "INBOX_DIR": str(inbox),
        "RUN_DATE": run_date.isoformat(),
        "MOTCUA_RETRIES": str(task_retries(default=0)),
        "MOTCUA_DEADLINE_ALERT": "on" if deadline_alert_enabled(default=False) else "off",
    }


# --------------------------------------------------------------------------- orchestration


def task_retries(default: int = 2) -> int:
    """``MOTCUA_RETRIES``: how often a failed nightly task is retried."""
    return _number("MOTCUA_RETRIES", int, default, 0)


def retry_delay_seconds() -> int:
    """``MOTCUA_RETRY_DELAY_SECONDS``: five minutes in production; a local run sets it lower."""
    return _number("MOTCUA_RETRY_DELAY_SECONDS", int, 300, 0)


def deadline_alert_enabled(default: bool = True) -> bool:
    """``MOTCUA_DEADLINE_ALERT``: off for the local one-shot run (no triggerer there)."""
    return _flag("MOTCUA_DEADLINE_ALERT", default)


# The server pid of the session holding the warehouse's run lock for this run:
# set by the launcher, read by the DAG's tasks (motcua.warehouse.run_lock).
RUN_LOCK_HOLDER_ENV = "MOTCUA_RUN_LOCK_PID"


def run_lock_holder_pid() -> int | None:
    """The pid in ``MOTCUA_RUN_LOCK_PID``, None when unset or not a number."""
    value = _get(RUN_LOCK_HOLDER_ENV)
    return int(value) if value.isdigit() else None


# --------------------------------------------------------------------------- sources


PROVINCE_ENV = "MOTCUA_PROVINCE"


def province_setting() -> str:
    """``MOTCUA_PROVINCE`` as given (trimmed): the one province reports and alerts speak of."""
    return _get(PROVINCE_ENV).strip()


def api_url() -> str | None:
    """``MOTCUA_API_URL``: the one-stop-shop API to pull from; unset skips the step."""
    return _get("MOTCUA_API_URL") or None


def api_token() -> str | None:
    """``MOTCUA_API_TOKEN``: the bearer token of the API, if it needs one."""
    return _get("MOTCUA_API_TOKEN") or None


@dataclass(frozen=True)
class ApiSettings:
    """The ``MOTCUA_API_*`` tuning of a pull; None where the variable is unset."""

    token: str | None
    page_size: int
    max_attempts: int | None
    timeout: float | None
    overlap_minutes: float | None
    initial_since: str | None


def api_settings(default_page_size: int = 500) -> ApiSettings:
    """Read and validate the ``MOTCUA_API_*`` variables (``motcua.sources.api`` applies them)."""

    def optional(name: str, kind: type[Number], minimum: float) -> Number | None:
        return _number(name, kind, None, minimum) if _get(name) else None  # type: ignore[arg-type]

    return ApiSettings(
        token=api_token(),
        page_size=_number("MOTCUA_API_PAGE_SIZE", int, default_page_size),
        max_attempts=optional("MOTCUA_API_MAX_ATTEMPTS", int, 1),
        timeout=optional("MOTCUA_API_TIMEOUT", float, 0.001),
        overlap_minutes=optional("MOTCUA_API_OVERLAP_MINUTES", float, 0),
        initial_since=_get("MOTCUA_API_INITIAL_SINCE") or None,
    )


def _positive_whole(name: str, default: int) -> int:
    value = _get(name)
    if not value:
        return default
    if not value.isdigit() or int(value) == 0:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def xlsx_max_unpacked_mb(default: int) -> int:
    """``MOTCUA_XLSX_MAX_UNPACKED_MB``: the cap on what a workbook may unpack to."""
    return _positive_whole("MOTCUA_XLSX_MAX_UNPACKED_MB", default)


def xlsx_max_ratio(default: int) -> int:
    """``MOTCUA_XLSX_MAX_RATIO``: the cap on a workbook member's compression ratio."""
    return _positive_whole("MOTCUA_XLSX_MAX_RATIO", default)


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (``DQ_ALERT_*``), read at call time, never at import."""

    to: tuple[str, ...] = ()
    sender: str | None = None
    webhook_url: str | None = None
    outbox: Path = Path(".local/outbox")
    smtp_conn_id: str = "smtp_default"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        """From ``env`` (default: the process environment)."""
        to = tuple(a.strip() for a in re.split(r"[,;]", _get("DQ_ALERT_TO", env)) if a.strip())
        outbox = _get("DQ_ALERT_OUTBOX", env)
        return cls(
            to=to,
            sender=_get("DQ_ALERT_FROM", env) or None,
            webhook_url=_get("DQ_ALERT_WEBHOOK_URL", env) or None,
            outbox=Path(outbox) if outbox else local_dir() / "outbox",
        )
