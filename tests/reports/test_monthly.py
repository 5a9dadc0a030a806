"""Which periods close on which day: the monthly DAG's schedule logic."""

from __future__ import annotations

from datetime import date

import pytest

from motcua.reports.monthly import periods_closed_by


@pytest.mark.parametrize(
    ("day", "labels"),
    [
        (date(2017, 7, 1), ["2017-06", "2017-Q2", "2017-H1"]),
        (date(2017, 5, 1), ["2017-04"]),
        (date(2017, 4, 1), ["2017-03", "2017-Q1"]),
        (date(2018, 1, 1), ["2017-12", "2017-Q4", "2017-H2", "2017"]),
        (date(2017, 7, 14), []),
    ],
)
def test_periods_closed_by(day: date, labels: list[str]) -> None:
    assert periods_closed_by(day) == labels


@pytest.mark.slow
def test_reports_due_on_the_first_of_july_2017(built, tmp_path) -> None:
    """June, Q2 and H1 2017 tables, the export and the dashboard, from the sample's marts."""
    from openpyxl import load_workbook

    from motcua.reports.monthly import produce

    written = produce(built.url, date(2017, 7, 1), tmp_path)
    names = sorted(p.rsplit("/", 1)[-1] for p in written["official"])
    assert names == [
        "bao-cao-giai-quyet-ho-so_2017-06.xlsx",
        "bao-cao-giai-quyet-ho-so_2017-H1.xlsx",
        "bao-cao-giai-quyet-ho-so_2017-Q2.xlsx",
    ]
    ws = load_workbook(tmp_path / "official" / "bao-cao-giai-quyet-ho-so_2017-H1.xlsx").active
    rows = {ws.cell(row=r, column=3).value: r for r in range(1, ws.max_row + 1)}
    ninh_hung = rows["Xã Ninh Hưng"]
    assert ws.cell(row=ninh_hung, column=18).value == "x"  # over the threshold
    html = (tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert "7,61" in html or "7.61" in html  # the town's H1 2017 late rate
    assert sorted(p.name for p in (tmp_path / "transparency").iterdir())
