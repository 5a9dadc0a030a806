"""The public-sector working calendar the generator schedules dossiers on.

Due dates in the generated exports are "received + N working days", as the
one-stop software computes them; docs/rules.md counts lateness on the same kind of
calendar (Monday–Friday minus Vietnamese public holidays from ``holidays``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta

import holidays


class WorkCalendar:
    """Working days between ``first`` and ``last`` (with a margin of a year each side).

    Kept as a sorted list plus an index so that "add N working days" is O(1):
    the generator calls it several times per dossier.
    """

    def __init__(self, first: date, last: date) -> None:
        lo, hi = date(first.year - 1, 1, 1), date(last.year + 2, 12, 31)
        years = range(lo.year, hi.year + 1)
        self.holidays: frozenset[date] = frozenset(holidays.country_holidays("VN", years=years))
        days: list[date] = []
        day = lo
        while day <= hi:
            if day.weekday() < 5 and day not in self.holidays:
                days.append(day)
            day += timedelta(days=1)
        self._days = days
        self._index = {d: i for i, d in enumerate(days)}

    def is_working(self, day: date) -> bool:
        return day in self._index

    def on_or_after(self, day: date) -> date:
        """The first working day not before ``day``."""
        return self._days[bisect_left(self._days, day)]

    def on_or_before(self, day: date) -> date:
        """The last working day not after ``day``."""
        return self._days[bisect_right(self._days, day) - 1]

    def add(self, day: date, n: int) -> date:
        """``n`` working days after ``day`` (negative: before); ``day`` must be working."""
        return self._days[self._index[day] + n]

    def between(self, first: date, last: date) -> list[date]:
        """Working days in ``[first, last]``, both inclusive."""
        return self._days[bisect_left(self._days, first) : bisect_right(self._days, last)]

    def count(self, first: date, last: date) -> int:
        """Number of working days in ``[first, last]``."""
        return max(0, bisect_right(self._days, last) - bisect_left(self._days, first))
