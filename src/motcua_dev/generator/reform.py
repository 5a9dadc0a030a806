"""The ``reform`` preset: six Ninh Hòa communes across the 1/7/2025 reform, codes reused.

From 1 Jan 2024 to 30 Jun 2025 the exports carry the legacy codes of Xã Ninh
Tây (22534), Xã Ninh Sim (22552), Phường Ninh Hiệp (22528), Xã Ninh Đông
(22564), Phường Ninh Đa (22570) and Xã Ninh Phụng (22573); from 1 Jul 2025 to
the run date (31 Mar 2026) those of the two units they became: Xã Tây Ninh
Hòa, which reuses 22552, and Phường Ninh Hòa, which reuses 22528. The same
code therefore names Xã Ninh Sim in a 2024 dossier and Xã Tây Ninh Hòa in a
2026 one.

The inbox is generated in two runs of the engine (legacy units to
30/6/2025, then the 2025 units), whose files and manifests are merged.
Every legacy unit is pinned on H1 2025 with nothing left in progress at the
reform, and both new units on H2 2025, so the figures are known exactly on
both bases: ``expected.commune_lateness`` (as received, per unit version),
``expected.commune_lateness_current`` (today's units: a unit of 2025 with
its predecessors' H1 2025 pins summed, late_rate recomputed) and
``expected.province_lateness``. Surveys come from the first run only (2024
and the first 2025 round); the second has none.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from motcua_dev.generator.engine import GeneratorConfig, generate
from motcua_dev.generator.manifest import SUMMABLE, rate
from motcua_dev.generator.scenario import LatenessPin, Scenario

REFORM_SEED = 2025
LEGACY = ("22528", "22534", "22552", "22564", "22570", "22573")
# today's unit (2025 code) -> the legacy units it absorbed
SUCCESSORS: dict[str, tuple[str, ...]] = {
    "22528": ("22528", "22564", "22570", "22573"),
    "22552": ("22534", "22552"),
}
LEGACY_END = date(2025, 6, 30)
REFORM_DAY = date(2025, 7, 1)
RUN_DATE = date(2026, 3, 31)
H2_2024 = (date(2024, 7, 1), date(2024, 12, 31))
H1_2025 = (date(2025, 1, 1), LEGACY_END)
H2_2025 = (REFORM_DAY, date(2025, 12, 31))


def _legacy_pin(code: str, n: int) -> LatenessPin:
    """H1 2025 of a legacy unit: everything resolved by 30/6/2025 (nothing open at the reform)."""
    return LatenessPin(
        code,
        *H1_2025,
        resolved_early=6 + n,
        resolved_on_time=10 + 2 * n,
        resolved_late=n,
        withdrawn_or_refused=1,
        carried_over=2,
        received_online=3,
        received_postal=1,
        late_with_apology=n // 2,
        received_outside_one_stop=1,
    )


def legacy_scenario() -> Scenario:
    """22534: 5 of 36 late (13.89 %, over), the others at 0, 1, 2, 3, 4 late."""
    late = {"22528": 1, "22534": 5, "22552": 0, "22564": 2, "22570": 3, "22573": 4}
    return Scenario(
        name="reform-legacy",
        description="Six Ninh Hòa units, H1 2025 pinned, nothing open at the reform",
        lateness=tuple(_legacy_pin(code, late[code]) for code in LEGACY),
    )


def today_scenario() -> Scenario:
    """H2 2025 of the two new units; Xã Tây Ninh Hòa over the threshold."""
    return Scenario(
        name="reform-today",
        description="The two 2025 units, H2 2025 pinned",
        lateness=(
            LatenessPin(
                "22552",
                *H2_2025,
                resolved_early=8,
                resolved_on_time=14,
                resolved_late=4,
                in_progress_on_time=2,
                in_progress_overdue=2,
                withdrawn_or_refused=1,
                received_online=6,
                received_postal=1,
                late_with_apology=2,
                received_outside_one_stop=2,
            ),
            LatenessPin(
                "22528",
                *H2_2025,
                resolved_early=20,
                resolved_on_time=25,
                resolved_late=2,
                in_progress_on_time=4,
                withdrawn_or_refused=2,
                received_online=12,
                received_postal=2,
                late_with_apology=1,
                received_outside_one_stop=1,
            ),
        ),
    )


def _units_2025_csv(path: Path) -> Path:
    """The two 2025 units as a generator units file, from the project's unit reference."""
    from motcua.reference.load import DATA_DIR

    with (DATA_DIR / "admin_units.csv").open(encoding="utf-8", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["commune_code"] in SUCCESSORS and r["valid_from"] == REFORM_DAY.isoformat()
        ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, ["commune_code", "commune_name", "commune_type", "province_code"]
        )
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r[k] for k in writer.fieldnames})
    return path


