"""Regenerate the dbt seeds that come from maintained libraries.

    python -m motcua.reference [--seeds-dir DIR] [--data-dir DIR]

writes

- ``vn_public_holidays.csv`` (``holidays``) into ``dbt_project/seeds/reference/``,
  see ``motcua.reference.calendar``;
- ``admin_units.csv`` and ``admin_unit_crosswalk.csv`` (``vietnamadminunits``,
  ``vietnam-provinces``) into ``src/motcua/reference/data/``, see
  ``motcua.reference.admin_units``: every unit of the country, too many rows
  for a dbt seed at every build, so ``motcua.reference.load`` copies them
  into the warehouse when they change.

The output is deterministic (sorted rows, ``\\n`` line ends), so a re-run with
the same library versions leaves git clean. The editable seeds of
``seeds/config/`` are never touched.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from motcua.config import dbt_project_dir
from motcua.reference import admin_units, calendar, load


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
            count += 1
    return count


def generate(seeds_dir: Path, data_dir: Path = load.DATA_DIR) -> dict[str, int]:
    out = seeds_dir / "reference"
    counts = {}

    holidays = calendar.public_holidays()
    counts["vn_public_holidays.csv"] = write_csv(
        out / "vn_public_holidays.csv",
        ("holiday_date", "holiday_name", "holiday_name_en", "holiday_kind"),
        (
            (h.holiday_date.isoformat(), h.holiday_name, h.holiday_name_en, h.holiday_kind)
            for h in holidays
        ),
    )

    units, edges = admin_units.all_units()
    counts["admin_units.csv"] = write_csv(
        data_dir / "admin_units.csv",
        (
            "commune_code",
            "commune_name",
            "commune_type",
            "district_code",
            "district_name",
            "province_code",
            "province_name",
            "valid_from",
            "valid_to",
            "valid_from_basis",
            "source",
        ),
        (
            (
                u.commune_code,
                u.commune_name,
                u.commune_type,
                u.district_code,
                u.district_name,
                u.province_code,
                u.province_name,
                u.valid_from.isoformat(),
                u.valid_to.isoformat() if u.valid_to else None,
                u.valid_from_basis,
                u.source,
            )
            for u in units
        ),
    )
    counts["admin_unit_crosswalk.csv"] = write_csv(
        data_dir / "admin_unit_crosswalk.csv",
        (
            "from_code",
            "from_valid_from",
            "to_code",
            "to_valid_from",
            "change_date",
            "change_type",
            "is_default_successor",
        ),
        (
            (
                e.from_code,
                e.from_valid_from.isoformat(),
                e.to_code,
                e.to_valid_from.isoformat(),
                e.change_date.isoformat(),
                e.change_type,
                "true" if e.is_default_successor else "false",
            )
            for e in sorted(edges, key=lambda e: (e.from_code, e.from_valid_from, e.to_code))
        ),
    )
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motcua.reference", description=__doc__)
    parser.add_argument(
        "--seeds-dir",
        type=Path,
        default=dbt_project_dir() / "seeds",
        help="dbt seeds folder (default: dbt_project/seeds)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=load.DATA_DIR,
        help="where the unit reference goes (default: src/motcua/reference/data)",
    )
    args = parser.parse_args(argv)
    for name, count in generate(args.seeds_dir, args.data_dir).items():
        print(f"{name}: {count} rows")
    missing = admin_units.uncoded_absorbed_units()
    if missing:
        print("absorbed before 2025, named but not coded by the libraries (not in the reference):")
        for unit in missing:
            print(f"  {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
