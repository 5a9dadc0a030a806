"""Satisfaction survey rounds (SIPAS style): one row per questionnaire.

Each year in range has up to two rounds; each round writes one file per
agency (UBND, Trạm y tế, Trường học). Pinned cells get exactly the answer
counts of their ``SurveyPin`` (spread over the year's rounds); other cells
draw answers around a quality level. A ``bosung`` file re-delivers some
responses already sent (same ids: one response) and every file may carry
junk rows (unknown unit, bad year). The answer counts per cell, after
de-duplication, are returned for the manifest.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.scenario import ScenarioError, SurveyPin
from motcua_dev.generator.units import Unit
from motcua_dev.generator.workdays import WorkCalendar

Cell = tuple[str, int, str]  # (commune code, year, agency)
Answer = int | str  # 1..5, or the literal text of an invalid answer

# (round number, first (month, day), last (month, day)) of the survey windows.
ROUNDS: tuple[tuple[int, tuple[int, int], tuple[int, int]], ...] = (
    (1, (3, 1), (4, 15)),
    (2, (9, 15), (10, 31)),
)
# per agency, in the vocabulary's order (UBND, Trạm y tế, Trường học)
AGENCY_ID_CODES: dict[str, str] = dict(zip(cat.AGENCIES, ("UB", "YT", "TH"), strict=True))
RESPONSES_PER_ROUND: dict[str, tuple[int, int]] = dict(
    zip(cat.AGENCIES, ((32, 44), (10, 19), (9, 17)), strict=True)
)


@dataclass
class SurveyResponse:
    """One questionnaire; answers are ints 1–5 or the invalid token written."""

    response_id: str
    cell: Cell
    survey_date: date
    answers: list[Answer]
    dossier_code: str = ""
    comment: str = ""

    def values(self, style: str, rng: random.Random) -> list[str]:
        """The contract row; ``style`` is numbers / labels / mixed."""
        commune, year, agency = self.cell
        texts = [_answer_text(a, style, rng) for a in self.answers]
        return [
            self.response_id,
            str(year),
            commune,
            agency,
            f"{self.survey_date.day:02d}/{self.survey_date.month:02d}/{self.survey_date.year}",
            *texts,
            self.dossier_code,
            self.comment,
        ]


def _answer_text(answer: Answer, style: str, rng: random.Random) -> str:
    if isinstance(answer, str):
        return answer
    if style == "labels" or (style == "mixed" and rng.random() < 0.5):
        return cat.ANSWER_LABELS[answer]
    return str(answer)


@dataclass
class SurveyRound:
    year: int
    number: int
    first: date
    last: date


def survey_rounds(start: date, end: date) -> list[SurveyRound]:
    """Rounds of the years ``start``..``end`` whose window is over by ``end``."""
    rounds: list[SurveyRound] = []
    for year in range(start.year, end.year + 1):
        for number, (m1, d1), (m2, d2) in ROUNDS:
            window = SurveyRound(year, number, date(year, m1, d1), date(year, m2, d2))
            if window.last <= end:
                rounds.append(window)
    return rounds


@dataclass
class CellTally:
    """Answer counts of one cell: per element (invalid, n1..n5) and responses."""

    counts: dict[str, list[int]] = field(
        default_factory=lambda: {k: [0] * 6 for k in cat.ELEMENT_KEYS}
    )
    responses: int = 0

    def add(self, answers: list[Answer]) -> None:
        self.responses += 1
        for key, answer in zip(cat.ELEMENT_KEYS, answers, strict=True):
            self.counts[key][answer if isinstance(answer, int) else 0] += 1


def pinned_answers(pin: SurveyPin, rng: random.Random) -> list[list[Answer]]:
    """Rows whose per-element counts are exactly the pin's; none without a valid answer.

    Invalid answers go to consecutive positions of one shuffled cycle of rows,
    so no row collects more than four of them.
    """
    n = pin.responses
    order = list(range(n))
    rng.shuffle(order)
    rows: list[list[Answer]] = [[0] * 5 for _ in range(n)]
    position = 0
    for e, key in enumerate(cat.ELEMENT_KEYS):
        invalid, *per_value = pin.counts[key]
        bad_rows = {order[(position + i) % n] for i in range(invalid)}
        position = (position + invalid) % n if n else 0
        values = [v for v, c in enumerate(per_value, start=1) for _ in range(c)]
        rng.shuffle(values)
        feed = iter(values)
        for r in range(n):
            rows[r][e] = rng.choice(cat.INVALID_ANSWERS) if r in bad_rows else next(feed)
    rng.shuffle(rows)
    return rows


def random_answers(rng: random.Random, quality: float, invalid_share: float) -> list[Answer]:
    """Five answers around ``quality`` (share of 4/5), at least one of them valid."""
    weights = (
        (1 - quality) * 0.12,
        (1 - quality) * 0.33,
        (1 - quality) * 0.55,
        quality * 0.62,
        quality * 0.38,
    )
    answers: list[Answer] = []
    for _ in cat.ELEMENT_KEYS:
        if rng.random() < invalid_share:
            answers.append(rng.choice(cat.INVALID_ANSWERS))
        else:
            answers.append(rng.choices((1, 2, 3, 4, 5), weights)[0])
    if not any(isinstance(a, int) for a in answers):
        answers[rng.randrange(5)] = rng.choices((1, 2, 3, 4, 5), weights)[0]
    return answers


QualityFn = Callable[[str, int, str], float]


class SurveyPlanner:
    """Decides every response of every round, cell by cell (small: kept in memory)."""

    def __init__(
        self,
        units: list[Unit],
        cal: WorkCalendar,
        rounds: list[SurveyRound],
        pins: tuple[SurveyPin, ...],
        quality: QualityFn,
        seed: int,
        scale: float,
        invalid_share: float,
    ) -> None:
        self.units, self.cal, self.rounds = units, cal, rounds
        self.pins = {(p.commune_code, p.year, p.agency): p for p in pins}
        self.quality, self.seed, self.scale = quality, seed, scale
        self.invalid_share = invalid_share
        years = {r.year for r in rounds}
        for cell in self.pins:
            if cell[1] not in years:
                raise ScenarioError(f"survey pin {cell}: no survey round of that year in range")

    def responses_for(self, rnd: SurveyRound, agency: str) -> list[SurveyResponse]:
        """All responses of one round for one agency, commune by commune."""
        out: list[SurveyResponse] = []
        for unit in self.units:
            cell = (unit.code, rnd.year, agency)
            rng = random.Random(f"{self.seed}:survey:{unit.code}:{rnd.year}:{rnd.number}:{agency}")
            answers = self._answers(cell, rnd, rng)
            for n, row in enumerate(answers, start=1):
                out.append(self._response(cell, rnd, n, row, rng))
        return out

    def _answers(self, cell: Cell, rnd: SurveyRound, rng: random.Random) -> list[list[Answer]]:
        pin = self.pins.get(cell)
        if pin is not None:
            year_rounds = [r.number for r in self.rounds if r.year == rnd.year]
            pin_rng = random.Random(f"{self.seed}:survey-pin:{cell}")
            rows = pinned_answers(pin, pin_rng)
            share, extra = divmod(len(rows), len(year_rounds))
            index = year_rounds.index(rnd.number)
            first = index * share + min(index, extra)
            return rows[first : first + share + (index < extra)]
        low, high = RESPONSES_PER_ROUND[cell[2]]
        n = max(1, round(rng.randint(low, high) * self.scale))
        q = self.quality(*cell)
        return [random_answers(rng, q, self.invalid_share) for _ in range(n)]

    def _response(
        self, cell: Cell, rnd: SurveyRound, n: int, answers: list[Answer], rng: random.Random
    ) -> SurveyResponse:
        commune, year, agency = cell
        day = rng.choice(self.cal.between(rnd.first, rnd.last))
        dossier = ""
        if agency == cat.AGENCY_UBND and rng.random() < 0.4:
            visited = self.cal.add(day, -rng.randint(1, 40))
            dossier = f"{commune}-{visited:%y%m%d}-{rng.randint(1, 40):04d}"
        comment = rng.choice(cat.SURVEY_COMMENTS) if rng.random() < 0.25 else ""
        slug = AGENCY_ID_CODES[agency]
        rid = f"KS{year}-D{rnd.number}-{commune}-{slug}-{n:03d}"
        return SurveyResponse(rid, cell, day, answers, dossier, comment)
