"""The reference seeds that ``python -m motcua.reference`` generates."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from motcua.config import dbt_project_dir
from motcua.reference import __main__ as generator
from motcua.reference import admin_units, calendar

SEEDS = dbt_project_dir() / "seeds"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seeds")
    generator.generate(out)
    return out


@pytest.mark.parametrize(
    "name", ["vn_public_holidays.csv", "admin_units.csv", "admin_unit_crosswalk.csv"]
)
def test_committed_seeds_are_what_the_generator_writes(regenerated: Path, name: str) -> None:
    committed = (SEEDS / "reference" / name).read_bytes()
    assert (regenerated / "reference" / name).read_bytes() == committed, (
        f"seeds/reference/{name} is stale: run `python -m motcua.reference`"
    )


def test_the_27_units_of_ninh_hoa_2017_with_their_exact_names() -> None:
    expected = read(SEEDS / "checks" / "expected_communes_ninh_hoa_2017.csv")
    units = read(SEEDS / "reference" / "admin_units.csv")
    on_day = date(2017, 7, 1)
    valid = {
        u["commune_code"]: u
        for u in units
        if date.fromisoformat(u["valid_from"]) <= on_day
        and (not u["valid_to"] or on_day <= date.fromisoformat(u["valid_to"]))
    }
    assert len(expected) == 27
    for row in expected:
        unit = valid[row["commune_code"]]
        assert (unit["commune_name"], unit["commune_type"]) == (
            row["commune_name"],
            row["commune_type"],
        )
        assert (unit["district_code"], unit["district_name"]) == ("572", "Thị xã Ninh Hòa")
    assert sum(u["district_code"] == "572" for u in valid.values()) == 27


def test_reused_code_22606_has_two_versions_end_to_end() -> None:
    units = read(SEEDS / "reference" / "admin_units.csv")
    units = [u for u in units if u["commune_code"] == "22606"]
    assert [(u["commune_name"], u["valid_from"], u["valid_to"]) for u in units] == [
        ("Xã Ninh Vân", "2011-01-01", "2024-10-31"),
        ("Xã Ninh Phước", "2024-11-01", "2025-06-30"),
    ]


def test_every_pre_reform_unit_has_one_default_successor() -> None:
    units = read(SEEDS / "reference" / "admin_units.csv")
    keys = {(u["commune_code"], u["valid_from"]) for u in units}
    edges = read(SEEDS / "reference" / "admin_unit_crosswalk.csv")
    defaults: dict[tuple[str, str], int] = {}
    for edge in edges:
        assert (edge["from_code"], edge["from_valid_from"]) in keys
        assert (edge["to_code"], edge["to_valid_from"]) in keys
        if edge["is_default_successor"] == "true":
            key = (edge["from_code"], edge["from_valid_from"])
            defaults[key] = defaults.get(key, 0) + 1
    ended = {(u["commune_code"], u["valid_from"]) for u in units if u["valid_to"]}
    assert set(defaults) == ended
    assert set(defaults.values()) == {1}


def test_ninh_tay_goes_to_tay_ninh_hoa_in_2025() -> None:
    edges = read(SEEDS / "reference" / "admin_unit_crosswalk.csv")
    (edge,) = [e for e in edges if e["from_code"] == "22534"]
    assert (edge["to_code"], edge["change_date"], edge["change_type"]) == (
        "22552",
        "2025-07-01",
        "reform_2025",
    )
    names = {
        (u["commune_code"], u["valid_from"]): u["commune_name"]
        for u in read(SEEDS / "reference" / "admin_units.csv")
    }
    assert names[("22552", "2025-07-01")] == "Xã Tây Ninh Hòa"


def test_holidays_of_2017_as_the_public_sector_took_them() -> None:
    rows = {r["holiday_date"]: r for r in read(SEEDS / "reference" / "vn_public_holidays.csv")}
    assert rows["2017-04-06"]["holiday_kind"] == "public_holiday"  # Giỗ Tổ Hùng Vương
    assert rows["2017-01-02"]["holiday_kind"] == "day_off_in_lieu"
    assert rows["2017-09-04"]["holiday_kind"] == "day_off_in_lieu"
    assert rows["2018-12-31"]["holiday_kind"] == "swapped_day_off"
    years = {d[:4] for d in rows}
    assert years == {str(y) for y in range(calendar.FIRST_YEAR, calendar.LAST_YEAR + 1)}


def test_make_up_seed_covers_every_swap_the_library_cites() -> None:
    cited = calendar.make_up_dates_cited(calendar.public_holidays())
    seeded = {
        date.fromisoformat(r["work_date"])
        for r in read(SEEDS / "config" / "official_make_up_working_days.csv")
    }
    assert cited <= seeded
    assert all(day.isoweekday() in (6, 7) for day in seeded)


def test_uncoded_absorbed_units_are_reported() -> None:
    missing = admin_units.uncoded_absorbed_units()
    assert "phuongxuonghuan (into 22348 Phường Vạn Thạnh)" in missing
    assert not any(m.startswith("xaninhvan") for m in missing)
