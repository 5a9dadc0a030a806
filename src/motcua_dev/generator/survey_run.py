"""Write the ``survey/`` half of the inbox and hand the answer tallies to the manifest."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, time
from typing import TYPE_CHECKING

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.invalid import SURVEY_DEFECTS, JunkMaker, survey_junk_row
from motcua_dev.generator.manifest import ManifestBuilder
from motcua_dev.generator.surveys import (
    Cell,
    CellTally,
    SurveyPlanner,
    SurveyResponse,
    SurveyRound,
    survey_rounds,
)
from motcua_dev.generator.units import Unit
from motcua_dev.generator.variants import VariantPlanner
from motcua_dev.generator.workdays import WorkCalendar
from motcua_dev.generator.writers import TableWriter

if TYPE_CHECKING:
    from motcua_dev.generator.engine import GeneratorConfig


def default_quality(code: str, year: int, agency: str) -> float:
    """Share of satisfied answers when a preset says nothing: fair, a bit better each year."""
    base = dict(zip(cat.AGENCIES, (0.72, 0.76, 0.80), strict=True))[agency]
    jitter = random.Random(f"quality:{code}:{agency}").uniform(-0.08, 0.08)
    return min(0.95, max(0.3, base + jitter + 0.015 * (year - 2016)))


class SurveyRun:
    """Generates every survey round file, the re-deliveries and the junk rows."""

    def __init__(
        self, cfg: GeneratorConfig, units: list[Unit], cal: WorkCalendar, manifest: ManifestBuilder
    ) -> None:
        self.cfg, self.units, self.manifest = cfg, units, manifest
        seed = cfg.seed
        self.rounds = survey_rounds(cfg.start, cfg.end)
        self.planner = SurveyPlanner(
            units,
            cal,
            self.rounds,
            cfg.scenario.surveys,
            cfg.survey_quality or default_quality,
            seed,
            cfg.survey_scale,
            cfg.survey_answer_invalid_share,
        )
        self.variants = VariantPlanner(
            "survey", random.Random(f"{seed}:variants:survey"), len(cat.SURVEY_HEADERS)
        )
        self.junk = JunkMaker(SURVEY_DEFECTS, random.Random(f"{seed}:junk:survey"))
        self.rng = random.Random(f"{seed}:files:survey")
        self.tallies: dict[Cell, CellTally] = {}

    def run(self) -> None:
        for rnd in self.rounds:
            sent: list[SurveyResponse] = []
            for agency in cat.AGENCIES:
                responses = self.planner.responses_for(rnd, agency)
                for response in responses:
                    self.tallies.setdefault(response.cell, CellTally()).add(response.answers)
                name = f"khaosat_{rnd.year}_dot{rnd.number}_{cat.AGENCY_SLUGS[agency]}"
                self._write(name, rnd, responses)
                sent += responses
            if sent:
                k = max(1, round(len(sent) * self.cfg.survey_duplicate_share))
                again = sorted(self.rng.sample(range(len(sent)), k))
                self._write(
                    f"khaosat_{rnd.year}_dot{rnd.number}_bosung",
                    rnd,
                    [sent[i] for i in again],
                    duplicates=k,
                )
        self._check_pins()
        self.manifest.set_surveys(self.tallies, self.planner.pins)

    def _write(
        self, name: str, rnd: SurveyRound, responses: list[SurveyResponse], duplicates: int = 0
    ) -> None:
        from motcua_dev.generator.engine import arrange, header_of

        variant = self.variants.next()
        rng = self.rng
        rows = [r.values(variant.answer_style, rng) for r in responses]
        junk = self.junk.count_for(len(rows), self.cfg.survey_invalid_rate) if rows else 0
        reasons: Counter[str] = Counter()
        originals = list(rows)
        for _ in range(junk):
            kind = self.junk.next_kind()
            reasons[kind] += 1
            rows.insert(
                rng.randrange(len(rows) + 1),
                survey_junk_row(self.junk, kind, rng.choice(originals)),
            )
        relpath = f"survey/{name}.{variant.extension}"
        stamp = datetime.combine(rnd.last, time(20, 0))
        with TableWriter(
            self.cfg.out_dir / relpath, header_of(variant, cat.SURVEY_HEADERS), variant, stamp
        ) as writer:
            for n, row in enumerate(rows, start=1):
                writer.write(arrange(row, variant, n, rng))
            sha = writer.close()
        self.manifest.add_file(
            relpath,
            "survey",
            variant,
            len(rows),
            reasons,
            sha,
            day=rnd.last,
            duplicate_rows=duplicates,
        )

    def _check_pins(self) -> None:
        """Pinned cells must hold exactly the pinned counts (duplicates not counted)."""
        for cell, pin in self.planner.pins.items():
            tally = self.tallies.get(cell)
            got = {k: tuple(v) for k, v in tally.counts.items()} if tally else {}
            if got != {k: tuple(v) for k, v in pin.counts.items()}:
                raise AssertionError(f"survey pin {cell} drifted: {got}")


def run_surveys(
    cfg: GeneratorConfig, units: list[Unit], cal: WorkCalendar, manifest: ManifestBuilder
) -> None:
    SurveyRun(cfg, units, cal, manifest).run()
