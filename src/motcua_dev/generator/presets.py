"""The two ready-made inboxes: ``sample`` (the letter's story) and ``small`` (e2e tests).

``sample``: the 27 units of Ninh Hòa, 1 Jan 2016 → 14 Jul 2017 (run date
14/07/2017, the date of letter 2114/UBND). In H1 2017 exactly the seven
communes the letter names are over the 10 % late threshold, Ninh Đa sits
at exactly 10.00 % (not over), the rest below. The 2016 town UBND index is
72.12 (target 75) with Ninh Tây, Ninh Thượng and Ninh Hưng in ``Trung bình``;
2017 round 1 improves (75.50, target 77) with Ninh Tây and Ninh Hưng still
``Trung bình``. All of it is pinned, so the manifest states the figures.

``small``: four communes, Dec 2016 → 28 Apr 2017, every format variant, a
hand-written scenario (Q1 2017 and the run month April 2017) whose mart
figures are easy to check by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from motcua_dev.generator.catalog import AGENCY_UBND, ELEMENT_KEYS
from motcua_dev.generator.contacts import ContactProfile
from motcua_dev.generator.dossiers import UnitProfile
from motcua_dev.generator.engine import GeneratorConfig
from motcua_dev.generator.scenario import (
    RATING_BANDS,
    TARGETS,
    LatenessPin,
    Scenario,
    SurveyPin,
    rating_band,
    round2,
)
from motcua_dev.generator.units import load_units

SAMPLE_SEED = 2114
SMALL_SEED = 7

# --- sample: H1 2017 lateness ---------------------------------------------------------------
H1_2017 = (date(2017, 1, 1), date(2017, 6, 30))
LETTER_SEVEN = ("22567", "22561", "22546", "22597", "22549", "22534", "22552")
EXACTLY_TEN = "22570"  # Phường Ninh Đa: 7 late of 70 -> 10.00 %, not over the threshold
# commune -> (dossiers resolved or in progress in H1 2017, of which late)
H1_TABLE: dict[str, tuple[int, int]] = {
    "22528": (84, 4),
    "22531": (38, 2),
    "22534": (50, 8),
    "22537": (35, 3),
    "22540": (46, 2),
    "22543": (55, 3),
    "22546": (40, 5),
    "22549": (36, 4),
    "22552": (44, 5),
    "22555": (42, 1),
    "22558": (40, 2),
    "22561": (52, 7),
    "22564": (39, 3),
    "22567": (48, 6),
    "22570": (70, 7),
    "22573": (44, 2),
    "22576": (47, 0),
    "22579": (36, 1),
    "22582": (43, 2),
    "22585": (30, 1),
    "22588": (41, 2),
    "22591": (58, 5),
    "22594": (60, 3),
    "22597": (45, 9),
    "22600": (51, 5),
    "22603": (49, 2),
    "22606": (25, 1),
}


def h1_pin(code: str, active: int, late: int) -> LatenessPin:
    """A plausible outcome split of ``active`` dossiers with exactly ``late`` late ones."""
    named = code in LETTER_SEVEN
    in_progress = max(2, round(active * 0.08))
    overdue = min(round(late * 0.3), in_progress)
    resolved = active - in_progress
    resolved_late = late - overdue
    early = round((resolved - resolved_late) * 0.35)
    withdrawn = 1 + active // 30
    carried = round(active * 0.06)
    received = active - carried + withdrawn
    return LatenessPin(
        commune_code=code,
        period_start=H1_2017[0],
        period_end=H1_2017[1],
        resolved_early=early,
        resolved_on_time=resolved - resolved_late - early,
        resolved_late=resolved_late,
        in_progress_on_time=in_progress - overdue,
        in_progress_overdue=overdue,
        withdrawn_or_refused=withdrawn,
        carried_over=carried,
        received_online=round(received * 0.08),
        received_postal=round(received * 0.04),
        late_with_apology=round(late * (0.4 if named else 0.6)),
        received_outside_one_stop=round(received * (0.09 if named else 0.03)),
    )


# --- sample: UBND satisfaction --------------------------------------------------------------
# Element offsets around a commune's index: procedures worst, results best (sum 0).
ELEMENT_OFFSET = {"access": 3.0, "procedure": -4.5, "staff": -1.0, "result": 4.5, "feedback": -2.0}
UBND_2016: dict[str, float] = {
    "22528": 82.0,
    "22531": 71.5,
    "22534": 61.0,
    "22537": 64.0,
    "22540": 73.0,
    "22543": 76.0,
    "22546": 70.8,
    "22549": 71.2,
    "22552": 70.9,
    "22555": 74.0,
    "22558": 72.5,
    "22561": 71.0,
    "22564": 73.5,
    "22567": 71.8,
    "22570": 75.5,
    "22573": 72.0,
    "22576": 74.5,
    "22579": 71.4,
    "22582": 72.8,
    "22585": 70.7,
    "22588": 73.2,
    "22591": 77.0,
    "22594": 81.0,
    "22597": 58.0,
    "22600": 71.6,
    "22603": 72.2,
    "22606": 80.6,
}
TOWN_UBND_2016 = Fraction(7212, 100)
TOWN_UBND_2017 = Fraction(7550, 100)
STILL_AVERAGE_2017 = ("22534", "22597")  # Ninh Tây, Ninh Hưng stay "Trung bình" in 2017
TRUNG_BINH_2016 = ("22534", "22537", "22597")


def _ubnd_targets_2017() -> dict[str, float]:
    out = {}
    for code, value in UBND_2016.items():
        if code in STILL_AVERAGE_2017:
            out[code] = value + 4.0
        elif code == "22537":
            out[code] = 71.5  # Ninh Thượng climbs to "Khá"
        else:
            out[code] = min(value + 3.5, 86.0)
    return out


def _survey_counts(
    code: str, responses: int, target: float, invalid_every: int
) -> dict[str, list[int]]:
    """(invalid, satisfied) per element around ``target``; refined later to counts."""
    counts = {}
    for i, key in enumerate(ELEMENT_KEYS):
        invalid = (responses + i + int(code)) // invalid_every % 3
        valid = responses - invalid
        counts[key] = [invalid, round((target + ELEMENT_OFFSET[key]) / 100 * valid)]
    return counts


def _pooled_index(cells: dict[str, dict[str, list[int]]], responses: dict[str, int]) -> Fraction:
    total = Fraction(0)
    for key in ELEMENT_KEYS:
        satisfied = sum(c[key][1] for c in cells.values())
        valid = sum(responses[code] - c[key][0] for code, c in cells.items())
        total += Fraction(100 * satisfied, valid)
    return total / len(ELEMENT_KEYS)


def _cell_index(cell: dict[str, list[int]], responses: int) -> Fraction:
    return sum(
        (Fraction(100 * cell[k][1], responses - cell[k][0]) for k in ELEMENT_KEYS), Fraction(0)
    ) / len(ELEMENT_KEYS)


BOUND_MARGIN = Fraction(1, 10)


def _near_bound(index: Fraction, year: int) -> bool:
    """Within 0.1 of a band bound or the year's target: rounding could flip the verdict."""
    bounds = [Fraction(b) for _, b in RATING_BANDS] + [Fraction(TARGETS.get(year, 0))]
    return any(abs(index - b) < BOUND_MARGIN for b in bounds)


