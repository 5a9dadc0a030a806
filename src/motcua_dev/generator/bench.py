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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.dossiers import UnitProfile, random_plan, render
from motcua_dev.generator.units import Unit, load_units, province_spread
from motcua_dev.generator.variants import VariantPlanner
from motcua_dev.generator.workdays import WorkCalendar

TEMPLATES = 4096
CHUNK = 20000
FIRST_DAY, LAST_DAY = date(2016, 1, 1), date(2017, 12, 29)


def _templates(seed: int, count: int, units: list[Unit], salt: str = "") -> list[tuple[str, str]]:
    """(code prefix, rest of the CSV line after the code) for ``count`` final states."""
    cal = WorkCalendar(FIRST_DAY, LAST_DAY)
    days = cal.between(FIRST_DAY, LAST_DAY - timedelta(days=60))
    rng = random.Random(f"{seed}:bench{salt}")
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


def _varying(tail: str) -> tuple[str, str, str]:
    """A template tail cut so that each row can get its own phone digits and seconds.

    (up to the phone's last three digits, from there to the seconds of Cập nhật
    lúc, the line end); a phone without three final digits is kept as it is.
    """
    fields = next(csv.reader([tail]))
    phone = fields[cat.C_PHONE - 1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if len(phone) >= 3 and phone[-3:].isdigit():
        writer.writerow([*fields[: cat.C_PHONE - 1], phone[:-3]])
        head = buffer.getvalue()[:-2]
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["", *fields[cat.C_PHONE :]])
        return head, buffer.getvalue()[:-4], "\r\n"
    writer.writerow(fields)
    return buffer.getvalue()[:-4], "", "\r\n"


