"""Period strings → the marts' period keys (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from motcua.reports import PeriodError, parse_period
from motcua.reports.periods import vn_date


@pytest.mark.parametrize(
    ("text", "period_type", "start", "end", "label"),
    [
        ("2017-H1", "half_year", date(2017, 1, 1), date(2017, 6, 30), "6 tháng đầu năm 2017"),
        ("2017-h2", "half_year", date(2017, 7, 1), date(2017, 12, 31), "6 tháng cuối năm 2017"),
        ("2017-Q2", "quarter", date(2017, 4, 1), date(2017, 6, 30), "Quý II năm 2017"),
        ("2016Q4", "quarter", date(2016, 10, 1), date(2016, 12, 31), "Quý IV năm 2016"),
        ("2017-03", "month", date(2017, 3, 1), date(2017, 3, 31), "Tháng 03/2017"),
        ("2016-02", "month", date(2016, 2, 1), date(2016, 2, 29), "Tháng 02/2016"),
        ("2017-12", "month", date(2017, 12, 1), date(2017, 12, 31), "Tháng 12/2017"),
        (" 2017 ", "year", date(2017, 1, 1), date(2017, 12, 31), "Năm 2017"),
    ],
)
def test_parse_period(text: str, period_type: str, start: date, end: date, label: str) -> None:
    p = parse_period(text)
    assert (p.period_type, p.start, p.end, p.label_vi) == (period_type, start, end, label)
    assert parse_period(p.code) == p


def test_range_is_written_like_the_letter() -> None:
    assert parse_period("2017-H1").range_vi == "Từ ngày 01/01/2017 đến ngày 30/06/2017"
    assert vn_date(date(2017, 7, 4)) == "04/07/2017"


@pytest.mark.parametrize(
    "text", ["", "17", "2017-H3", "2017-Q5", "2017-Q0", "2017-13", "2017-00", "201703", "H1-2017"]
)
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)
