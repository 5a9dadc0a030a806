"""The bench inbox spread over provinces of today's map: exact shares, legacy codes."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from motcua_dev.generator.bench import write_bench
from motcua_dev.generator.units import province_spread
from tests.dev.generator.inbox_check import ONESTOP, keyed, onestop_reason, read_table

UNITS_HEADER = (
    "commune_code,commune_name,commune_type,district_code,district_name,province_code,"
    "province_name,valid_from,valid_to,valid_from_basis,source"
)
CROSSWALK_HEADER = (
    "from_code,from_valid_from,to_code,to_valid_from,change_date,change_type,is_default_successor"
)


def _reference(folder: Path) -> Path:
    """A small national reference: three provinces today, six legacy communes before."""
    units = [
        # legacy communes (2011 to the reform) of old provinces 30, 31, 40 and 41
        "00010,Xã A,Xã,301,Huyện A,30,Tỉnh Ba Mươi,2011-01-01,2025-06-30,horizon,t",
        "00011,Xã B,Xã,301,Huyện A,30,Tỉnh Ba Mươi,2011-01-01,2025-06-30,horizon,t",
        "00012,Xã C,Xã,311,Huyện C,31,Tỉnh Ba Mốt,2011-01-01,2025-06-30,horizon,t",
        "00020,Xã D,Xã,401,Huyện D,40,Tỉnh Bốn Mươi,2011-01-01,2025-06-30,horizon,t",
        "00021,Xã E,Xã,401,Huyện D,40,Tỉnh Bốn Mươi,2011-01-01,2024-10-31,horizon,t",
        "00030,Xã F,Xã,411,Huyện F,41,Tỉnh Bốn Mốt,2011-01-01,2025-06-30,horizon,t",
        # today's map: provinces 31 (30 and 31 merged), 40, 41
        "00100,Xã Một,Xã,,,31,Tỉnh Ba Mốt,2025-07-01,,reform,t",
        "00200,Xã Hai,Xã,,,40,Tỉnh Bốn Mươi,2025-07-01,,reform,t",
        "00300,Xã Ba,Xã,,,41,Tỉnh Bốn Mốt,2025-07-01,,reform,t",
    ]
    crosswalk = [
        "00010,2011-01-01,00100,2025-07-01,2025-07-01,reform_2025,true",
        "00011,2011-01-01,00100,2025-07-01,2025-07-01,reform_2025,true",
        # split: its default successor is in province 31, a part went to 40
        "00012,2011-01-01,00100,2025-07-01,2025-07-01,reform_2025,true",
        "00012,2011-01-01,00200,2025-07-01,2025-07-01,reform_2025,false",
        "00020,2011-01-01,00200,2025-07-01,2025-07-01,reform_2025,true",
        "00030,2011-01-01,00300,2025-07-01,2025-07-01,reform_2025,true",
    ]
    (folder / "admin_units.csv").write_text("\n".join([UNITS_HEADER, *units]) + "\n")
    (folder / "admin_unit_crosswalk.csv").write_text(
        "\n".join([CROSSWALK_HEADER, *crosswalk]) + "\n"
    )
    return folder


def test_province_spread_takes_the_legacy_communes_of_todays_provinces(tmp_path: Path) -> None:
    folder = _reference(tmp_path)
    spread = province_spread(2, folder)
    # two of the three provinces, evenly spaced: the 1st and the 2nd of (31, 40, 41)
    assert [(code, [(u.code, u.province_code) for u in units]) for code, units in spread] == [
        ("31", [("00010", "30"), ("00011", "30"), ("00012", "31")]),
        ("40", [("00020", "40")]),  # 00021 was gone before the reform; 00012's part not
    ]
    assert [code for code, _ in province_spread(3, folder)] == ["31", "40", "41"]
    with pytest.raises(ValueError, match="1 to 3"):
        province_spread(4, folder)


@pytest.mark.parametrize("rows", [5003, 20_003 + 40_000])
def test_bench_rows_spread_exactly_over_the_provinces(tmp_path: Path, rows: int) -> None:
    """rows // 4 each, one more for the first rows % 4, in round robin across chunks."""
    spread = province_spread(4)
    province_of = {u.code: code for code, units in spread for u in units}
    report = write_bench(tmp_path / "p.csv", rows, seed=5, vary=True, provinces=4)
    assert report["rows"] == rows
    table = read_table(tmp_path / "p.csv")
    dossiers = keyed(table, ONESTOP)
    assert len({d["code"] for d in dossiers}) == rows
    assert all(onestop_reason(d, set(province_of)) is None for d in dossiers)
    order = [code for code, _ in spread]
    assert [province_of[d["unit"]] for d in dossiers[:8]] == order + order
    counts = Counter(province_of[d["unit"]] for d in dossiers)
    assert [counts[code] for code in order] == [
        rows // 4 + (1 if i < rows % 4 else 0) for i in range(4)
    ]
    # every row's code starts with its own unit code (the delta's stratification reads it)
    assert all(d["code"].startswith(d["unit"] + "-") for d in dossiers)


def test_default_bench_file_is_unchanged_by_the_province_option(tmp_path: Path) -> None:
    plain = write_bench(tmp_path / "a.csv", 3000, seed=2, vary=True)
    again = write_bench(tmp_path / "b.csv", 3000, seed=2, vary=True, provinces=0)
    assert plain["bytes"] == again["bytes"]
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    with open(tmp_path / "a.csv", encoding="utf-8", newline="") as handle:
        units = {row[1] for row in list(csv.reader(handle))[1:]}
    assert len(units) > 1
