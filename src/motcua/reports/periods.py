"""Reporting periods: ``2017-H1``, ``2017-Q2``, ``2017-03``, ``2017`` → the marts' period keys.

The marts key a period by ``period_type`` (``month``, ``quarter``,
``half_year``, ``year``) and ``period_start``; this module turns what an
officer types into that key, and formats dates and labels the way Vietnamese
official tables write them (``Từ ngày 01/01/2017 đến ngày 30/06/2017``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_PATTERN = re.compile(r"^\s*(\d{4})(?:[-/ ]?([HhQq])(\d)|[-/](\d{1,2}))?\s*$")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class PeriodError(ValueError):
    """A period string that does not name a month, quarter, half-year or year."""


@dataclass(frozen=True)
class Period:
    period_type: str  # month | quarter | half_year | year
    start: date
    end: date  # inclusive

    @property
    def code(self) -> str:
        """The canonical spelling: 2017, 2017-H1, 2017-Q2, 2017-03."""
        y = self.start.year
        if self.period_type == "year":
            return f"{y}"
        if self.period_type == "half_year":
            return f"{y}-H{1 if self.start.month == 1 else 2}"
        if self.period_type == "quarter":
            return f"{y}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{y}-{self.start.month:02d}"

    @property
    def label_vi(self) -> str:
        """Vietnamese name: 6 tháng đầu năm 2017, Quý II năm 2017, Tháng 03/2017, Năm 2017."""
        y = self.start.year
        if self.period_type == "year":
            return f"Năm {y}"
        if self.period_type == "half_year":
            return f"6 tháng {'đầu' if self.start.month == 1 else 'cuối'} năm {y}"
        if self.period_type == "quarter":
            return f"Quý {ROMAN[(self.start.month - 1) // 3 + 1]} năm {y}"
        return f"Tháng {self.start.month:02d}/{y}"

    @property
    def range_vi(self) -> str:
        """``Từ ngày 01/01/2017 đến ngày 30/06/2017``."""
        return f"Từ ngày {vn_date(self.start)} đến ngày {vn_date(self.end)}"


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> Period:
    """``2017-H1`` | ``2017-Q2`` | ``2017-03`` | ``2017`` (case-insensitive) → Period."""
    m = _PATTERN.match(text or "")
    if not m:
        raise PeriodError(
            f"period {text!r}: expected YYYY, YYYY-H1/H2, YYYY-Q1..Q4 or YYYY-MM (e.g. 2017-H1)"
        )
    year = int(m.group(1))
    kind, number, month = m.group(2), m.group(3), m.group(4)
    if year < 1900:
        raise PeriodError(f"period {text!r}: year out of range")
    if kind is None and month is None:
        return Period("year", date(year, 1, 1), date(year, 12, 31))
    if kind is not None:
        n = int(number)
        if not 1 <= n <= (2 if kind.upper() == "H" else 4):
            raise PeriodError(f"period {text!r}: halves are H1-H2, quarters Q1-Q4")
        if kind.upper() == "H":
            first = 1 if n == 1 else 7
            return Period("half_year", date(year, first, 1), _month_end(year, first + 5))
        first = 3 * (n - 1) + 1
        return Period("quarter", date(year, first, 1), _month_end(year, first + 2))
    mm = int(month)
    if not 1 <= mm <= 12:
        raise PeriodError(f"period {text!r}: month must be 01..12")
    return Period("month", date(year, mm, 1), _month_end(year, mm))


def vn_date(d: date) -> str:
    """dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"
