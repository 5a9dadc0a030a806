"""Commune-level units of Khánh Hòa (GSO province code 56) and their successors.

Sources, all maintained public packages:

- ``vietnamadminunits`` table ``admin_units_legacy``: the 63-province map as
  it stood on 30/06/2025 (after the 2024 merges), with GSO codes; its
  ``wardAlias`` column names the units that the 2024 merges absorbed.
- ``vietnamadminunits`` ``converter_2025.json``: which 2025 unit each legacy
  unit went to (one, or several with a default when a unit was divided).
- ``vietnam-provinces``: the units created by the reform of 01/07/2025 with
  their official GSO codes. Its codes are preferred over the few that
  ``vietnamadminunits`` gives differently for the same 2025 unit.

Validity dates are not in the packages; they are derived as follows and the
basis is written in column ``valid_from_basis``:

- ``reform_2025``: units of the reform valid from 2025-07-01 (Nghị quyết
  1667/NQ-UBTVQH15 on Khánh Hòa), open-ended.
- ``merge_2024``: units that the 2024 merges created, valid from 2024-11-01,
  the effective date of the UBTVQH resolution on Khánh Hòa's commune-level
  units 2023–2025 (Nha Trang: Tân Tiến; Ninh Hòa: Ninh Phước, which took code
  22606; Diên Khánh: Xuân Đồng). Their predecessors end on 2024-10-31.
- ``horizon``: every other pre-2025 unit. The packages carry no creation date,
  so validity starts at ``HORIZON`` = 2011-01-01: the province's last
  district-level reorganisation before the 2019–2025 merges took effect in
  2010 (Thị xã Ninh Hòa and its 7 phường, Nghị quyết 41/NQ-CP; Thành phố Cam
  Ranh), so the reported units stood from then on. It is a lower bound of the
  warehouse, not a legal creation date.

Units that the 2024 merges absorbed are named by the packages but not coded.
``ABSORBED_2024`` adds those whose codes the project's reference list of Ninh
Hòa's 27 units (2017) gives; the others (Nha Trang, Diên Khánh) stay absent
and are reported by ``uncoded_absorbed_units``.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib import resources

from vietnam_provinces import Province, ProvinceCode, Ward
from vietnamadminunits.database import query

PROVINCE_CODE = "56"
HORIZON = date(2011, 1, 1)
MERGE_2024 = date(2024, 11, 1)
REFORM_2025 = date(2025, 7, 1)
LEGACY_END = date(2025, 6, 30)
PRE_MERGE_END = date(2024, 10, 31)

# Legacy units (province_district_ward key of vietnamadminunits) that the
# 2024 merges created: they are valid from MERGE_2024 only.
CREATED_2024 = frozenset(
    {
        "tinhkhanhhoa_thanhphonhatrang_phuongtantien",
        "tinhkhanhhoa_thixaninhhoa_xaninhphuoc",
        "tinhkhanhhoa_huyendienkhanh_xaxuandong",
    }
)

# Units absorbed on 2024-11-01 whose GSO codes come from the reference list of
# Ninh Hòa (communes_ninh_hoa_2017.csv): code, name, type, absorbing unit key,
# and the ward key under which vietnamadminunits knows the old unit.
ABSORBED_2024: tuple[tuple[str, str, str, str, str], ...] = (
    ("22579", "Xã Ninh Phước", "Xã", "tinhkhanhhoa_thixaninhhoa_xaninhphuoc", "xaninhphuoc"),
    ("22606", "Xã Ninh Vân", "Xã", "tinhkhanhhoa_thixaninhhoa_xaninhphuoc", "xaninhvan"),
)
_UNIT_PREFIXES = ("xa", "phuong", "thitran")


@dataclass(frozen=True)
class Unit:
    commune_code: str
    commune_name: str
    commune_type: str
    district_code: str | None
    district_name: str | None
    province_code: str
    province_name: str
    valid_from: date
    valid_to: date | None
    valid_from_basis: str
    source: str
    key: str  # vietnamadminunits key, for the crosswalk only


@dataclass(frozen=True)
class Edge:
    from_code: str
    from_valid_from: date
    to_code: str
    to_valid_from: date
    change_date: date
    change_type: str  # merge_2024 | reform_2025
    is_default_successor: bool


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _legacy_rows() -> list[dict]:
    return query(
        "select provinceKey, districtKey, wardKey, province, district, ward, wardType,"
        " districtCode, wardCode, wardAlias from admin_units_legacy"
        f" where provinceCode = '{PROVINCE_CODE}' order by wardCode"
    )


def _converter() -> dict:
    path = resources.files("vietnamadminunits") / "data" / "converter_2025.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _legacy_key(row: dict) -> str:
    return f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"


def legacy_units() -> list[Unit]:
    units = []
    for row in _legacy_rows():
        key = _legacy_key(row)
        created = key in CREATED_2024
        units.append(
            Unit(
                commune_code=row["wardCode"],
                commune_name=_nfc(row["ward"]),
                commune_type=_nfc(row["wardType"]),
                district_code=row["districtCode"],
                district_name=_nfc(row["district"]),
                province_code=PROVINCE_CODE,
                province_name=_nfc(row["province"]),
                valid_from=MERGE_2024 if created else HORIZON,
                valid_to=LEGACY_END,
                valid_from_basis="merge_2024" if created else "horizon",
                source="vietnamadminunits admin_units_legacy",
                key=key,
            )
        )
    return units


def absorbed_units(legacy: list[Unit]) -> list[Unit]:
    by_key = {u.key: u for u in legacy}
    units = []
    for code, name, kind, into, _ in ABSORBED_2024:
        parent = by_key[into]
        units.append(
            Unit(
                commune_code=code,
                commune_name=name,
                commune_type=kind,
                district_code=parent.district_code,
                district_name=parent.district_name,
                province_code=PROVINCE_CODE,
                province_name=parent.province_name,
                valid_from=HORIZON,
                valid_to=PRE_MERGE_END,
                valid_from_basis="horizon",
                source="reference list communes_ninh_hoa_2017.csv; absorbed 2024-11-01",
                key=f"absorbed_{code}",
            )
        )
    return units


def uncoded_absorbed_units() -> list[str]:
    """Units absorbed in 2024 that the packages name (``wardAlias``) but cannot code."""
    coded = {alias for *_, alias in ABSORBED_2024}
    missing = []
    for row in _legacy_rows():
        aliases = json.loads(row["wardAlias"] or "[]")
        # each unit is listed twice: "phuongxuonghuan" and its short form "xuonghuan"
        full_names = [
            a for a in aliases for p in _UNIT_PREFIXES if a.startswith(p) and a[len(p) :] in aliases
        ]
        missing += [
            f"{alias} (into {row['wardCode']} {_nfc(row['ward'])})"
            for alias in full_names
            if alias not in coded
        ]
    return sorted(missing)


def reform_units() -> list[Unit]:
    province = Province.from_code(ProvinceCode(int(PROVINCE_CODE)))
    province_name = _nfc(f"{province.division_type.value.capitalize()} {province.name}")
    units = []
    for ward in Ward.iter_by_province(province.code):
        name = _nfc(ward.name)
        units.append(
            Unit(
                commune_code=f"{int(ward.code):05d}",
                commune_name=name,
                commune_type=_nfc(ward.division_type.value.capitalize()),
                district_code=None,
                district_name=None,
                province_code=PROVINCE_CODE,
                province_name=province_name,
                valid_from=REFORM_2025,
                valid_to=None,
                valid_from_basis="reform_2025",
                source="vietnam-provinces",
                key=ward.codename.replace("_", ""),
            )
        )
    return sorted(units, key=lambda u: u.commune_code)


def crosswalk(legacy: list[Unit], absorbed: list[Unit], reform: list[Unit]) -> list[Edge]:
    """Successor edges: 2017-era units → 2024 units → 2025 units."""
    conv = _converter()
    new_keys = set(conv["DICT_PROVINCE"])
    province_key = next(k for k in new_keys if "tinhkhanhhoa" in conv["DICT_PROVINCE"][k])
    no_divided = conv["DICT_PROVINCE_WARD_NO_DIVIDED"][province_key]
    divided = conv["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {})
    reform_by_key = {u.key: u for u in reform}
    legacy_by_key = {u.key: u for u in legacy}
    absorbed_into = {code: into for code, _, _, into, _ in ABSORBED_2024}

    edges = []
    for unit in absorbed:
        into = legacy_by_key[absorbed_into[unit.commune_code]]
        edges.append(
            Edge(
                unit.commune_code,
                unit.valid_from,
                into.commune_code,
                into.valid_from,
                MERGE_2024,
                "merge_2024",
                True,
            )
        )
    for unit in legacy:
        targets: list[tuple[str, bool]] = [
            (new_key, True) for new_key, olds in no_divided.items() if unit.key in olds
        ]
        targets += [(t["newWardKey"], t["isDefaultNewWard"]) for t in divided.get(unit.key, [])]
        if not targets:
            raise ValueError(f"no 2025 successor for {unit.key}")
        for new_key, is_default in targets:
            new = reform_by_key[new_key]
            edges.append(
                Edge(
                    unit.commune_code,
                    unit.valid_from,
                    new.commune_code,
                    new.valid_from,
                    REFORM_2025,
                    "reform_2025",
                    is_default,
                )
            )
    return edges


def all_units() -> tuple[list[Unit], list[Edge]]:
    legacy = legacy_units()
    absorbed = absorbed_units(legacy)
    reform = reform_units()
    units = sorted(absorbed + legacy + reform, key=lambda u: (u.commune_code, u.valid_from))
    _check_no_overlap(units)
    return units, crosswalk(legacy, absorbed, reform)


def _check_no_overlap(units: list[Unit]) -> None:
    """A reused code must never have two versions valid on the same day."""
    previous: Unit | None = None
    for unit in units:
        same_code = previous is not None and previous.commune_code == unit.commune_code
        if same_code and (previous.valid_to is None or previous.valid_to >= unit.valid_from):
            raise ValueError(f"overlapping versions of code {unit.commune_code}")
        previous = unit
