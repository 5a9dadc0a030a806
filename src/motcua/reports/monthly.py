"""The reports of the 1st of the month: what the monthly DAG produces.

On the 1st, the month that just ended is complete; so is the quarter, the
half-year or the year when the month closes one. For each complete period
the official per-commune table (XLSX) is written, then the public
transparency export and the dashboard are refreshed. Everything is read from
the marts, so re-running a month rewrites the same files.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from motcua.reports.periods import parse_period


def periods_closed_by(day: date) -> list[str]:
    """Period labels (``2017-06``, ``2017-Q2``, ``2017-H1``, ``2017``) ending the day before."""
    last = day - timedelta(days=1)
    if last.month == day.month:  # not the 1st: nothing has just closed
        return []
    y, m = last.year, last.month
    labels = [f"{y}-{m:02d}"]
    if m % 3 == 0:
        labels.append(f"{y}-Q{m // 3}")
    if m % 6 == 0:
        labels.append(f"{y}-H{m // 6}")
    if m == 12:
        labels.append(str(y))
    return labels


def produce(url: str, day: date, out_dir: Path) -> dict[str, Any]:
    """Write the reports due on ``day`` under ``out_dir``; return what was written."""
    from motcua.reports.dashboard import write_dashboard
    from motcua.reports.official_table import write_official_table
    from motcua.reports.transparency import write_transparency

    labels = periods_closed_by(day)
    written: dict[str, Any] = {"day": day.isoformat(), "official": []}
    for label in labels:
        out = out_dir / "official" / f"bao-cao-giai-quyet-ho-so_{label}.xlsx"
        written["official"].append(write_official_table(url, parse_period(label), out)["out"])
    written["transparency"] = write_transparency(url, out_dir / "transparency")
    if labels:
        half = next((lb for lb in labels if "-H" in lb), None)
        period = parse_period(half) if half else None
        written["dashboard"] = write_dashboard(url, out_dir / "dashboard.html", period)["out"]
    return written
