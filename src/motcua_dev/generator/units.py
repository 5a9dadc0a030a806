"""Administrative units the generated dossiers and surveys belong to.

The default list is the 27 communes and wards of Ninh Hòa town as they stood
in 2017 (package data copied from the shared reference); any CSV with at
least ``commune_code`` and ``commune_name`` columns can replace it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DEFAULT_UNITS_RESOURCE = "communes_ninh_hoa_2017.csv"
_PREFIXES = ("Phường ", "Xã ", "Thị trấn ")


@dataclass(frozen=True)
class Unit:
    """One commune-level unit: GSO code, full NFC name and its district."""

    code: str
    name: str
    unit_type: str = "Xã"
    district_code: str = ""
    district_name: str = ""
    province_code: str = ""

    @property
    def short_name(self) -> str:
        """The name without ``Xã``/``Phường``, as exports and the letter often write it."""
        for prefix in _PREFIXES:
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name

    @property
    def is_ward(self) -> bool:
        return self.unit_type == "Phường" or self.name.startswith("Phường ")


def default_units_path() -> Path:
    """Path of the packaged Ninh Hòa reference file."""
    return Path(str(resources.files("motcua_dev.generator") / "data" / DEFAULT_UNITS_RESOURCE))


def load_units(path: Path | None = None, codes: Iterable[str] | None = None) -> list[Unit]:
    """Read units from a CSV, optionally keeping only ``codes`` (in file order).

    Raises ValueError for an unknown requested code, so a typo in a preset or
    on the command line fails loudly instead of silently shrinking the inbox.
    """
    source = path or default_units_path()
    with open(source, encoding="utf-8-sig", newline="") as handle:
        units = [
            Unit(
                code=row["commune_code"].strip(),
                name=row["commune_name"].strip(),
                unit_type=(row.get("commune_type") or "Xã").strip(),
                district_code=(row.get("district_code") or "").strip(),
                district_name=(row.get("district_name") or "").strip(),
                province_code=(row.get("province_code") or "").strip(),
            )
            for row in csv.DictReader(handle)
        ]
    if codes is None:
        return units
    wanted = list(codes)
    known = {u.code for u in units}
    missing = [c for c in wanted if c not in known]
    if missing:
        raise ValueError(f"unit code(s) not in {source}: {', '.join(missing)}")
    keep = set(wanted)
    return [u for u in units if u.code in keep]


TODAY_MAP_FROM = "2025-07-01"  # the 1/7/2025 reform: the reference's rows of today's map


def _reference_dir() -> Path:
    from motcua.reference.load import DATA_DIR

    return Path(DATA_DIR)


def province_spread(count: int, reference_dir: Path | None = None) -> list[tuple[str, list[Unit]]]:
    """``count`` provinces of today's map, each with the legacy communes that became it.

    Read from the national reference (``admin_units.csv`` and
    ``admin_unit_crosswalk.csv``, see docs/map.md): the provinces of today's
    map sorted by code, ``count`` of them taken evenly spaced over that list
    (one, the first; all 34 at most); for each, the communes valid before
    the reform (through 2025-06-30, so for the bench's 2016–2017 states)
    whose default successor lies in it, with the code and province of their
    own time. Deterministic: the same reference gives the same spread.
    """
    folder = reference_dir or _reference_dir()
    with open(folder / "admin_units.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    today = {
        r["commune_code"]: r["province_code"] for r in rows if r["valid_from"] == TODAY_MAP_FROM
    }
    provinces = sorted(set(today.values()))
    if not 1 <= count <= len(provinces):
        raise ValueError(f"provinces: 1 to {len(provinces)} (today's map), not {count}")
    chosen = [provinces[i * len(provinces) // count] for i in range(count)]
    successor: dict[str, str] = {}
    with open(folder / "admin_unit_crosswalk.csv", encoding="utf-8", newline="") as handle:
        for link in csv.DictReader(handle):
            if link["is_default_successor"] == "true" and link["to_valid_from"] == TODAY_MAP_FROM:
                successor[link["from_code"]] = today[link["to_code"]]
    legacy: dict[str, list[Unit]] = {code: [] for code in chosen}
    for r in rows:
        if r["valid_from"] == TODAY_MAP_FROM or r["valid_to"] != "2025-06-30":
            continue
        province = successor.get(r["commune_code"])
        if province in legacy:
            legacy[province].append(
                Unit(
                    code=r["commune_code"],
                    name=r["commune_name"],
                    unit_type=r["commune_type"],
                    district_code=r["district_code"],
                    district_name=r["district_name"],
                    province_code=r["province_code"],
                )
            )
    return [(code, sorted(legacy[code], key=lambda u: u.code)) for code in chosen]
