"""``python -m motcua.reports``: the BI outputs, read from schema ``marts``.

  official     --period 2017-H1 --out FILE.xlsx [--year 2017] [--agency UBND]
  transparency --out DIR
  dashboard    --period 2017-H1 --year 2016 --out FILE.html

Every command takes ``--url`` (default: ``WAREHOUSE_URL``, else the embedded
server's ``warehouse`` database), ``--district CODE`` (default: the only
district with data; ``transparency`` exports every district with data) or
``--province CODE`` (default: ``MOTCUA_PROVINCE``; the province's tables, also
after 1/7/2025 when there are no districts), and ``--basis received|current``
(as the dossiers were received, or today's units with their predecessors'
dossiers; ``current`` is a province view).
Periods: ``2017``, ``2017-H1``/``H2``, ``2017-Q1``..``Q4``, ``2017-03``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def warehouse_url(explicit: str | None) -> str:
    """--url, else WAREHOUSE_URL, else the embedded server (started if needed)."""
    if explicit:
        return explicit
    from motcua import config

    env = config.warehouse_url_setting()
    if env:
        return env
    from motcua.runner import resolve_warehouse

    return resolve_warehouse()[0]


def _period(text: str):  # argparse type
    from motcua.reports.periods import PeriodError, parse_period

    try:
        return parse_period(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motcua.reports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--url", default=None, help="warehouse URL (default: WAREHOUSE_URL)")
        p.add_argument("--district", default=None, help="GSO district code, e.g. 572")
        p.add_argument(
            "--province",
            default=None,
            help="GSO province code, e.g. 56 (default: MOTCUA_PROVINCE, else the district)",
        )
        p.add_argument(
            "--basis",
            default="received",
            choices=["received", "current"],
            help="received: as the dossiers were received; current: today's units",
        )

    o = sub.add_parser("official", help="per-commune statistics table (XLSX)")
    o.add_argument("--period", type=_period, required=True, help="2017-H1, 2017-Q2, 2017-03, 2017")
    o.add_argument("--out", type=Path, required=True, help="the .xlsx to write")
    o.add_argument(
        "--year",
        type=int,
        default=None,
        help="survey year of the satisfaction sheet (default: latest up to the period's year)",
    )
    o.add_argument("--agency", default="UBND", choices=["UBND", "Trạm y tế", "Trường học"])
    common(o)

    t = sub.add_parser("transparency", help="public CSV + JSON export for the web portal")
    t.add_argument("--out", type=Path, required=True, help="directory to write into")
    common(t)

    d = sub.add_parser("dashboard", help="static self-contained HTML dashboard")
    d.add_argument(
        "--period", type=_period, default=None, help="default: the latest ended half-year"
    )
    d.add_argument("--year", type=int, default=None, help="survey year (default: the latest)")
    d.add_argument("--out", type=Path, required=True, help="the .html to write")
    d.add_argument("--agency", default="UBND", choices=["UBND", "Trạm y tế", "Trường học"])
    common(d)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from motcua.reports.data import ReportError

    try:
        url = warehouse_url(args.url)
        if args.command == "official":
            from motcua.reports.official_table import write_official_table

            result = write_official_table(
                url,
                args.period,
                args.out,
                args.district,
                args.year,
                args.agency,
                args.province,
                args.basis,
            )
        elif args.command == "transparency":
            from motcua.reports.transparency import write_transparency

            result = write_transparency(url, args.out, args.district, args.province)
        else:
            from motcua.reports.dashboard import write_dashboard

            result = write_dashboard(
                url,
                args.out,
                args.period,
                args.year,
                args.district,
                args.agency,
                args.province,
                args.basis,
            )
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, default=str, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
