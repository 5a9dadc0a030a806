"""The reference seeds that ``python -m motcua.reference`` generates."""

from __future__ import annotations

import csv
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from motcua.config import dbt_project_dir
from motcua.reference import __main__ as generator
from motcua.reference import admin_units, calendar, load

SEEDS = dbt_project_dir() / "seeds"
UNITS = load.DATA_DIR / "admin_units.csv"
CROSSWALK = load.DATA_DIR / "admin_unit_crosswalk.csv"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seeds")
    generator.generate(out, out / "data")
    return out


@pytest.mark.parametrize(
    ("name", "committed"),
    [
        ("reference/vn_public_holidays.csv", SEEDS / "reference" / "vn_public_holidays.csv"),
        ("data/admin_units.csv", UNITS),
        ("data/admin_unit_crosswalk.csv", CROSSWALK),
    ],
)
def test_committed_seeds_are_what_the_generator_writes(
    regenerated: Path, name: str, committed: Path
) -> None:
    assert (regenerated / name).read_bytes() == committed.read_bytes(), (
        f"{committed} is stale: run `python -m motcua.reference`"
    )


def test_the_27_units_of_ninh_hoa_2017_with_their_exact_names() -> None:
    expected = read(SEEDS / "checks" / "expected_communes_ninh_hoa_2017.csv")
    units = read(UNITS)
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
    units = read(UNITS)
    units = [u for u in units if u["commune_code"] == "22606"]
    assert [(u["commune_name"], u["valid_from"], u["valid_to"]) for u in units] == [
        ("Xã Ninh Vân", "2011-01-01", "2024-10-31"),
        ("Xã Ninh Phước", "2024-11-01", "2025-06-30"),
    ]


def test_every_pre_reform_unit_has_one_default_successor() -> None:
    units = read(UNITS)
    keys = {(u["commune_code"], u["valid_from"]) for u in units}
    edges = read(CROSSWALK)
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
    edges = read(CROSSWALK)
    (edge,) = [e for e in edges if e["from_code"] == "22534"]
    assert (edge["to_code"], edge["change_date"], edge["change_type"]) == (
        "22552",
        "2025-07-01",
        "reform_2025",
    )
    names = {(u["commune_code"], u["valid_from"]): u["commune_name"] for u in read(UNITS)}
    assert names[("22552", "2025-07-01")] == "Xã Tây Ninh Hòa"


def units_on(day: date) -> list[dict[str, str]]:
    """The unit versions valid on ``day``."""
    return [
        u
        for u in read(UNITS)
        if date.fromisoformat(u["valid_from"]) <= day
        and (not u["valid_to"] or day <= date.fromisoformat(u["valid_to"]))
    ]


def test_the_country_before_and_after_the_reform() -> None:
    before, after = units_on(date(2025, 6, 30)), units_on(date(2025, 7, 1))
    assert (len(before), len({u["province_code"] for u in before})) == (10035, 63)
    assert (len(after), len({u["province_code"] for u in after})) == (3321, 34)
    assert all(u["district_code"] for u in before)
    assert not any(u["district_code"] for u in after)


@pytest.mark.parametrize(
    ("province_code", "province_name", "before", "after"),
    [
        ("56", "Tỉnh Khánh Hòa", 132, 65),
        ("58", "Tỉnh Ninh Thuận", 62, 0),  # merged into Khánh Hòa
        ("01", "Thành phố Hà Nội", 526, 126),
    ],
)
def test_units_of_a_province_before_and_after(
    province_code: str, province_name: str, before: int, after: int
) -> None:
    def of_province(units: list[dict[str, str]]) -> list[dict[str, str]]:
        return [u for u in units if u["province_code"] == province_code]

    old, new = of_province(units_on(date(2025, 6, 30))), of_province(units_on(date(2025, 7, 1)))
    assert (len(old), len(new)) == (before, after)
    assert {u["province_name"] for u in old + new} == {province_name}


def test_a_reused_code_names_two_units() -> None:
    units = read(UNITS)
    assert [
        (u["commune_name"], u["province_code"], u["valid_from"], u["valid_to"])
        for u in units
        if u["commune_code"] == "00004"
    ] == [
        ("Phường Trúc Bạch", "01", "2011-01-01", "2025-06-30"),
        ("Phường Ba Đình", "01", "2025-07-01", ""),
    ]


def test_a_divided_unit_lists_every_successor_and_one_default() -> None:
    edges = read(CROSSWALK)
    names = {(u["commune_code"], u["valid_from"]): u["commune_name"] for u in read(UNITS)}
    successors = sorted(
        (names[(e["to_code"], e["to_valid_from"])], e["is_default_successor"])
        for e in edges
        if (e["from_code"], e["from_valid_from"]) == ("00007", "2011-01-01")
    )
    assert names[("00007", "2011-01-01")] == "Phường Cống Vị"
    assert successors == [("Phường Giảng Võ", "false"), ("Phường Ngọc Hà", "true")]


def test_official_2025_codes_win_over_the_converter_package() -> None:
    """vietnamadminunits codes Phường Cửa Nam 00082 (Trần Hưng Đạo's old code); GSO: 00073."""
    new = {u["commune_code"]: u["commune_name"] for u in units_on(date(2025, 7, 1))}
    assert new["00073"] == "Phường Cửa Nam"
    assert "00082" not in new


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
    assert "phuongancu (into 31123 Phường Thới Bình)" in missing
    assert not any(m.startswith("xaninhvan") for m in missing)


def test_every_name_of_the_reference_is_nfc() -> None:
    """stg_reference__admin_units normalises the operators' units only: these must be NFC."""
    for unit in read(UNITS):
        for column in ("commune_name", "commune_type", "district_name", "province_name"):
            assert unit[column] == unicodedata.normalize("NFC", unit[column]), (unit, column)
