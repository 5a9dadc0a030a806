"""``manifest.json``: what the generator knows about its inbox by construction.

Per file: rows written, quarantine-worthy rows (by reason), re-delivered and
tie rows, the format variant and the sha256. Per commune: distinct valid
dossiers and their final states. Expected mart figures: exact wherever the
generator controls them (pinned lateness, reception and contact counts of
every commune and period, every survey cell), computed with the docs/rules.md
formulas on counts, never by reading the files back.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.dossiers import DossierPlan
from motcua_dev.generator.scenario import (
    TARGETS,
    LatenessPin,
    SurveyPin,
    round2,
    satisfaction_figures,
    with_target,
)
from motcua_dev.generator.units import Unit
from motcua_dev.generator.variants import FileVariant

if TYPE_CHECKING:
    from motcua_dev.generator.engine import GeneratorConfig
    from motcua_dev.generator.surveys import Cell, CellTally

MANIFEST_VERSION = 1
RECEPTION_KEYS = (
    "received_total",
    "received_online",
    "received_direct",
    "received_postal",
    "withdrawn_or_refused",
    "received_outside_one_stop",
)
CONTACT_KEYS = ("dossiers", "address_present", "phone_valid", "email_valid", "contact_complete")
SUMMABLE = (
    "received_total",
    "received_online",
    "received_direct",
    "received_postal",
    "carried_over",
    "resolved_total",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "in_progress_total",
    "in_progress_on_time",
    "in_progress_overdue",
    "withdrawn_or_refused",
    "late_total",
    "late_without_apology",
    "received_outside_one_stop",
)


def month_periods(start: date, end: date) -> list[tuple[str, date, date, list[int]]]:
    """(type, first day, last day, month keys YYYYMM) of every period touching the range."""
    months: list[int] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append(y * 100 + m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for key in months:
        y, m = divmod(key, 100)
        groups[("month", y, m)].append(key)
        groups[("quarter", y, (m - 1) // 3 * 3 + 1)].append(key)
        groups[("half_year", y, 1 if m <= 6 else 7)].append(key)
        groups[("year", y, 1)].append(key)
    span = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
    out = []
    for (kind, y, m), keys in groups.items():
        first = date(y, m, 1)
        last_month = m + span[kind] - 1
        last = (date(y, last_month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        out.append((kind, first, last, keys))
    order = {"month": 0, "quarter": 1, "half_year": 2, "year": 3}
    out.sort(key=lambda p: (order[p[0]], p[1]))
    return out


def rate(numerator: int, denominator: int) -> float | None:
    return round2(Fraction(100 * numerator, denominator)) if denominator else None


class ManifestBuilder:
    """Collects facts during the run and writes them as one JSON document."""

    def __init__(self, cfg: GeneratorConfig, units: list[Unit]) -> None:
        self.cfg = cfg
        self.units = units
        self.by_code = {u.code: u for u in units}
        self.files: list[dict[str, Any]] = []
        self.communes: dict[str, Counter[str]] = {u.code: Counter() for u in units}
        self.months: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        self.lateness: list[dict[str, Any]] = []
        self.survey_cells: dict[Cell, CellTally] = {}
        self.survey_pins: dict[Cell, SurveyPin] = {}

    # --- collection -------------------------------------------------------------------
    def add_file(
        self,
        relpath: str,
        source: str,
        variant: FileVariant,
        rows: int,
        reasons: Counter[str],
        sha256: str,
        day: date | None = None,
        duplicate_rows: int = 0,
        tie_rows: int = 0,
        optional_columns: list[str] | None = None,
    ) -> None:
        self.files.append(
            {
                "path": relpath,
                "source": source,
                "date": day.isoformat() if day else None,
                "rows": rows,
                "quarantine_rows": sum(reasons.values()),
                "quarantine_by_reason": dict(sorted(reasons.items())),
                "duplicate_rows": duplicate_rows,
                "tie_rows": tie_rows,
                "variant": variant.describe("survey" if source == "survey" else "onestop"),
                "sha256": sha256,
            }
        )
        if optional_columns:  # files without them keep the entry they always had
            self.files[-1]["optional_columns"] = optional_columns

    def finalize_dossier(self, plan: DossierPlan) -> None:
        """Count a dossier whose last event has been written (its final state)."""
        final = plan.events[-1]
        contact = final.tie_contact or final.contact
        channel = cat.CHANNEL_KEYS[plan.channel]
        stats = self.communes[plan.unit.code]
        stats["dossiers"] += 1
        stats[f"status:{final.status}"] += 1
        stats[f"channel:{channel}"] += 1
        stats["pinned_dossiers"] += plan.pinned
        received = plan.received
        month = self.months[(plan.unit.code, received.year * 100 + received.month)]
        for counter in (stats, month):
            counter["received_outside_one_stop"] += plan.place != cat.PLACE_DESK
            counter["address_present"] += contact.address_present
            counter["phone_valid"] += contact.phone_valid
            counter["email_valid"] += contact.email_valid
            counter["contact_complete"] += contact.complete
        month["received_total"] += 1
        month[f"received_{channel}"] += 1
        month["withdrawn_or_refused"] += final.status in cat.TERMINAL_OUT

    def add_pinned_lateness(
        self, pin: LatenessPin, unit: Unit, tally: Counter[str], run_date: date, threshold: float
    ) -> None:
        row = {
            "commune_name": unit.name,
            "district_code": unit.district_code,
            **pin.expected_row(run_date, threshold),
        }
        row["contact"] = {
            "dossiers": tally["contact_dossiers"],
            **{k: tally[k] for k in CONTACT_KEYS[1:]},
        }
        self.lateness.append(row)

    def set_surveys(self, cells: dict[Cell, CellTally], pins: dict[Cell, SurveyPin]) -> None:
        self.survey_cells, self.survey_pins = cells, pins

    # --- output -----------------------------------------------------------------------
    def _commune_section(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for unit in self.units:
            s = self.communes[unit.code]
            out[unit.code] = {
                "name": unit.name,
                "district_code": unit.district_code,
                "dossiers": s["dossiers"],
                "pinned_dossiers": s["pinned_dossiers"],
                "by_status": {st: s[f"status:{st}"] for st in cat.STATUSES},
                "by_channel": {k: s[f"channel:{k}"] for k in cat.CHANNEL_KEYS.values()},
                "received_outside_one_stop": s["received_outside_one_stop"],
                **{k: s[k] for k in CONTACT_KEYS[1:]},
            }
        return out

    def _period_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Reception and contact figures of every commune × period (exact)."""
        received_rows, contact_rows = [], []
        for kind, first, last, keys in month_periods(self.cfg.start, self.cfg.end):
            for unit in self.units:
                total: Counter[str] = Counter()
                for key in keys:
                    total.update(self.months.get((unit.code, key), Counter()))
                head = {
                    "commune_code": unit.code,
                    "commune_name": unit.name,
                    "district_code": unit.district_code,
                    "period_type": kind,
                    "period_start": first.isoformat(),
                    "period_end": last.isoformat(),
                }
                received_rows.append({**head, **{k: total[k] for k in RECEPTION_KEYS}})
                contact: dict[str, Any] = {
                    "dossiers": total["received_total"],
                    **{k: total[k] for k in CONTACT_KEYS[1:]},
                }
                contact["completeness_rate"] = rate(
                    contact["contact_complete"], contact["dossiers"]
                )
                contact_rows.append({**head, **contact})
        return received_rows, contact_rows

    def _district_lateness(self) -> list[dict[str, Any]]:
        """Sums over a district's communes, when every one of them is pinned on the period."""
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.lateness:
            groups[(row["district_code"], row["period_start"], row["period_end"])].append(row)
        out = []
        for (district, start, end), rows in groups.items():
            members = {u.code for u in self.units if u.district_code == district}
            if {r["commune_code"] for r in rows} != members:
                continue
            summed = {k: sum(r[k] for r in rows) for k in SUMMABLE}
            denominator = summed["resolved_total"] + summed["in_progress_total"]
            late_rate = rate(summed["late_total"], denominator)
            district_name = next(u.district_name for u in self.units if u.code in members)
            out.append(
                {
                    "district_code": district,
                    "district_name": district_name,
                    "period_type": rows[0]["period_type"],
                    "period_start": start,
                    "period_end": end,
                    "cutoff": rows[0]["cutoff"],
                    **summed,
                    "late_rate": late_rate,
                    "over_threshold": late_rate is not None
                    and late_rate > self.cfg.scenario.threshold,
                    "communes_over_threshold": sum(r["over_threshold"] for r in rows),
                }
            )
        return out

    def _satisfaction(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        commune_rows: list[dict[str, Any]] = []
        pooled: dict[tuple[str, int, str], dict[str, list[int]]] = {}
        pooled_n: Counter[tuple[str, int, str]] = Counter()
        members: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
        for (code, year, agency), tally in sorted(
            self.survey_cells.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])
        ):
            unit = self.by_code[code]
            row = with_target(satisfaction_figures(tally.counts, tally.responses), year)
            row = {
                "commune_code": code,
                "commune_name": unit.name,
                "district_code": unit.district_code,
                "survey_year": year,
                "agency_type": agency,
                **row,
                "pinned": (code, year, agency) in self.survey_pins,
                "answer_counts": {k: list(v) for k, v in tally.counts.items()},
            }
            commune_rows.append(row)
            key = (unit.district_code, year, agency)
            acc = pooled.setdefault(key, {k: [0] * 6 for k in cat.ELEMENT_KEYS})
            for k, values in tally.counts.items():
                acc[k] = [a + b for a, b in zip(acc[k], values, strict=True)]
            pooled_n[key] += tally.responses
            members[key].append(row)
        district_rows = []
        for key, counts in pooled.items():
            district, year, agency = key
            row = with_target(satisfaction_figures(counts, pooled_n[key]), year)
            target = TARGETS.get(year)
            rows = members[key]
            district_rows.append(
                {
                    "district_code": district,
                    "district_name": next(
                        u.district_name for u in self.units if u.district_code == district
                    ),
                    "survey_year": year,
                    "agency_type": agency,
                    **row,
                    # as the mart counts them: none is below a target that is not set
                    "communes_below_target": 0
                    if target is None
                    else sum(
                        r["satisfaction_index"] is not None and r["satisfaction_index"] < target
                        for r in rows
                    ),
                    "communes_by_rating": dict(Counter(r["rating"] for r in rows)),
                    "communes": len(rows),
                }
            )
        return commune_rows, district_rows

    def _totals(self) -> dict[str, Any]:
        totals: dict[str, Any] = {}
        for source in ("onestop", "survey"):
            files = [f for f in self.files if f["source"] == source]
            reasons: Counter[str] = Counter()
            for f in files:
                reasons.update(f["quarantine_by_reason"])
            totals[source] = {
                "files": len(files),
                "rows": sum(f["rows"] for f in files),
                "quarantine_rows": sum(f["quarantine_rows"] for f in files),
                "quarantine_by_reason": dict(sorted(reasons.items())),
                "duplicate_rows": sum(f["duplicate_rows"] for f in files),
                "tie_rows": sum(f["tie_rows"] for f in files),
            }
        totals["onestop"]["dossiers"] = sum(c["dossiers"] for c in self.communes.values())
        totals["survey"]["responses"] = sum(t.responses for t in self.survey_cells.values())
        return totals

    def build(self) -> dict[str, Any]:
        cfg = self.cfg
        received_rows, contact_rows = self._period_rows()
        commune_sat, district_sat = self._satisfaction()
        return {
            "generator": "motcua_dev.generator",
            "manifest_version": MANIFEST_VERSION,
            "preset": cfg.preset,
            "seed": cfg.seed,
            "start": cfg.start.isoformat(),
            "end": cfg.end.isoformat(),
            "run_date": cfg.effective_run_date.isoformat(),
            "units": [
                {"code": u.code, "name": u.name, "district_code": u.district_code}
                for u in self.units
            ],
            "config": cfg.describe(),
            "totals": self._totals(),
            "files": self.files,
            "communes": self._commune_section(),
            "scenario": cfg.scenario.to_dict(),
            "expected": {
                "threshold": cfg.scenario.threshold,
                "commune_lateness": self.lateness,
                "district_lateness": self._district_lateness(),
                "commune_received": received_rows,
                "commune_contact_completeness": contact_rows,
                "commune_satisfaction": commune_sat,
                "district_satisfaction": district_sat,
            },
            "story": cfg.story,
        }

    def write(self, path: Path) -> dict[str, Any]:
        data = self.build()
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return data
