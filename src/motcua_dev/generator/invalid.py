"""Rows the contract sends to quarantine, one defect each, counted as they are written.

Every junk row carries its own dossier code / response id (never one of a
real dossier), so quarantining it cannot change any dossier's current state
or any pinned figure. ``JunkMaker`` cycles through the defect kinds so a
run with at least as many junk rows as kinds shows every kind.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.contacts import make_contact
from motcua_dev.generator.dossiers import (
    UnitProfile,
    channel_text,
    fmt_day,
    fmt_moment,
    fmt_updated,
    office_time,
    pick_procedure,
)
from motcua_dev.generator.units import Unit
from motcua_dev.generator.variants import FileVariant

ONESTOP_DEFECTS: tuple[str, ...] = (
    "empty_code",
    "unknown_unit",
    "bad_date",
    "unknown_status",
    "due_missing",
    "due_before_received",
    "result_before_received",
    "result_status_without_date",
)
SURVEY_DEFECTS: tuple[str, ...] = ("unknown_unit", "bad_year")

# Codes no reference can contain (not 5 digits, or outside every GSO range).
UNKNOWN_UNIT_CODES: tuple[str, ...] = ("99999", "00000", "ABCDE", "9999", "225700", "")
UNKNOWN_STATUSES: tuple[str, ...] = ("Đã xong", "Hoàn thành", "Đang giải quyết", "Hủy", "Trễ hạn")
BAD_YEARS: tuple[str, ...] = ("", "2O16", "năm nay", "20-17", "abcd")


def bad_dates(year: int) -> list[str]:
    """Impossible calendar dates in ``dd/mm/yyyy`` (they must not parse)."""
    dates = [
        f"31/02/{year}",
        f"30/02/{year}",
        f"31/04/{year}",
        f"32/01/{year}",
        f"00/05/{year}",
        f"15/13/{year}",
        f"31/06/{year}",
    ]
    if not calendar.isleap(year):
        dates.append(f"29/02/{year}")
    return dates


class JunkMaker:
    """Round-robin over defect kinds with a seeded start; numbers junk codes."""

    def __init__(self, kinds: tuple[str, ...], rng: random.Random) -> None:
        self.kinds = kinds
        self.rng = rng
        self.position = rng.randrange(len(kinds))
        self.serial = 0

    def next_kind(self) -> str:
        kind = self.kinds[self.position % len(self.kinds)]
        self.position += 1
        self.serial += 1
        return kind

    def count_for(self, rows: int, rate: float) -> int:
        """Stochastic rounding of ``rows * rate``: the expected rate, exact per file."""
        expected = rows * rate
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)


def onestop_junk_row(
    maker: JunkMaker,
    kind: str,
    units: list[Unit],
    day: date,
    variant: FileVariant,
    profile: UnitProfile,
) -> list[str]:
    """A dossier row valid in every respect except the one ``kind`` names."""
    rng = maker.rng
    unit = rng.choice(units)
    style = variant.date_style
    received = office_time(rng, day - timedelta(days=rng.randint(0, 6)))
    proc = pick_procedure(rng)
    due = received.date() + timedelta(days=max(1, proc.days))
    contact = make_contact(rng, unit, profile.contact)
    updated = office_time(rng, day).replace(hour=18, minute=rng.randint(0, 59))
    code = f"{unit.code}-{day:%y%m%d}-L{maker.serial:04d}"
    row = [
        code,
        unit.code,
        unit.name,
        proc.code,
        proc.name,
        proc.sector,
        channel_text(cat.CH_DIRECT, variant.channel_style, code),
        cat.PLACE_DESK,
        fmt_moment(received, style),
        fmt_day(due, style),
        "",
        "",
        cat.ST_PROCESSING,
        "",
        "",
        contact.name,
        contact.address,
        contact.phone,
        contact.email,
        fmt_updated(updated),
    ]
    earlier = received - timedelta(days=rng.randint(1, 20))
    if kind == "empty_code":
        row[cat.C_CODE] = ""
    elif kind == "unknown_unit":
        row[cat.C_UNIT] = rng.choice(UNKNOWN_UNIT_CODES)
    elif kind == "bad_date":
        column = rng.choice((cat.C_RECEIVED, cat.C_DUE, cat.C_UPDATED))
        bad = rng.choice(bad_dates(day.year))
        row[column] = f"{bad} 10:15:00" if column == cat.C_UPDATED else bad
    elif kind == "unknown_status":
        row[cat.C_STATUS] = rng.choice(UNKNOWN_STATUSES)
    elif kind == "due_missing":
        row[cat.C_DUE] = ""
        row[cat.C_STATUS] = rng.choice((cat.ST_RECEIVED, cat.ST_PROCESSING))
    elif kind == "due_before_received":
        row[cat.C_DUE] = fmt_day(earlier.date(), style)
    elif kind == "result_before_received":
        row[cat.C_STATUS] = cat.ST_RETURNED
        if rng.random() < 0.5:
            row[cat.C_RESULT] = fmt_moment(earlier, style)
        else:
            row[cat.C_RESULT] = fmt_moment(received + timedelta(hours=1), style)
            row[cat.C_RETURNED] = fmt_moment(earlier, style)
    elif kind == "result_status_without_date":
        row[cat.C_STATUS] = rng.choice((cat.ST_RESULT, cat.ST_RETURNED))
    else:  # pragma: no cover - guarded by ONESTOP_DEFECTS
        raise ValueError(kind)
    return row


def survey_junk_row(maker: JunkMaker, kind: str, base: list[str]) -> list[str]:
    """A survey row (copy of ``base``) with an unknown unit or an unparseable year."""
    rng = maker.rng
    row = list(base)
    row[cat.S_ID] = f"KS{base[cat.S_YEAR]}-L{maker.serial:04d}"
    if kind == "unknown_unit":
        row[cat.S_UNIT] = rng.choice(UNKNOWN_UNIT_CODES)
    elif kind == "bad_year":
        row[cat.S_YEAR] = rng.choice(BAD_YEARS)
    else:  # pragma: no cover
        raise ValueError(kind)
    return row
