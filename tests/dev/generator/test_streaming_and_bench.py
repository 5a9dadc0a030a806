"""Memory stays flat as the volume grows; the bench writer is valid and deterministic."""

from __future__ import annotations

import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from motcua_dev.generator import write_bench
from motcua_dev.generator.engine import GeneratorConfig, OnestopRun
from motcua_dev.generator.manifest import ManifestBuilder
from motcua_dev.generator.units import load_units
from motcua_dev.generator.workdays import WorkCalendar
from tests.dev.generator.inbox_check import ONESTOP, keyed, onestop_reason, read_table

UNITS = ("22528", "22534", "22570", "22597")


def traced_run(out: Path, days: int) -> tuple[int, int]:
    """(dossiers written, peak traced bytes) of the one-stop walk over ``days`` days."""
    cfg = GeneratorConfig(
        out_dir=out,
        start=date(2016, 1, 1),
        end=date(2016, 1, 1) + timedelta(days=days),
        unit_codes=UNITS,
        dossiers_per_unit_day=6,
        surveys=False,
        xlsx_max_rows=0,  # CSV only: keeps the test quick; XLSX streams through openpyxl
    )
    units = load_units(None, cfg.unit_codes)
    manifest = ManifestBuilder(cfg, units)
    run = OnestopRun(cfg, units, WorkCalendar(cfg.start, cfg.end), manifest)
    tracemalloc.start()
    try:
        run.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return sum(c["dossiers"] for c in manifest.communes.values()), peak


def test_memory_does_not_grow_with_the_number_of_dossiers(tmp_path: Path) -> None:
    traced_run(tmp_path / "warm", 40)  # imports and caches out of the way
    small_n, small_peak = traced_run(tmp_path / "small", 150)
    large_n, large_peak = traced_run(tmp_path / "large", 600)
    assert large_n > 4 * small_n * 0.9
    # Keeping every dossier would cost well over 1 KB each; the walk keeps open ones only
    # (the per-file manifest records grow with days, a few dozen bytes per dossier here).
    assert large_peak < 2 * small_peak
    assert (large_peak - small_peak) / (large_n - small_n) < 300


def test_bench_rows_are_valid_distinct_and_reproducible(tmp_path: Path) -> None:
    units = {u.code for u in load_units()}
    first = write_bench(tmp_path / "a.csv", 5000, seed=3)
    again = write_bench(tmp_path / "b.csv", 5000, seed=3)
    assert first["rows"] == 5000
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert again["bytes"] == first["bytes"]
    table = read_table(tmp_path / "a.csv")
    assert table.encoding == "utf-8"
    rows = keyed(table, ONESTOP)
    assert len(rows) == 5000
    assert all(onestop_reason(r, units) is None for r in rows)
    assert len({r["code"] for r in rows}) == 5000
