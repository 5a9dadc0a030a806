"""Scenarios: outcomes pinned by construction, and the mart figures they imply.

A scenario says, for a commune and a period, how many dossiers end in each
docs/rules.md outcome class, and, for a commune × year × agency, how many answers
each survey element gets per value. The generator builds exactly those
dossiers and answers and keeps random data away from them, so a test can
assert mart figures computed here by plain arithmetic (``expected_*``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from motcua_dev.generator.catalog import AGENCIES, ELEMENT_KEYS

DEFAULT_THRESHOLD = 10
RATING_BANDS: tuple[tuple[str, int], ...] = (("Tốt", 80), ("Khá", 70), ("Trung bình", 50))
LOWEST_BAND = "Kém"
TARGETS: dict[int, int] = {2016: 75, 2017: 77}
RELIABLE_MIN_RESPONSES = 30


class ScenarioError(ValueError):
    """A scenario that cannot be generated as stated (or contradicts itself)."""


def round2(value: Fraction) -> float:
    """Round half away from zero to 2 decimals, as PostgreSQL ``round(numeric, 2)``."""
    rounded = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return float(rounded)


def period_type(start: date, end: date) -> str:
    """``month``/``quarter``/``half_year``/``year`` when the period is one, else ``custom``."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1 or start.year != end.year:
        return "custom"
    months = end.month - start.month + 1
    if months == 1:
        return "month"
    if months == 3 and start.month in (1, 4, 7, 10):
        return "quarter"
    if months == 6 and start.month in (1, 7):
        return "half_year"
    if months == 12:
        return "year"
    return "custom"


def cutoff_of(start: date, end: date, run_date: date) -> date:
    """docs/rules.md: the period containing the run date is cut off at the run date."""
    return run_date if start <= run_date <= end else end


