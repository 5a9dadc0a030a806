"""``MOTCUA_PROVINCE``: the one province the reports, the dashboard and the alerts speak of.

The warehouse needs no province setting: the province of every row comes
from its unit code and date, and the marts hold every province of the data.
A provincial team that shares a warehouse (or loads a neighbour's exports)
sets ``MOTCUA_PROVINCE`` to its GSO province code (2 digits, e.g. ``56``);
unset, nothing is restricted.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import Any

from motcua.config import PROVINCE_ENV, dbt_project_dir, province_setting
from motcua.reference.load import DATA_DIR

_CODE = re.compile(r"^[0-9]{2}$")


def province_filter() -> str | None:
    """The province code of ``MOTCUA_PROVINCE``, or None; a malformed value stops the run."""
    value = province_setting()
    if not value:
        return None
    if not _CODE.match(value):
        raise SystemExit(f"{PROVINCE_ENV}={value!r}: a GSO province code of 2 digits, e.g. 56")
    return value


def _codes_in(path: Path, province: str) -> set[str]:
    if not path.exists():
        return set()
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["commune_code"]
            for row in csv.DictReader(handle)
            if (row.get("province_code") or "") == province
        }


@cache
def province_unit_codes(province: str) -> frozenset[str]:
    """Codes that name a unit of ``province`` at some date (reference + operators' seed)."""
    local = dbt_project_dir() / "seeds" / "config" / "admin_units_local.csv"
    return frozenset(_codes_in(DATA_DIR / "admin_units.csv", province) | _codes_in(local, province))


def restrict_quality_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The check summary with only the communes of ``MOTCUA_PROVINCE`` (all when unset)."""
    province = province_filter()
    if province is None:
        return summary
    codes = province_unit_codes(province)
    return {**summary, "communes": [c for c in summary["communes"] if c["commune_code"] in codes]}
