"""Vietnamese public holidays from the maintained ``holidays`` library.

The seed lists every day off of the public sector between ``FIRST_YEAR`` and
``LAST_YEAR``: the statutory holidays (Tết Dương lịch, Tết Nguyên Đán, Giỗ Tổ
Hùng Vương, 30/4, 1/5, Quốc khánh), the days off in lieu when one falls on a
weekend (``nghỉ bù``) and the swapped days off decided by the Government
(``Ngày nghỉ (thay cho ngày dd/mm/yyyy)``). The Saturdays worked in exchange
for swapped days are *not* here: they live in the editable seed
``official_make_up_working_days.csv`` (see ``make_up_dates_cited``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import holidays

FIRST_YEAR = 2010
LAST_YEAR = 2035

_SUBSTITUTED = re.compile(r"thay cho ngày (\d{2}/\d{2}/\d{4})")


@dataclass(frozen=True)
class Holiday:
    holiday_date: date
    holiday_name: str  # Vietnamese, as the library spells it
    holiday_name_en: str
    holiday_kind: str  # public_holiday | day_off_in_lieu | swapped_day_off


def _kind(day: date, name_vi: str, statutory: set[date]) -> str:
    if _SUBSTITUTED.search(name_vi):
        return "swapped_day_off"
    if day in statutory:
        return "public_holiday"
    return "day_off_in_lieu"


def public_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[Holiday]:
    """Every public-sector day off of Viet Nam, one row per date."""
    years = range(first_year, last_year + 1)
    vi = holidays.country_holidays("VN", years=years, language="vi")
    en = holidays.country_holidays("VN", years=years, language="en_US")
    statutory = set(holidays.country_holidays("VN", years=years, observed=False))
    return [Holiday(day, vi[day], en[day], _kind(day, vi[day], statutory)) for day in sorted(vi)]


def make_up_dates_cited(rows: list[Holiday]) -> set[date]:
    """The make-up working days that the library cites for its swapped days off."""
    cited: set[date] = set()
    for row in rows:
        match = _SUBSTITUTED.search(row.holiday_name)
        if match:
            cited.add(datetime.strptime(match.group(1), "%d/%m/%Y").date())
    return cited