# --- lateness -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LatenessPin:
    """Exact outcome counts of one commune for one period (names as in the mart).

    The resolved and in-progress counts include the ``carried_over`` dossiers
    (received before ``period_start``); the channel and one-stop counts are
    over the dossiers received in the period; ``late_with_apology`` is the
    number of ``late_total`` dossiers with a compliant apology letter.
    """

    commune_code: str
    period_start: date
    period_end: date
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    in_progress_on_time: int = 0
    in_progress_overdue: int = 0
    withdrawn_or_refused: int = 0
    carried_over: int = 0
    received_online: int = 0
    received_postal: int = 0
    late_with_apology: int = 0
    received_outside_one_stop: int = 0

    @property
    def resolved_total(self) -> int:
        return self.resolved_early + self.resolved_on_time + self.resolved_late

    @property
    def in_progress_total(self) -> int:
        return self.in_progress_on_time + self.in_progress_overdue

    @property
    def late_total(self) -> int:
        return self.resolved_late + self.in_progress_overdue

    @property
    def received_total(self) -> int:
        return (
            self.resolved_total
            + self.in_progress_total
            - self.carried_over
            + self.withdrawn_or_refused
        )

    def late_rate(self) -> float | None:
        denominator = self.resolved_total + self.in_progress_total
        if denominator == 0:
            return None
        return round2(Fraction(100 * self.late_total, denominator))

    def validate(self) -> None:
        counts = [getattr(self, f.name) for f in fields(self) if f.type in (int, "int")]
        if any(c < 0 for c in counts):
            raise ScenarioError(f"{self.commune_code}: negative count in {self}")
        if self.period_end < self.period_start:
            raise ScenarioError(f"{self.commune_code}: period ends before it starts")
        if self.carried_over > self.resolved_total + self.in_progress_total:
            raise ScenarioError(f"{self.commune_code}: more carried over than resolved+in progress")
        received = self.received_total
        if self.received_online + self.received_postal > received:
            raise ScenarioError(f"{self.commune_code}: online+postal > received in period")
        if self.received_outside_one_stop > received:
            raise ScenarioError(f"{self.commune_code}: outside one-stop > received in period")
        if self.late_with_apology > self.late_total:
            raise ScenarioError(f"{self.commune_code}: late_with_apology > late_total")

    def expected_row(self, run_date: date, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
        """The ``marts.commune_lateness`` measures this pin implies (plain arithmetic)."""
        rate = self.late_rate()
        received = self.received_total
        return {
            "commune_code": self.commune_code,
            "period_type": period_type(self.period_start, self.period_end),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "cutoff": cutoff_of(self.period_start, self.period_end, run_date).isoformat(),
            "received_total": received,
            "received_online": self.received_online,
            "received_direct": received - self.received_online - self.received_postal,
            "received_postal": self.received_postal,
            "carried_over": self.carried_over,
            "resolved_total": self.resolved_total,
            "resolved_early": self.resolved_early,
            "resolved_on_time": self.resolved_on_time,
            "resolved_late": self.resolved_late,
            "in_progress_total": self.in_progress_total,
            "in_progress_on_time": self.in_progress_on_time,
            "in_progress_overdue": self.in_progress_overdue,
            "withdrawn_or_refused": self.withdrawn_or_refused,
            "late_total": self.late_total,
            "late_rate": rate,
            "over_threshold": rate is not None and rate > threshold,
            "late_without_apology": self.late_total - self.late_with_apology,
            "received_outside_one_stop": self.received_outside_one_stop,
        }


# --- surveys ------------------------------------------------------------------------------
Counts = tuple[int, int, int, int, int, int]  # (no valid answer, n1, n2, n3, n4, n5)


def _counts(values: Sequence[int]) -> Counts:
    """JSON list -> the six-count tuple (length checked by ``SurveyPin.validate``)."""
    if len(values) != 6:
        raise ScenarioError(f"survey counts need 6 numbers, got {list(values)}")
    a, b, c, d, e, f = (int(v) for v in values)
    return (a, b, c, d, e, f)


@dataclass(frozen=True)
class SurveyPin:
    """Exact answer counts for one commune × year × agency.

    ``counts[element] = (invalid, n1, n2, n3, n4, n5)``; every element sums
    to the same number of responses. Duplicated response ids in the inbox are
    the same response and are not counted twice.
    """

    commune_code: str
    year: int
    agency: str
    counts: dict[str, Counts]

    @property
    def responses(self) -> int:
        return sum(next(iter(self.counts.values())))

    def validate(self) -> None:
        if self.agency not in AGENCIES:
            raise ScenarioError(f"unknown agency {self.agency!r}")
        if set(self.counts) != set(ELEMENT_KEYS):
            raise ScenarioError(f"survey pin needs exactly the elements {ELEMENT_KEYS}")
        totals = {sum(c) for c in self.counts.values()}
        if len(totals) != 1 or any(len(c) != 6 or min(c) < 0 for c in self.counts.values()):
            raise ScenarioError(f"{self.commune_code}/{self.year}/{self.agency}: bad counts")
        invalid = sum(c[0] for c in self.counts.values())
        if invalid > 4 * self.responses:
            raise ScenarioError("too many invalid answers: every response needs a valid one")

    @classmethod
    def from_satisfied(
        cls,
        commune_code: str,
        year: int,
        agency: str,
        responses: int,
        satisfied: dict[str, int],
        invalid: dict[str, int] | None = None,
    ) -> SurveyPin:
        """Spread ``satisfied`` answers over 4/5 and the rest over 1/2/3 per element."""
        counts: dict[str, Counts] = {}
        for key in ELEMENT_KEYS:
            bad = (invalid or {}).get(key, 0)
            valid = responses - bad
            sat = satisfied[key]
            if not 0 <= sat <= valid:
                raise ScenarioError(f"{commune_code}/{year}/{key}: satisfied out of range")
            n5 = round(sat * 0.35)
            unsat = valid - sat
            n3 = round(unsat * 0.6)
            n2 = round(unsat * 0.3)
            counts[key] = (bad, unsat - n3 - n2, n2, n3, sat - n5, n5)
        return cls(commune_code, year, agency, counts)


def satisfaction_figures(counts: Mapping[str, Sequence[int]], responses: int) -> dict[str, Any]:
    """docs/rules.md satisfaction index from answer counts (shared by pins and random cells)."""
    indices: dict[str, Fraction | None] = {}
    for key in ELEMENT_KEYS:
        _, *values = counts[key]
        valid = sum(values)
        indices[key] = Fraction(100 * (values[3] + values[4]), valid) if valid else None
    present = [v for v in indices.values() if v is not None]
    index = sum(present, Fraction(0)) / len(present) if present else None
    row: dict[str, Any] = {"responses": responses}
    for key in ELEMENT_KEYS:
        value = indices[key]
        row[f"idx_{key}"] = round2(value) if value is not None else None
    row["satisfaction_index"] = round2(index) if index is not None else None
    row["satisfaction_index_exact"] = float(index) if index is not None else None
    row["rating"] = rating_band(index)
    return row


def rating_band(index: Fraction | float | None) -> str | None:
    """docs/rules.md band of the reported (2-decimal) index; lower bounds inclusive.

    Rounding first matters only within 0.005 of a bound; pinned cells keep away.
    """
    if index is None:
        return None
    value = round2(Fraction(index)) if isinstance(index, Fraction) else index
    for name, lower in RATING_BANDS:
        if value >= lower:
            return name
    return LOWEST_BAND


def with_target(row: dict[str, Any], year: int) -> dict[str, Any]:
    target = TARGETS.get(year)
    index = row["satisfaction_index"]
    row["target"] = target
    row["meets_target"] = None if target is None or index is None else index >= target
    row["reliable"] = row["responses"] >= RELIABLE_MIN_RESPONSES
    return row


# --- the scenario -------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A named set of pins; serialisable to JSON (dates ISO, counts as lists)."""

    name: str = "none"
    description: str = ""
    lateness: tuple[LatenessPin, ...] = ()
    surveys: tuple[SurveyPin, ...] = ()
    threshold: float = DEFAULT_THRESHOLD
    notes: dict[str, Any] = field(default_factory=dict)

    def validate(self, unit_codes: set[str]) -> None:
        seen: set[str] = set()
        for pin in self.lateness:
            pin.validate()
            if pin.commune_code not in unit_codes:
                raise ScenarioError(f"lateness pin for unknown unit {pin.commune_code}")
            if pin.commune_code in seen:
                raise ScenarioError(f"only one lateness pin per commune ({pin.commune_code})")
            seen.add(pin.commune_code)
        cells: set[tuple[str, int, str]] = set()
        for spin in self.surveys:
            spin.validate()
            if spin.commune_code not in unit_codes:
                raise ScenarioError(f"survey pin for unknown unit {spin.commune_code}")
            cell = (spin.commune_code, spin.year, spin.agency)
            if cell in cells:
                raise ScenarioError(f"survey cell pinned twice: {cell}")
            cells.add(cell)

    def lateness_for(self, commune_code: str) -> LatenessPin | None:
        for pin in self.lateness:
            if pin.commune_code == commune_code:
                return pin
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for pin in data["lateness"]:
            pin["period_start"] = pin["period_start"].isoformat()
            pin["period_end"] = pin["period_end"].isoformat()
        for spin in data["surveys"]:
            spin["counts"] = {k: list(v) for k, v in spin["counts"].items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        lateness = tuple(
            LatenessPin(
                **{
                    **pin,
                    "period_start": date.fromisoformat(pin["period_start"]),
                    "period_end": date.fromisoformat(pin["period_end"]),
                }
            )
            for pin in data.get("lateness", ())
        )
        surveys = tuple(
            SurveyPin(
                commune_code=str(s["commune_code"]),
                year=int(s["year"]),
                agency=s["agency"],
                counts={k: _counts(v) for k, v in s["counts"].items()},
            )
            for s in data.get("surveys", ())
        )
        return cls(
            name=data.get("name", "custom"),
            description=data.get("description", ""),
            lateness=lateness,
            surveys=surveys,
            threshold=data.get("threshold", DEFAULT_THRESHOLD),
            notes=data.get("notes", {}),
        )

    @classmethod
    def load(cls, path: Path) -> Scenario:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def dump(self, path: Path) -> None:
        Path(path).write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
