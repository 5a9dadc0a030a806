"""The ``reform`` preset: one inbox across 1/7/2025, the same codes before and after."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from motcua_dev.generator import write_reform


@pytest.fixture(scope="module")
def reform(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("reform")
    return out, write_reform(out)


def test_codes_are_reused_across_the_reform(reform: tuple[Path, dict]) -> None:
    out, manifest = reform
    first_day: dict[str, str] = {}
    last_day: dict[str, str] = {}
    for path in sorted((out / "onestop").glob("hoso_*.csv")):
        day = path.name[5:13]
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for row in csv.reader(handle):
                for code in ("22552", "22534"):
                    if code in row:
                        first_day.setdefault(code, day)
                        last_day[code] = day
    assert first_day["22552"] < "20250701" <= last_day["22552"]
    assert last_day["22534"] < "20250701"  # Ninh Tây's code is not used after the reform
    assert (manifest["run_date"], manifest["reform_day"]) == ("2026-03-31", "2025-07-01")


def test_todays_unit_sums_its_predecessors(reform: tuple[Path, dict]) -> None:
    _, manifest = reform
    current = {
        (r["commune_code"], r["period_start"]): r
        for r in manifest["expected"]["commune_lateness_current"]
    }
    ninh_tay, ninh_sim = (
        next(
            r
            for r in manifest["expected"]["commune_lateness"]
            if (r["commune_code"], r["period_start"]) == (code, "2025-01-01")
        )
        for code in ("22534", "22552")
    )
    assert (ninh_tay["late_total"], ninh_tay["resolved_total"], ninh_tay["late_rate"]) == (
        5,
        36,
        13.89,
    )
    assert ninh_sim["late_total"] == 0
    tay_ninh_hoa = current[("22552", "2025-01-01")]
    assert (tay_ninh_hoa["late_total"], tay_ninh_hoa["resolved_total"]) == (5, 52)
    assert (tay_ninh_hoa["late_rate"], tay_ninh_hoa["over_threshold"]) == (9.62, False)
    assert current[("22552", "2025-07-01")]["late_rate"] == 20.0
    provinces = {
        r["period_start"]: r["late_rate"] for r in manifest["expected"]["province_lateness"]
    }
    assert provinces == {"2025-01-01": 9.62, "2025-07-01": 9.88}
