"""The generator proper: walk the calendar, emit nightly files, record what is known.

Day by day: new dossiers are received (random ones, plus the pinned ones of
the scenario), the events due that day are popped from a heap of open
dossiers, and the night's export files are written (one, sometimes split in
two, plus a ``_bosung`` re-export when rows are re-delivered or corrected).
Nothing but the open dossiers and the current day's rows is held in memory.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.contacts import Contact
from motcua_dev.generator.dossiers import DossierPlan, Event, UnitProfile, random_plan, render
from motcua_dev.generator.invalid import ONESTOP_DEFECTS, JunkMaker, onestop_junk_row
from motcua_dev.generator.manifest import ManifestBuilder
from motcua_dev.generator.optional import OPTIONAL_HEADERS, file_columns, row_values
from motcua_dev.generator.pinning import build_pinned_plans, check_pin
from motcua_dev.generator.scenario import LatenessPin, Scenario, ScenarioError
from motcua_dev.generator.surveys import QualityFn
from motcua_dev.generator.units import Unit, load_units
from motcua_dev.generator.variants import FileVariant, VariantPlanner, style_header
from motcua_dev.generator.workdays import WorkCalendar

# Month factors of the desk's workload (Tết in Jan/Feb, year-end rush).
SEASON = {
    1: 1.1,
    2: 0.75,
    3: 1.0,
    4: 0.95,
    5: 1.0,
    6: 1.0,
    7: 1.05,
    8: 1.0,
    9: 0.95,
    10: 1.0,
    11: 1.05,
    12: 1.2,
}


@dataclass
class GeneratorConfig:
    """Everything a run depends on; the same config and seed give the same bytes."""

    out_dir: Path
    start: date
    end: date
    run_date: date | None = None  # defaults to ``end``
    seed: int = 2114
    units_csv: Path | None = None
    unit_codes: tuple[str, ...] | None = None
    dossiers_per_unit_day: float = 0.4
    invalid_rate: float = 0.01  # junk rows per valid row, one-stop files
    survey_invalid_rate: float = 0.01  # junk rows per response, survey files
    survey_answer_invalid_share: float = 0.03  # invalid answers in random survey cells
    survey_scale: float = 1.0
    surveys: bool = True
    tie_share: float = 0.004  # dossiers whose contact is corrected in a same-timestamp re-export
    split_share: float = 0.03  # nights exported as two files
    redelivery_share: float = 0.03  # nights with a _bosung re-export of some rows
    survey_duplicate_share: float = 0.03
    empty_holiday_files: bool = True  # header-only export on weekday public holidays
    # files from this day on may carry the optional 766 columns (module optional)
    optional_columns_from: date | None = None
    xlsx_max_rows: int = 5000  # larger nights are CSV (openpyxl is ~50x slower per row)
    scenario: Scenario = field(default_factory=Scenario)
    default_profile: UnitProfile = field(default_factory=UnitProfile)
    profiles: dict[str, UnitProfile] = field(default_factory=dict)
    unit_weights: dict[str, float] = field(default_factory=dict)
    survey_quality: QualityFn | None = None
    preset: str = "custom"
    story: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_run_date(self) -> date:
        return self.run_date or self.end

    def profile(self, unit_code: str) -> UnitProfile:
        return self.profiles.get(unit_code, self.default_profile)

    def describe(self) -> dict[str, Any]:
        """The numeric knobs, for the manifest."""
        keys = (
            "dossiers_per_unit_day",
            "invalid_rate",
            "survey_invalid_rate",
            "survey_answer_invalid_share",
            "survey_scale",
            "tie_share",
            "split_share",
            "redelivery_share",
            "survey_duplicate_share",
            "empty_holiday_files",
            "xlsx_max_rows",
        )
        return {k: getattr(self, k) for k in keys}


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def arrange(row: list[str], variant: FileVariant, stt: int, rng: random.Random) -> list[str]:
    """Put a contract-order row into the file's layout, filling the extra columns."""
    out: list[str] = []
    for slot in variant.layout:
        if isinstance(slot, int):
            out.append(row[slot])
        elif slot == "STT":
            out.append(str(stt))
        elif slot == "Ghi chú":
            out.append(rng.choice(cat.NOTES))
        else:
            out.append(rng.choice(cat.OFFICERS))
    return out


def header_of(variant: FileVariant, headers: tuple[str, ...]) -> list[str]:
    return [
        style_header(headers[slot] if isinstance(slot, int) else slot, variant.header_style)
        for slot in variant.layout
    ]