def _nudge(cell: dict[str, list[int]], responses: int, key: str, delta: int) -> bool:
    """Add ``delta`` satisfied answers to one element if the counts allow it."""
    value = cell[key][1] + delta
    if 0 <= value <= responses - cell[key][0]:
        cell[key][1] = value
        return True
    return False


def _clear_bounds(
    cells: dict[str, dict[str, list[int]]], responses: dict[str, int], year: int
) -> None:
    """Push every commune index at least 0.1 away from band bounds and the target."""
    for code in sorted(cells):
        step = 0
        while _near_bound(_cell_index(cells[code], responses[code]), year):
            _nudge(cells[code], responses[code], ELEMENT_KEYS[step % len(ELEMENT_KEYS)], 1)
            step += 1


def _balance(
    cells: dict[str, dict[str, list[int]]],
    responses: dict[str, int],
    goal: Fraction,
    frozen: set[str],
    year: int,
) -> None:
    """Move single satisfied answers until the pooled index rounds to ``goal``.

    Only communes not in ``frozen`` are touched, one answer at a time and in
    a fixed order; a move that changes a commune's band or brings it near a
    bound is undone.
    """
    movable = sorted(c for c in cells if c not in frozen)
    step = 0
    while round2(_pooled_index(cells, responses)) != float(goal):
        delta = 1 if _pooled_index(cells, responses) < goal else -1
        code = movable[step % len(movable)]
        key = ELEMENT_KEYS[step // len(movable) % len(ELEMENT_KEYS)]
        step += 1
        cell, n = cells[code], responses[code]
        before = rating_band(_cell_index(cell, n))
        if not _nudge(cell, n, key, delta):
            continue
        index = _cell_index(cell, n)
        if rating_band(index) != before or _near_bound(index, year):
            _nudge(cell, n, key, -delta)
        if step > 100_000:
            raise RuntimeError("cannot balance the pooled survey index")


def ubnd_pins(
    year: int,
    targets: dict[str, float],
    goal: Fraction,
    frozen: tuple[str, ...],
    sizes: dict[str, int],
) -> list[SurveyPin]:
    """UBND survey pins of all communes, pooled index rounding exactly to ``goal``."""
    cells = {code: _survey_counts(code, sizes[code], t, 23) for code, t in targets.items()}
    _clear_bounds(cells, sizes, year)
    _balance(cells, sizes, goal, set(frozen), year)
    return [
        SurveyPin.from_satisfied(
            code,
            year,
            AGENCY_UBND,
            sizes[code],
            satisfied={k: cell[k][1] for k in ELEMENT_KEYS},
            invalid={k: cell[k][0] for k in ELEMENT_KEYS},
        )
        for code, cell in cells.items()
    ]


def _sample_profiles(codes: list[str]) -> dict[str, UnitProfile]:
    """Background behaviour: the letter's seven are late more often, all year round."""
    profiles = {}
    for code in codes:
        late = 0.13 if code in LETTER_SEVEN else 0.09 if code == EXACTLY_TEN else 0.045
        contact = ContactProfile(
            address_ok=0.8 + (int(code) % 7) * 0.02,
            phone_ok=0.5 + (int(code) % 5) * 0.06,
            email_ok=0.06 + (int(code) % 4) * 0.03,
        )
        profiles[code] = UnitProfile(
            late_share=late, contact=contact, outside_share=0.08 if code in LETTER_SEVEN else 0.03
        )
    return profiles


def sample_scenario(codes: list[str]) -> Scenario:
    sizes_2016 = {c: 62 + int(c) % 23 for c in codes}
    sizes_2017 = {c: 34 + int(c) % 11 for c in codes}
    surveys = ubnd_pins(2016, UBND_2016, TOWN_UBND_2016, TRUNG_BINH_2016, sizes_2016)
    surveys += ubnd_pins(
        2017, _ubnd_targets_2017(), TOWN_UBND_2017, ("22534", "22537", "22597"), sizes_2017
    )
    return Scenario(
        name="cong-van-2114",
        description="Letter 2114/UBND (14/07/2017): H1 2017 lateness and 2016-2017 "
        "UBND satisfaction of the 27 Ninh Hòa units",
        lateness=tuple(h1_pin(code, *H1_TABLE[code]) for code in codes),
        surveys=tuple(surveys),
    )


def sample_story(scenario: Scenario) -> dict[str, Any]:
    """Human-readable summary of what the sample is built to show."""
    units = {u.code: u.name for u in load_units()}
    over = [p.commune_code for p in scenario.lateness if (p.late_rate() or 0) > 10]
    return {
        "letter": "Công văn 2114/UBND, UBND thị xã Ninh Hòa, 14/07/2017",
        "h1_2017": {
            "period_start": H1_2017[0].isoformat(),
            "period_end": H1_2017[1].isoformat(),
            "over_threshold": over,
            "over_threshold_names": [units[c] for c in over],
            "exactly_threshold": {
                "commune_code": EXACTLY_TEN,
                "commune_name": units[EXACTLY_TEN],
                "late_rate": 10.0,
            },
        },
        "satisfaction_ubnd": {
            "2016": {
                "town_index": float(TOWN_UBND_2016),
                "target": 75,
                "trung_binh": [units[c] for c in TRUNG_BINH_2016],
            },
            "2017": {
                "town_index": float(TOWN_UBND_2017),
                "target": 77,
                "trung_binh": [units[c] for c in STILL_AVERAGE_2017],
            },
        },
    }


def sample_config(out_dir: Path, seed: int | None = None) -> GeneratorConfig:
    """The default sample: the story of letter 2114/UBND."""
    codes = [u.code for u in load_units()]
    scenario = sample_scenario(codes)
    weights = {u.code: 1.3 if u.is_ward else 0.85 + (int(u.code) % 5) * 0.05 for u in load_units()}
    return GeneratorConfig(
        out_dir=out_dir,
        start=date(2016, 1, 1),
        end=date(2017, 7, 14),
        run_date=date(2017, 7, 14),
        seed=SAMPLE_SEED if seed is None else seed,
        dossiers_per_unit_day=0.45,
        invalid_rate=0.01,
        survey_invalid_rate=0.01,
        scenario=scenario,
        profiles=_sample_profiles(codes),
        unit_weights=weights,
        preset="sample",
        optional_columns_from=date(2017, 1, 1),
        story=sample_story(scenario),
    )


# --- small ----------------------------------------------------------------------------------
SMALL_UNITS = ("22528", "22534", "22570", "22597")
Q1_2017 = (date(2017, 1, 1), date(2017, 3, 31))
APRIL_2017 = (date(2017, 4, 1), date(2017, 4, 30))


def small_scenario() -> Scenario:
    """Hand-checkable pins: 10.00 % not over, 16.00 % over, 0.00 %, and a run-month period."""
    lateness = (
        LatenessPin(
            "22570",
            *Q1_2017,
            resolved_early=9,
            resolved_on_time=15,
            resolved_late=2,
            in_progress_on_time=3,
            in_progress_overdue=1,
            withdrawn_or_refused=2,
            carried_over=3,
            received_online=3,
            received_postal=1,
            late_with_apology=1,
            received_outside_one_stop=1,
        ),
        LatenessPin(
            "22534",
            *Q1_2017,
            resolved_early=5,
            resolved_on_time=12,
            resolved_late=3,
            in_progress_on_time=4,
            in_progress_overdue=1,
            withdrawn_or_refused=1,
            carried_over=2,
            received_online=1,
            late_with_apology=1,
            received_outside_one_stop=3,
        ),
        LatenessPin(
            "22597",
            *Q1_2017,
            resolved_early=6,
            resolved_on_time=12,
            in_progress_on_time=2,
            received_online=2,
            received_postal=1,
        ),
        LatenessPin(
            "22528",
            *APRIL_2017,
            resolved_early=6,
            resolved_on_time=9,
            resolved_late=1,
            in_progress_on_time=6,
            in_progress_overdue=2,
            withdrawn_or_refused=1,
            carried_over=4,
            received_online=2,
            received_postal=1,
            late_with_apology=2,
            received_outside_one_stop=2,
        ),
    )
    surveys = (
        # Ninh Đa 2016: 40 responses -> idx 75.00 / 63.16 / 80.00 / 79.49 / 60.00 -> 71.53 Khá
        SurveyPin(
            "22570",
            2016,
            AGENCY_UBND,
            {
                "access": (0, 1, 3, 6, 20, 10),
                "procedure": (2, 2, 4, 8, 16, 8),
                "staff": (0, 0, 2, 6, 22, 10),
                "result": (1, 1, 2, 5, 21, 10),
                "feedback": (0, 2, 4, 10, 16, 8),
            },
        ),
        # Ninh Tây 2016: 36 responses, every element 22/36 satisfied -> 61.11 Trung bình
        SurveyPin("22534", 2016, AGENCY_UBND, {k: (0, 2, 4, 8, 14, 8) for k in ELEMENT_KEYS}),
        # Ninh Tây 2017: 24 responses (< 30: not reliable), 18/24 -> 75.00 Khá, below 77
        SurveyPin("22534", 2017, AGENCY_UBND, {k: (0, 0, 2, 4, 12, 6) for k in ELEMENT_KEYS}),
        # Ninh Hưng 2017: feedback has no valid answer -> mean of four: 80.00 Tốt, meets 77
        SurveyPin(
            "22597",
            2017,
            AGENCY_UBND,
            {
                **{k: (0, 1, 1, 6, 22, 10) for k in ELEMENT_KEYS[:4]},
                "feedback": (40, 0, 0, 0, 0, 0),
            },
        ),
    )
    return Scenario(
        name="small-e2e",
        description="End-to-end test inbox: 4 communes",
        lateness=lateness,
        surveys=surveys,
    )


def small_config(out_dir: Path, seed: int | None = None) -> GeneratorConfig:
    """A small inbox with every variant and a generous share of every kind of noise."""
    base = UnitProfile()
    return GeneratorConfig(
        out_dir=out_dir,
        start=date(2016, 12, 1),
        end=date(2017, 4, 28),
        run_date=date(2017, 4, 28),
        seed=SMALL_SEED if seed is None else seed,
        unit_codes=SMALL_UNITS,
        dossiers_per_unit_day=1.2,
        invalid_rate=0.03,
        survey_invalid_rate=0.03,
        survey_scale=0.6,
        tie_share=0.02,
        split_share=0.08,
        redelivery_share=0.08,
        scenario=small_scenario(),
        default_profile=replace(base, late_share=0.08),
        preset="small",
        optional_columns_from=date(2017, 1, 1),
        story={"note": "see expected.commune_lateness and expected.commune_satisfaction"},
    )