def configs(out_dir: Path, work: Path, seed: int | None = None) -> tuple[GeneratorConfig, ...]:
    """The two engine runs: legacy units into ``work/legacy``, 2025 units into ``work/today``."""
    seed = REFORM_SEED if seed is None else seed
    common: dict[str, Any] = {
        "seed": seed,
        "dossiers_per_unit_day": 0.5,
        "invalid_rate": 0.01,
        "survey_invalid_rate": 0.01,
        "preset": "reform",
    }
    legacy = GeneratorConfig(
        out_dir=work / "legacy",
        start=date(2024, 1, 1),
        end=LEGACY_END,
        run_date=LEGACY_END,
        unit_codes=LEGACY,
        scenario=legacy_scenario(),
        survey_scale=0.5,
        **common,
    )
    today = GeneratorConfig(
        out_dir=work / "today",
        start=REFORM_DAY,
        end=RUN_DATE,
        run_date=RUN_DATE,
        units_csv=_units_2025_csv(work / "units_2025.csv"),
        unit_codes=tuple(SUCCESSORS),
        scenario=today_scenario(),
        surveys=False,
        **common,
    )
    return legacy, today


def _move_files(src: Path, out_dir: Path) -> None:
    for sub in ("onestop", "survey"):
        if not (src / sub).is_dir():
            continue
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
        for path in sorted((src / sub).iterdir()):
            target = out_dir / sub / path.name
            if target.exists():
                raise FileExistsError(f"both runs wrote {sub}/{path.name}")
            shutil.move(str(path), target)


def _lateness_row(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Counts summed, late_rate recomputed (the rollups' rule)."""
    summed = {k: sum(r[k] for r in rows) for k in SUMMABLE}
    late_rate = rate(summed["late_total"], summed["resolved_total"] + summed["in_progress_total"])
    return {
        **summed,
        "late_rate": late_rate,
        "over_threshold": late_rate is not None and late_rate > threshold,
    }


def merge(legacy: dict[str, Any], today: dict[str, Any]) -> dict[str, Any]:
    """One manifest: each run's cells where the final marts hold them, plus both bases."""
    threshold = legacy["expected"]["threshold"]

    def before(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["period_end"] <= LEGACY_END.isoformat()]

    def after(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # 2025 units have no district
        return [{**r, "district_code": None} for r in rows]

    old, new = legacy["expected"], today["expected"]
    pins = {(r["commune_code"], r["period_start"]): r for r in old["commune_lateness"]}
    current = []
    for code, olds in SUCCESSORS.items():
        rows = [pins[(c, H1_2025[0].isoformat())] for c in olds]
        current.append(
            {
                "commune_code": code,
                "period_type": "half_year",
                "period_start": H1_2025[0].isoformat(),
                **_lateness_row(rows, threshold),
            }
        )
    current += [
        {k: r[k] for k in ("commune_code", "period_type", "period_start", *SUMMABLE)}
        | {"late_rate": r["late_rate"], "over_threshold": r["over_threshold"]}
        for r in new["commune_lateness"]
    ]
    province = [
        {
            "province_code": "56",
            "period_type": "half_year",
            "period_start": start.isoformat(),
            **_lateness_row(
                [
                    r
                    for r in old["commune_lateness"] + new["commune_lateness"]
                    if r["period_start"] == start.isoformat()
                ],
                threshold,
            ),
        }
        for start in (H1_2025[0], H2_2025[0])
    ]
    totals = {
        source: {
            key: legacy["totals"][source][key] + today["totals"][source][key]
            for key in ("files", "rows", "quarantine_rows")
        }
        for source in ("onestop", "survey")
    }
    return {
        "generator": legacy["generator"],
        "manifest_version": legacy["manifest_version"],
        "preset": "reform",
        "seed": legacy["seed"],
        "start": legacy["start"],
        "end": today["end"],
        "run_date": today["run_date"],
        "reform_day": REFORM_DAY.isoformat(),
        "successors": {k: list(v) for k, v in SUCCESSORS.items()},
        "totals": totals,
        "runs": {"legacy": legacy, "today": today},
        "expected": {
            "threshold": threshold,
            "commune_lateness": before(old["commune_lateness"]) + after(new["commune_lateness"]),
            "district_lateness": before(
                [r for r in old["district_lateness"] if r["district_code"]]
            ),
            "commune_received": before(old["commune_received"]) + after(new["commune_received"]),
            "commune_contact_completeness": before(old["commune_contact_completeness"])
            + after(new["commune_contact_completeness"]),
            "commune_satisfaction": old["commune_satisfaction"],
            "district_satisfaction": [
                r for r in old["district_satisfaction"] if int(r["survey_year"]) <= 2024
            ],
            "commune_lateness_current": current,
            "province_lateness": province,
        },
    }


def write_reform(out_dir: Path, seed: int | None = None) -> dict[str, Any]:
    """Write the reform inbox under ``out_dir`` and its merged ``manifest.json``; return it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="motcua-reform-") as tmp:
        work = Path(tmp)
        legacy_cfg, today_cfg = configs(out_dir, work, seed)
        legacy = generate(legacy_cfg)
        today = generate(today_cfg)
        _move_files(work / "legacy", out_dir)
        _move_files(work / "today", out_dir)
    manifest = merge(legacy, today)
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return manifest