def _template_groups(
    seed: int, rows: int, units_csv: Path | None, provinces: int
) -> list[list[tuple[str, str]]]:
    """The templates rows are stamped from: one group, or one per province of the spread.

    With ``provinces`` the TEMPLATES are shared out evenly between the
    provinces (each from its own communes); the default is one group from
    ``units_csv`` (Ninh Hòa when None), as before.
    """
    if not provinces:
        return [_templates(seed, min(TEMPLATES, max(rows, 1)), load_units(units_csv))]
    per_group = max(1, min(TEMPLATES // provinces, -(-rows // provinces)))
    return [
        _templates(seed, per_group, units, f":{code}") for code, units in province_spread(provinces)
    ]


def _picks(rng: random.Random, groups: list[list[Any]], first: int, last: int) -> list[Any]:
    """One template per row number first+1..last: row n from group (n - 1) mod len(groups).

    Round robin, so each group gets exactly its share (rows // groups, one
    more for the first rows % groups); the template within a group at random.
    """
    if len(groups) == 1:
        return rng.choices(groups[0], k=last - first)
    picks: list[Any] = [None] * (last - first)
    for g, group in enumerate(groups):
        offset = (g - first) % len(groups)
        slots = range(offset, last - first, len(groups))
        picks[offset :: len(groups)] = rng.choices(group, k=len(slots))
    return picks


def write_bench(
    path: Path,
    rows: int,
    seed: int = 1,
    units_csv: Path | None = None,
    vary: bool = False,
    provinces: int = 0,
) -> dict[str, Any]:
    """Write ``rows`` rows (+ header) to ``path``; return counts and timing.

    ``vary``: each row also gets its own last three phone digits and seconds of
    Cập nhật lúc, so that no two rows are equal past the code (the build
    benchmark: a database must not be able to cache per-row work by value).
    ``provinces``: the rows spread evenly over that many provinces of today's
    map, in the legacy communes of the national reference
    (``units.province_spread``), instead of ``units_csv``'s units.
    """
    started = time.perf_counter()
    groups = _template_groups(seed, rows, units_csv, provinces)
    rng = random.Random(f"{seed}:bench-pick")
    path.parent.mkdir(parents=True, exist_ok=True)
    width = max(7, len(str(rows)))
    if vary:
        groups = [[(prefix, *_varying(tail)) for prefix, tail in group] for group in groups]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(cat.ONESTOP_HEADERS) + "\r\n")
        for first in range(0, rows, CHUNK):
            last = min(rows, first + CHUNK)
            numbers = range(first + 1, last + 1)
            picks = _picks(rng, groups, first, last)
            if not vary:
                handle.write(
                    "".join(
                        f"{prefix}{n:0{width}d},{tail}"
                        for n, (prefix, tail) in zip(numbers, picks, strict=True)
                    )
                )
                continue
            handle.write(
                "".join(
                    (
                        f"{prefix}{n:0{width}d},{head}{n % 1000:03d}{mid}{n % 60:02d}{end}"
                        if mid
                        else f"{prefix}{n:0{width}d},{head}{n % 60:02d}{end}"
                    )
                    for n, (prefix, head, mid, end) in zip(numbers, picks, strict=True)
                )
            )
    return {
        "path": str(path),
        "rows": rows,
        "provinces": provinces,
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
        "quarantine_rows": 0,
    }


# --- nightly delta of a bench file ------------------------------------------------------
DELTA_DAY = LAST_DAY + timedelta(days=1)  # the night after the bench states' horizon
OPEN_STATUSES = (cat.ST_RECEIVED, cat.ST_PROCESSING, cat.ST_SUPPLEMENT)


def _reservoir_add(pool: list[str], seen: int, line: str, size: int, rng: random.Random) -> None:
    """Algorithm R: keep a uniform sample of ``size`` lines; ``seen`` counts this one."""
    if len(pool) < size:
        pool.append(line)
    else:
        slot = rng.randrange(seen)
        if slot < size:
            pool[slot] = line


def _moment(at: datetime) -> str:
    return f"{at:%d/%m/%Y %H:%M}"


def _office_second(start: datetime, n: int) -> datetime:
    """The n-th change of the night, spread over nine office hours from ``start``."""
    return start + timedelta(seconds=n % (9 * 3600))


def _next_state(row: list[str], at: datetime, rng: random.Random) -> list[str]:
    """A later state of a bench row: its next step, a corrected result date or contact fix."""
    new = list(row)
    status = row[cat.C_STATUS]
    if status in OPEN_STATUSES:
        new[cat.C_STATUS] = cat.ST_RESULT
        new[cat.C_RESULT] = _moment(at)
    elif status == cat.ST_RESULT:
        new[cat.C_STATUS] = cat.ST_RETURNED
        new[cat.C_RETURNED] = _moment(at)
    elif status == cat.ST_RETURNED and row[cat.C_RESULT] and rng.random() < 0.5:
        # a correction: the result was signed a day later than recorded
        signed = datetime.strptime(row[cat.C_RESULT], "%d/%m/%Y %H:%M")
        new[cat.C_RESULT] = _moment(signed + timedelta(days=1))
    else:  # closed: the desk completes the applicant's contact data
        new[cat.C_PHONE] = f"09{rng.randrange(10**8):08d}"
        new[cat.C_EMAIL] = f"lienhe{rng.randrange(10**6)}@example.vn"
    new[cat.C_UPDATED] = f"{at:%d/%m/%Y %H:%M:%S}"
    return new


def _new_dossier(row: list[str], code: str, at: datetime, day: date) -> list[str]:
    """A dossier received at ``at``, built on a bench row's unit, procedure and applicant."""
    new = list(row)
    new[cat.C_CODE] = code
    new[cat.C_RECEIVED] = _moment(at)
    new[cat.C_DUE] = f"{day + timedelta(days=5):%d/%m/%Y} 17:00"
    for column in (cat.C_RESULT, cat.C_RETURNED, cat.C_APOLOGY, cat.C_APOLOGY_DUE):
        new[column] = ""
    new[cat.C_STATUS] = cat.ST_RECEIVED
    new[cat.C_UPDATED] = f"{at:%d/%m/%Y %H:%M:%S}"
    return new


def write_delta(
    base: Path,
    out: Path,
    fraction: float,
    seed: int = 1,
    day: date = DELTA_DAY,
    new_share: float = 0.2,
    recent_days: int = 180,
    old_share: float = 0.1,
) -> dict[str, Any]:
    """The next night's export for a bench file: ``fraction`` × its rows, all valid.

    Most rows are new states of existing dossiers (same Mã hồ sơ, later Cập nhật
    lúc on ``day``): open dossiers get their result, results get returned, closed
    ones get their contact data completed. As in a real night, the changed
    dossiers are mostly recent (received within ``recent_days``), with a share
    ``old_share`` of late corrections anywhere in the history; ``new_share`` of
    the rows are dossiers received on ``day``. Streams the base file once.
    """
    started = time.perf_counter()
    with open(base, encoding="utf-8", newline="") as handle:
        total = sum(1 for _ in handle) - 1
    wanted = round(total * fraction)
    new_rows = round(wanted * new_share)
    changed = wanted - new_rows
    old_size = round(changed * old_share)
    recent_size = changed - old_size
    cutoff = f"{day - timedelta(days=recent_days):%y%m%d}"
    rng = random.Random(f"{seed}:bench-delta")
    recent: list[str] = []
    old: list[str] = []
    seen_recent = seen_old = 0
    with open(base, encoding="utf-8", newline="") as handle:
        header = handle.readline()
        for line in handle:
            # bench codes are <unit>-<yymmdd received>-<n>: no CSV parsing to stratify
            if line[6:12] >= cutoff:
                seen_recent += 1
                _reservoir_add(recent, seen_recent, line, recent_size, rng)
            else:
                seen_old += 1
                _reservoir_add(old, seen_old, line, old_size, rng)
    picked = [next(csv.reader([line])) for line in (*recent, *old)]
    rng.shuffle(picked)
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=30)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        handle.write(header)
        writer = csv.writer(handle, lineterminator="\r\n")
        for n, row in enumerate(picked):
            writer.writerow(_next_state(row, _office_second(start, n), rng))
        for n in range(1, new_rows + 1 if picked else 1):
            template = picked[n % len(picked)]
            code = f"{template[cat.C_UNIT]}-{day:%y%m%d}-N{n:07d}"
            writer.writerow(_new_dossier(template, code, _office_second(start, n), day))
    return {
        "path": str(out),
        "base_rows": total,
        "rows": len(picked) + (new_rows if picked else 0),
        "changed_dossiers": len(picked),
        "new_dossiers": new_rows if picked else 0,
        "day": day.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
    }
