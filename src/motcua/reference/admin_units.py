"""Commune-level units of every province of Vietnam and their successors.

Sources, all maintained public packages:

- ``vietnamadminunits`` table ``admin_units_legacy``: the 63-province map as
  it stood on 30/06/2025 (after the 2019–2024 merges), with districts and GSO
  codes; its ``wardAlias`` column names the units that earlier merges
  absorbed (names only, no codes).
- ``vietnamadminunits`` table ``admin_units`` and ``converter_2025.json``:
  the 34-province map and which 2025 unit each legacy unit went to (one, or
  several with a default when a unit was divided).
- ``vietnam-provinces``: the units created by the reform of 01/07/2025 with
  their official GSO codes and names. Its codes are preferred over the 114
  that ``vietnamadminunits`` gives differently for the same 2025 unit (matched
  by province and name, then by province and code).

Validity dates are not in the packages; they are derived as follows and the
basis is written in column ``valid_from_basis``:

- ``reform_2025``: units of the reform valid from 2025-07-01 (Nghị quyết
  202/2025/QH15 and the UBTVQH resolutions per province), open-ended.
- ``merge_2024``: units that a 2024 merge created, valid from 2024-11-01
  where the project knows it (Khánh Hòa: Nha Trang: Tân Tiến; Ninh Hòa: Ninh
  Phước, which took code 22606; Diên Khánh: Xuân Đồng, ``CREATED_2024``).
  Their predecessors end on 2024-10-31.
- ``horizon``: every other legacy unit. The packages carry no creation date,
  so validity starts at ``HORIZON`` = 2011-01-01, a lower bound of the
  warehouse, not a legal creation date: a dossier of an older date is
  quarantined, and an operator can add what the packages do not know in the
  editable seed ``seeds/config/admin_units_local.csv``.

Units that earlier merges absorbed are named by the packages but not coded.
``ABSORBED_2024`` adds those whose codes the project's reference list of Ninh
Hòa's 27 units (2017) gives; the others stay absent (never guessed) and are
listed by ``uncoded_absorbed_units``. The island districts without communes
(Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) have no commune-level code
before 2025 and are left out of the legacy map.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib import resources

from vietnam_provinces import Province, Ward
from vietnamadminunits.database import query

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
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-"})


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
    """NFC with runs of spaces collapsed: the packages have a few double spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _name_key(text: str) -> str:
    """Names compared across the two packages: NFC, spaces collapsed, one kind of dash."""
    return _nfc(text).translate(_DASHES).casefold()


def _legacy_rows() -> list[dict]:
    """Every coded legacy unit (the island districts without communes have no code)."""
    return query(
        "select provinceKey, districtKey, wardKey, province, district, ward, wardType,"
        " provinceCode, districtCode, wardCode, wardAlias from admin_units_legacy"
        " where wardCode is not null and wardCode != '' order by wardCode"
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
                province_code=row["provinceCode"],
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
                province_code=parent.province_code,
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
    """Units absorbed before 2025 that the packages name (``wardAlias``) but cannot code."""
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


def _official_wards() -> dict[str, dict[str, Ward]]:
    """vietnam-provinces' 2025 wards per province code (2 digits): by code and by name."""
    wards: dict[str, dict[str, Ward]] = {}
    for province in Province.iter_all():
        for ward in Ward.iter_by_province(province.code):
            by = wards.setdefault(f"{int(province.code):02d}", {})
            by[f"{int(ward.code):05d}"] = ward
            by[_name_key(ward.name)] = ward
    return wards


def reform_units() -> list[Unit]:
    """The 3,321 units of 01/07/2025, keyed by (province key, ward key) of vietnamadminunits."""
    official = _official_wards()
    units = []
    for row in query(
        "select provinceKey, wardKey, province, provinceCode, ward, wardType, wardCode"
        " from admin_units order by wardCode"
    ):
        in_province = official[row["provinceCode"]]
        ward = in_province.get(_name_key(row["ward"])) or in_province[row["wardCode"]]
        units.append(
            Unit(
                commune_code=f"{int(ward.code):05d}",
                commune_name=_nfc(ward.name),
                commune_type=_nfc(ward.division_type.value.capitalize()),
                district_code=None,
                district_name=None,
                province_code=row["provinceCode"],
                province_name=_nfc(row["province"]),
                valid_from=REFORM_2025,
                valid_to=None,
                valid_from_basis="reform_2025",
                source="vietnam-provinces",
                key=f"{row['provinceKey']}/{row['wardKey']}",
            )
        )
    if len({u.commune_code for u in units}) != len(units):
        raise ValueError("two 2025 units of vietnamadminunits matched one vietnam-provinces ward")
    return sorted(units, key=lambda u: u.commune_code)


def crosswalk(legacy: list[Unit], absorbed: list[Unit], reform: list[Unit]) -> list[Edge]:
    """Successor edges: units absorbed in 2024 → legacy units → 2025 units."""
    conv = _converter()
    reform_by_key = {u.key: u for u in reform}
    legacy_by_key = {u.key: u for u in legacy}
    absorbed_into = {code: into for code, _, _, into, _ in ABSORBED_2024}
    targets: dict[str, list[tuple[str, bool]]] = {}
    for province_key, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_key, olds in wards.items():
            for old in olds:
                targets.setdefault(old, []).append((f"{province_key}/{new_key}", True))
    for province_key, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, parts in olds.items():
            targets.setdefault(old, []).extend(
                (f"{province_key}/{part['newWardKey']}", part["isDefaultNewWard"]) for part in parts
            )

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
        if unit.key not in targets:
            raise ValueError(f"no 2025 successor for {unit.key}")
        for new_key, is_default in targets[unit.key]:
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
