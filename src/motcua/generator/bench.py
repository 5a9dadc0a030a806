"""Fast bench mode: N valid contract rows in one plain UTF-8 CSV.

The load benchmark needs volume, not realism per row, so a few thousand
final-state dossier rows are rendered once with the normal machinery and
then stamped out with fresh dossier codes: each output row is a distinct,
valid dossier (nothing for quarantine), at string-join speed.
"""

from __future__ import annotations

import csv
import io
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from motcua.generator import catalog as cat
from motcua.generator.dossiers import UnitProfile, random_plan, render
from motcua.generator.units import load_units
from motcua.generator.variants import VariantPlanner
from motcua.generator.workdays import WorkCalendar

TEMPLATES = 4096
CHUNK = 20000
FIRST_DAY, LAST_DAY = date(2016, 1, 1), date(2017, 12, 29)


def _templates(seed: int, count: int, units_csv: Path | None) -> list[tuple[str, str]]:
    """(code prefix, rest of the CSV line after the code) for ``count`` final states."""
    units = load_units(units_csv)
    cal = WorkCalendar(FIRST_DAY, LAST_DAY)
    days = cal.between(FIRST_DAY, LAST_DAY - timedelta(days=60))
    rng = random.Random(f"{seed}:bench")
    variant = VariantPlanner("onestop", rng, len(cat.ONESTOP_HEADERS)).plain()
    profile = UnitProfile()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    out: list[tuple[str, str]] = []
    for _ in range(count):
        unit, day = rng.choice(units), rng.choice(days)
        plan = random_plan(rng, unit, day, cal, LAST_DAY, profile)
        plan.code = f"{unit.code}-{day:%y%m%d}-"
        final = plan.events[-1]
        row = render(plan, final, plan.final_contact(), variant)
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row[1:])
        out.append((plan.code, buffer.getvalue()))
    return out


def write_bench(
    path: Path, rows: int, seed: int = 1, units_csv: Path | None = None
) -> dict[str, Any]:
    """Write ``rows`` rows (+ header) to ``path``; return counts and timing."""
    started = time.perf_counter()
    templates = _templates(seed, min(TEMPLATES, max(rows, 1)), units_csv)
    rng = random.Random(f"{seed}:bench-pick")
    path.parent.mkdir(parents=True, exist_ok=True)
    width = max(7, len(str(rows)))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(cat.ONESTOP_HEADERS) + "\r\n")
        for first in range(0, rows, CHUNK):
            last = min(rows, first + CHUNK)
            picks = rng.choices(templates, k=last - first)
            handle.write(
                "".join(
                    f"{prefix}{n:0{width}d},{tail}"
                    for n, (prefix, tail) in zip(range(first + 1, last + 1), picks, strict=True)
                )
            )
    return {
        "path": str(path),
        "rows": rows,
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
        "quarantine_rows": 0,
    }
