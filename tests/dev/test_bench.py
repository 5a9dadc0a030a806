"""The build bench's helpers: its summary line, its database names, its nightly deltas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from motcua_dev import bench
from motcua_dev.generator import write_bench


def test_spread_prints_median_range_and_half_range() -> None:
    assert bench._spread([12.0, 10.0, 11.0]) == "median 11.0 s (10.0–12.0 s, ±9.1 %)"
    assert bench._spread([5.0]) == "median 5.0 s (5.0–5.0 s, ±0.0 %)"


def test_bench_databases_are_named_after_warehouse_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/h13night_x")
    assert bench._db_name("build") == "h13night_x_bench_build"
    monkeypatch.delenv("WAREHOUSE_URL")
    assert bench._db_name("build") == "motcua_bench_build"


def test_each_night_has_its_own_day(tmp_path: Path) -> None:
    """The second night's delta: its Cập nhật lúc and new dossiers on the day after the first."""
    base = tmp_path / "base.csv"
    write_bench(base, 2000, seed=1)
    reports = []
    for night, day in ((1, "2017-12-30"), (2, "2017-12-31")):
        args = ["--delta-of", str(base), "--fraction", "0.01", "--seed", str(night)]
        args += ["--day", day, "--out", str(tmp_path / f"delta{night}.csv")]
        out = subprocess.run(
            [sys.executable, "-m", "motcua_dev.generator", "bench", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        reports.append(json.loads(out))
    assert [r["day"] for r in reports] == ["2017-12-30", "2017-12-31"]
    assert [r["rows"] for r in reports] == [20, 20]
    second = (tmp_path / "delta2.csv").read_text(encoding="utf-8")
    assert "31/12/2017" in second and "30/12/2017" not in second
