"""Operator settings of the checks: ``expectations/dq_settings.yml``.

The suites take every threshold as a suite parameter, so the values below are
handed to GX at run time (``expectation_parameters``) and an operator changes
a threshold by editing one small YAML file, not the reviewed suites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from motcua import config, vocabularies

CONTACT_CHECKS = ("address_present", "phone_valid", "email_valid")
DEFAULT_MOSTLY: Mapping[str, float] = {
    "address_present": 0.95,
    "phone_valid": 0.90,
    "email_valid": 0.60,
}


def settings_path() -> Path:
    """``MOTCUA_DQ_SETTINGS`` or ``expectations/dq_settings.yml``."""
    return config.dq_settings_path()


@dataclass(frozen=True)
class Window:
    """A span of received dates the contact suite is evaluated over (both ends inclusive)."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class QualitySettings:
    recent_days: int = 7
    contact_mostly: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MOSTLY))
    max_quarantine_share: float = 0.20
    max_codes: int = 5
    docs_keep_days: int = 35
    max_progress_points_drop: float = 2.0

    def __post_init__(self) -> None:
        if self.recent_days < 1:
            raise ValueError(f"contact.recent_days must be >= 1, got {self.recent_days}")
        unknown = set(self.contact_mostly) - set(CONTACT_CHECKS)
        if unknown:
            raise ValueError(f"contact.mostly: unknown checks {sorted(unknown)}")
        for name in CONTACT_CHECKS:
            _check_share(f"contact.mostly.{name}", self.contact_mostly.get(name))
        _check_share("quarantine.max_share_per_file", self.max_quarantine_share)
        if self.max_codes < 0:
            raise ValueError(f"report.max_codes must be >= 0, got {self.max_codes}")
        drop = self.max_progress_points_drop
        if not isinstance(drop, int | float) or isinstance(drop, bool) or drop < 0:
            raise ValueError(f"index766.max_progress_points_drop must be >= 0, got {drop!r}")
        if self.docs_keep_days < 0:
            raise ValueError(f"report.docs_keep_days must be >= 0, got {self.docs_keep_days}")

    def windows(self, run_date: date) -> list[Window]:
        """(a) the last ``recent_days`` days up to the run date, (b) the month to the run date."""
        return [
            Window(
                f"last_{self.recent_days}_days",
                run_date - timedelta(days=self.recent_days - 1),
                run_date,
            ),
            Window("month_to_date", run_date.replace(day=1), run_date),
        ]

    def expectation_parameters(self, run_date: date) -> dict[str, Any]:
        """The suite parameters every checkpoint run receives."""
        params: dict[str, Any] = {
            f"{name}_mostly": float(self.contact_mostly[name]) for name in CONTACT_CHECKS
        }
        params["max_quarantine_share"] = float(self.max_quarantine_share)
        params["max_progress_points_drop"] = float(self.max_progress_points_drop)
        params["run_date"] = run_date.isoformat()
        # the value sets of the vocabulary checks: the seed dbt maps with (motcua.vocabularies)
        params["onestop_statuses"] = list(vocabularies.values("status"))
        params["survey_answer_scores"] = sorted(vocabularies.answer_labels())
        return params


def _check_share(name: str, value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")


def load_settings(path: Path | None = None) -> QualitySettings:
    """Read the settings file; a missing key takes the default, a bad value is an error."""
    source = path or settings_path()
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    contact = data.get("contact") or {}
    quarantine = data.get("quarantine") or {}
    report = data.get("report") or {}
    index766 = data.get("index766") or {}
    defaults = QualitySettings()
    mostly = {**DEFAULT_MOSTLY, **(contact.get("mostly") or {})}
    return QualitySettings(
        recent_days=int(contact.get("recent_days", defaults.recent_days)),
        contact_mostly=mostly,
        max_quarantine_share=quarantine.get("max_share_per_file", defaults.max_quarantine_share),
        max_codes=int(report.get("max_codes", defaults.max_codes)),
        docs_keep_days=int(report.get("docs_keep_days", defaults.docs_keep_days)),
        max_progress_points_drop=index766.get(
            "max_progress_points_drop", defaults.max_progress_points_drop
        ),
    )