Item = tuple[DossierPlan, Event, Contact]  # (plan, state, contact to write)


class OnestopRun:
    """Generates the ``onestop/`` half of the inbox."""

    def __init__(
        self, cfg: GeneratorConfig, units: list[Unit], cal: WorkCalendar, manifest: ManifestBuilder
    ) -> None:
        self.cfg, self.units, self.cal, self.manifest = cfg, units, cal, manifest
        seed = cfg.seed
        self.planner = VariantPlanner(
            "onestop", random.Random(f"{seed}:variants:onestop"), len(cat.ONESTOP_HEADERS)
        )
        self.file_rng = random.Random(f"{seed}:files:onestop")
        self.junk = JunkMaker(ONESTOP_DEFECTS, random.Random(f"{seed}:junk:onestop"))
        self.birth_rngs = {u.code: random.Random(f"{seed}:births:{u.code}") for u in units}
        self.heap: list[tuple[datetime, int, DossierPlan]] = []
        self.seq = 0
        self.pins: dict[str, LatenessPin] = {p.commune_code: p for p in cfg.scenario.lateness}
        self.pinned_by_day: dict[date, list[DossierPlan]] = defaultdict(list)
        self.weights = {u.code: cfg.unit_weights.get(u.code, 1.0) for u in units}

    # --- scenario ---------------------------------------------------------------------
    def build_pins(self) -> None:
        """Create and verify every pinned dossier before the first day is written."""
        by_code = {u.code: u for u in self.units}
        run_date = self.cfg.effective_run_date
        for pin in self.cfg.scenario.lateness:
            unit = by_code[pin.commune_code]
            rng = random.Random(f"{self.cfg.seed}:pin:{pin.commune_code}:{pin.period_start}")
            plans = build_pinned_plans(
                pin,
                unit,
                self.cal,
                rng,
                self.cfg.start,
                self.cfg.end,
                run_date,
                self.cfg.profile(unit.code),
            )
            tally = check_pin(pin, plans, run_date)
            self.manifest.add_pinned_lateness(
                pin, unit, tally, run_date, self.cfg.scenario.threshold
            )
            for plan in plans:
                self.pinned_by_day[plan.received.date()].append(plan)

    # --- the calendar walk ------------------------------------------------------------
    def run(self) -> None:
        self.build_pins()
        day = self.cfg.start
        while day <= self.cfg.end:
            if self.cal.is_working(day):
                self._receive(day)
            items = self._pop_day(day)
            if items:
                self._write_night(day, items)
            elif self.cfg.empty_holiday_files and day.weekday() < 5 and day in self.cal.holidays:
                self._write_file(f"hoso_{day:%Y%m%d}", day, [])
            day += timedelta(days=1)
        if self.pinned_by_day:
            raise ScenarioError("pinned dossiers outside the generated range")

    def _receive(self, day: date) -> None:
        """New dossiers of ``day``: random ones per unit, then the pinned ones; codes; heap."""
        born: list[DossierPlan] = []
        cfg = self.cfg
        for unit in self.units:
            pin = self.pins.get(unit.code)
            close_before = None
            if pin is not None:
                if pin.period_start <= day <= pin.period_end:
                    continue  # the scenario owns this commune in its period
                if day < pin.period_start:
                    close_before = pin.period_start
            rng = self.birth_rngs[unit.code]
            mean = cfg.dossiers_per_unit_day * self.weights[unit.code] * SEASON[day.month]
            profile = cfg.profile(unit.code)
            for _ in range(poisson(rng, mean)):
                born.append(
                    random_plan(
                        rng, unit, day, self.cal, cfg.end, profile, close_before, cfg.tie_share
                    )
                )
        born += self.pinned_by_day.pop(day, [])
        born.sort(key=lambda p: (p.unit.code, p.received))
        serial: Counter[str] = Counter()
        stamp = f"{day:%y%m%d}"
        for plan in born:
            serial[plan.unit.code] += 1
            plan.code = f"{plan.unit.code}-{stamp}-{serial[plan.unit.code]:04d}"
            self._push(plan)

    def _push(self, plan: DossierPlan) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (plan.events[plan.next_event].at, self.seq, plan))

    def _pop_day(self, day: date) -> list[tuple[DossierPlan, Event]]:
        """Apply the day's events; one entry per dossier, its last state of the day."""
        latest: dict[str, tuple[DossierPlan, Event]] = {}
        heap = self.heap
        while heap and heap[0][0].date() <= day:
            _, _, plan = heapq.heappop(heap)
            event = plan.events[plan.next_event]
            plan.next_event += 1
            latest[plan.code] = (plan, event)
            if plan.next_event < len(plan.events):
                self._push(plan)
            else:
                self.manifest.finalize_dossier(plan)
        return sorted(latest.values(), key=lambda pe: (pe[1].at, pe[0].code))

    # --- files ------------------------------------------------------------------------
    def _write_night(self, day: date, entries: list[tuple[DossierPlan, Event]]) -> None:
        """The night's export: one file or two parts, and maybe a later ``_bosung`` file."""
        rng = self.file_rng
        base = f"hoso_{day:%Y%m%d}"
        items: list[Item] = [(p, e, e.contact) for p, e in entries]
        if len(items) >= 4 and rng.random() < self.cfg.split_share:
            flags = [rng.random() < 0.5 for _ in items]
            self._write_file(f"{base}_1", day, [i for i, f in zip(items, flags, strict=True) if f])
            self._write_file(
                f"{base}_2", day, [i for i, f in zip(items, flags, strict=True) if not f]
            )
        else:
            self._write_file(base, day, items)
        ties: list[Item] = [(p, e, e.tie_contact) for p, e in entries if e.tie_contact is not None]
        redeliver: list[Item] = []
        if rng.random() < self.cfg.redelivery_share:
            plain = [i for i in items if i[1].tie_contact is None]
            redeliver = rng.sample(plain, min(len(plain), max(1, len(plain) // 25)))
        if ties or redeliver:
            extra = sorted(ties + redeliver, key=lambda i: (i[1].at, i[0].code))
            self._write_file(
                f"{base}_bosung", day, extra, duplicates=len(redeliver), ties=len(ties)
            )

    def _write_file(
        self, name: str, day: date, items: list[Item], duplicates: int = 0, ties: int = 0
    ) -> None:
        """One export file with ``items`` and its share of junk rows, recorded in the manifest."""
        from motcua_dev.generator.writers import TableWriter

        rng = self.file_rng
        junk = self.junk.count_for(len(items), self.cfg.invalid_rate) if items else 0
        total = len(items) + junk
        variant = self.planner.next(allow_xlsx=total <= self.cfg.xlsx_max_rows)
        junk_at = set(rng.sample(range(total), junk))
        reasons: Counter[str] = Counter()
        relpath = f"onestop/{name}.{variant.extension}"
        stamp = datetime.combine(day, time(23, 30))
        feed = iter(items)
        profile = self.cfg.default_profile
        seed = self.cfg.seed
        # after the layout: the variants' random stream does not see them
        optional = file_columns(seed, name, day, self.cfg.optional_columns_from, len(items))
        header = header_of(variant, cat.ONESTOP_HEADERS) + [
            style_header(OPTIONAL_HEADERS[i], variant.header_style) for i in optional
        ]
        with TableWriter(self.cfg.out_dir / relpath, header, variant, stamp) as writer:
            for n in range(total):
                if n in junk_at:
                    kind = self.junk.next_kind()
                    reasons[kind] += 1
                    row = onestop_junk_row(self.junk, kind, self.units, day, variant, profile)
                    values = [""] * len(OPTIONAL_HEADERS)
                else:
                    plan, event, contact = next(feed)
                    row = render(plan, event, contact, variant)
                    values = row_values(seed, plan, event) if optional else []
                writer.write(arrange(row, variant, n + 1, rng) + [values[i] for i in optional])
            sha = writer.close()
        self.manifest.add_file(
            relpath,
            "onestop",
            variant,
            total,
            reasons,
            sha,
            day=day,
            duplicate_rows=duplicates,
            tie_rows=ties,
            optional_columns=[OPTIONAL_HEADERS[i] for i in optional],
        )


def generate(cfg: GeneratorConfig) -> dict[str, Any]:
    """Write the whole inbox under ``cfg.out_dir`` and its ``manifest.json``; return it."""
    from motcua_dev.generator.survey_run import run_surveys

    if cfg.end < cfg.start:
        raise ValueError("end is before start")
    if cfg.run_date is not None and cfg.run_date < cfg.end:
        raise ValueError("run_date must not be before the last generated day")
    units = load_units(cfg.units_csv, cfg.unit_codes)
    if not units:
        raise ValueError("no units to generate for")
    cfg.scenario.validate({u.code for u in units})
    cal = WorkCalendar(cfg.start, cfg.end)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = ManifestBuilder(cfg, units)
    OnestopRun(cfg, units, cal, manifest).run()
    if cfg.surveys:
        run_surveys(cfg, units, cal, manifest)
    return manifest.write(cfg.out_dir / "manifest.json")
