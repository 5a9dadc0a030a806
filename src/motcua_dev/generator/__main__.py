"""Command line: ``python -m motcua_dev.generator {sample,small,generate,bench} ...``.

sample    the letter's story (27 units, 2016-01-01 → 2017-07-14) into --out
small     the end-to-end test inbox (4 communes, Dec 2016 → Apr 2017) into --out
reform    six communes across the 1/7/2025 reform (2024 → 2026-03-31, codes reused)
generate  any units / date range / volume / scenario JSON into --out
bench     --rows N plain valid rows into one UTF-8 CSV (--out FILE.csv), or with
          --delta-of BASE.csv --fraction F the next night's changes of such a file
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from motcua_dev.generator.engine import GeneratorConfig, generate
from motcua_dev.generator.scenario import Scenario, ScenarioError


def _summary(manifest: dict[str, Any], out: Path) -> str:
    totals = manifest["totals"]
    return json.dumps(
        {
            "out": str(out),
            "run_date": manifest["run_date"],
            "onestop_files": totals["onestop"]["files"],
            "onestop_rows": totals["onestop"]["rows"],
            "onestop_quarantine_rows": totals["onestop"]["quarantine_rows"],
            "dossiers": totals["onestop"]["dossiers"],
            "survey_files": totals["survey"]["files"],
            "survey_rows": totals["survey"]["rows"],
            "survey_quarantine_rows": totals["survey"]["quarantine_rows"],
        },
        ensure_ascii=False,
    )


def _cmd_preset(args: argparse.Namespace) -> int:
    from motcua_dev.generator.presets import sample_config, small_config

    make = sample_config if args.command == "sample" else small_config
    manifest = generate(make(args.out, args.seed))
    print(_summary(manifest, args.out))
    return 0


def _cmd_reform(args: argparse.Namespace) -> int:
    from motcua_dev.generator.reform import write_reform

    manifest = write_reform(args.out, args.seed)
    print(
        json.dumps({"out": str(args.out), "run_date": manifest["run_date"], **manifest["totals"]})
    )
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    codes = tuple(c.strip() for c in args.unit_codes.split(",")) if args.unit_codes else None
    cfg = GeneratorConfig(
        out_dir=args.out,
        start=args.start,
        end=args.end,
        run_date=args.run_date,
        seed=args.seed,
        units_csv=args.units_csv,
        unit_codes=codes,
        dossiers_per_unit_day=args.dossiers_per_unit_day,
        invalid_rate=args.invalid_rate,
        survey_invalid_rate=args.survey_invalid_rate,
        surveys=not args.no_surveys,
        scenario=Scenario.load(args.scenario) if args.scenario else Scenario(),
    )
    manifest = generate(cfg)
    print(_summary(manifest, args.out))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from motcua_dev.generator.bench import DELTA_DAY, write_bench, write_delta

    if args.delta_of is not None:
        day = date.fromisoformat(args.day) if args.day else DELTA_DAY
        report = write_delta(args.delta_of, args.out, args.fraction, args.seed, day)
    elif args.rows is None:
        raise ValueError("bench needs --rows N (or --delta-of FILE)")
    else:
        report = write_bench(
            args.out, args.rows, args.seed, args.units_csv, args.vary, args.provinces
        )
    print(json.dumps(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motcua_dev.generator",
        description="Generate a contract-conforming Một cửa inbox (deterministic by seed).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("sample", "the story of letter 2114/UBND (default sample)"),
        ("small", "small end-to-end test inbox with a pinned scenario"),
    ):
        preset = sub.add_parser(name, help=text)
        preset.add_argument("--out", type=Path, required=True, help="inbox directory")
        preset.add_argument("--seed", type=int, default=None)
        preset.set_defaults(func=_cmd_preset)
    reform = sub.add_parser("reform", help="six communes across the 1/7/2025 reform, codes reused")
    reform.add_argument("--out", type=Path, required=True, help="inbox directory")
    reform.add_argument("--seed", type=int, default=None)
    reform.set_defaults(func=_cmd_reform)

    gen = sub.add_parser("generate", help="custom units, dates, volume and scenario")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--start", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    gen.add_argument("--end", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    gen.add_argument(
        "--run-date",
        type=date.fromisoformat,
        default=None,
        help="as-of date recorded in the manifest (default: --end)",
    )
    gen.add_argument("--seed", type=int, default=2114)
    gen.add_argument(
        "--units-csv",
        type=Path,
        default=None,
        help="CSV with commune_code, commune_name[, district_code...]",
    )
    gen.add_argument("--unit-codes", default=None, help="comma-separated subset of codes")
    gen.add_argument("--dossiers-per-unit-day", type=float, default=0.4)
    gen.add_argument("--invalid-rate", type=float, default=0.01)
    gen.add_argument("--survey-invalid-rate", type=float, default=0.01)
    gen.add_argument("--no-surveys", action="store_true")
    gen.add_argument("--scenario", type=Path, default=None, help="scenario JSON file")
    gen.set_defaults(func=_cmd_generate)

    bench = sub.add_parser("bench", help="N valid rows into one plain UTF-8 CSV, fast")
    bench.add_argument("--rows", type=int, default=None)
    bench.add_argument("--out", type=Path, required=True, help="output .csv file")
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument(
        "--delta-of",
        type=Path,
        default=None,
        help="write the next night's delta of this bench file instead (see --fraction)",
    )
    bench.add_argument(
        "--fraction", type=float, default=0.005, help="delta rows / base rows (0.005)"
    )
    bench.add_argument(
        "--day",
        default=None,
        help="the delta's night (YYYY-MM-DD; default the day after the bench states' horizon)",
    )
    bench.add_argument(
        "--vary", action="store_true", help="own phone digits and seconds on every row"
    )
    bench.add_argument("--units-csv", type=Path, default=None)
    bench.add_argument(
        "--provinces",
        type=int,
        default=0,
        help="spread the rows evenly over N provinces of today's map (legacy communes of the"
        " national reference) instead of --units-csv",
    )
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ScenarioError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
