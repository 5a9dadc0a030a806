"""Public export for the town's web portal and the radio-TV station (no personal data).

Writes to one directory, each table as CSV (UTF-8 with BOM, CRLF: opens in
Excel with the Vietnamese intact) and JSON (UTF-8, not ASCII-escaped, a list
of records with typed values):

- ``late_rate``: per commune × period (month, quarter, half-year, year): the
  late rate and whether it is over the threshold, with the counts behind it;
- ``late_rate_district``: the same per district (town), with the number of
  communes over the threshold;
- ``satisfaction``: per commune × survey year, the UBND satisfaction index,
  rating band, target, whether it is met, responses and reliability;
- ``satisfaction_district``: the town's UBND index (pooled responses);
- ``late_rate_province``, ``satisfaction_province``: the same per province;
- ``late_rate_today``, ``late_rate_province_today``: the late rates of today's
  units (each with its predecessors' dossiers) and of the province they form.

Districts were abolished on 1/7/2025: the commune tables list the units of
later periods with an empty district (the province says where they are), the
district tables end with June 2025, the province tables go on.
- ``progress_766``: per commune × period, the 766 index's on-time progress
  (Tiến độ giải quyết: dossiers resolved early or on time plus those in
  progress on time, over resolved plus in progress), its rate and points out
  of 20, and the commune's rank in the province by its 766 points.

Only aggregates of schema ``marts`` (codes, names, counts, rates): no dossier,
no applicant. Ordering is fixed (period type from year to month, period start,
district, commune), so the same warehouse gives byte-identical files. Text
fields that a spreadsheet would take for a formula (leading ``= + - @``) are
prefixed with an apostrophe in the CSV; in the JSON, ``< > &`` are ``\\u``
escapes, so a portal may inline it in a ``<script>`` element.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua.reference import scope
from motcua.reports import data

if TYPE_CHECKING:
    import psycopg

PERIOD_ORDER = """case {t} when 'year' then 1 when 'half_year' then 2
                   when 'quarter' then 3 when 'month' then 4 else 5 end"""

LATE_RATE_SQL = f"""
select l.district_code, u.district_name, l.commune_code, l.commune_name,
       l.period_type, l.period_start, l.period_end, l.cut_off_date,
       l.resolved_total, l.in_progress_total, l.late_total, l.late_rate, l.over_threshold
from marts.commune_lateness as l
inner join marts.dim_commune as u on u.commune_key = l.commune_key
where (l.district_code = any(%(districts)s)
       or (l.district_code is null and l.province_code = any(%(provinces)s)))
order by {PERIOD_ORDER.format(t="l.period_type")}, l.period_start, l.district_code,
         l.commune_code, l.commune_key
"""

LATE_RATE_DISTRICT_SQL = f"""
select district_code, district_name, period_type, period_start, period_end, cut_off_date,
       communes, resolved_total, in_progress_total, late_total, late_rate, over_threshold,
       communes_over_threshold
from marts.district_lateness
where district_code = any(%(districts)s)
order by {PERIOD_ORDER.format(t="period_type")}, period_start, district_code
"""

SATISFACTION_SQL = """
select s.district_code, u.district_name, s.commune_code, s.commune_name, s.survey_year,
       s.agency_type, s.responses, s.satisfaction_index, s.rating, s.target, s.meets_target,
       s.reliable
from marts.commune_satisfaction as s
inner join marts.dim_commune as u on u.commune_key = s.commune_key
where s.agency_type = 'UBND'
  and (s.district_code = any(%(districts)s)
       or (s.district_code is null and s.province_code = any(%(provinces)s)))
order by s.survey_year, s.district_code, s.commune_code, s.commune_key
"""

SATISFACTION_DISTRICT_SQL = """
select district_code, district_name, survey_year, agency_type, responses, satisfaction_index,
       rating, target, meets_target, reliable, communes_rated, communes_below_target
from marts.district_satisfaction
where agency_type = 'UBND' and district_code = any(%(districts)s)
order by survey_year, district_code
"""

PROVINCE_LATE_RATE_SQL = f"""
select province_code, province_name, period_type, period_start, period_end, cut_off_date,
       communes, resolved_total, in_progress_total, late_total, late_rate, over_threshold,
       communes_over_threshold
from {{relation}}
where province_code = any(%(provinces)s)
order by {PERIOD_ORDER.format(t="period_type")}, period_start, province_code
"""

LATE_RATE_TODAY_SQL = f"""
select province_code, province_name, commune_code, commune_name, period_type, period_start,
       period_end, cut_off_date, resolved_total, in_progress_total, late_total, late_rate,
       over_threshold
from marts.commune_lateness_current
where province_code = any(%(provinces)s)
order by {PERIOD_ORDER.format(t="period_type")}, period_start, province_code, commune_code
"""

SATISFACTION_PROVINCE_SQL = """
select province_code, province_name, survey_year, agency_type, responses, satisfaction_index,
       rating, target, meets_target, reliable, communes_rated, communes_below_target
from marts.province_satisfaction
where agency_type = 'UBND' and province_code = any(%(provinces)s)
order by survey_year, province_code
"""

PROGRESS_766_SQL = f"""
select p.district_code, u.district_name, p.commune_code, p.commune_name, p.period_type,
       p.period_start,
       p.period_end, p.numerator as on_time, p.denominator as resolved_and_in_progress,
       p.rate as on_time_rate, p.points as progress_points, p.max_points as progress_max_points,
       s.points_total as points_766, s.max_points_computable as max_points_766,
       s.rank_in_province
from marts.commune_index_766 as p
inner join marts.commune_scorecard_766 as s
    on s.commune_key = p.commune_key
    and s.period_type = p.period_type
    and s.period_start = p.period_start
inner join marts.dim_commune as u on u.commune_key = p.commune_key
where p.indicator_code = 'progress_on_time'
  and (p.district_code = any(%(districts)s)
       or (p.district_code is null and u.province_code = any(%(provinces)s)))
order by {PERIOD_ORDER.format(t="p.period_type")}, p.period_start, p.district_code,
         p.commune_code, p.commune_key
"""

TABLES = {
    "late_rate": LATE_RATE_SQL,
    "late_rate_district": LATE_RATE_DISTRICT_SQL,
    "satisfaction": SATISFACTION_SQL,
    "satisfaction_district": SATISFACTION_DISTRICT_SQL,
    "late_rate_province": PROVINCE_LATE_RATE_SQL.format(relation="marts.province_lateness"),
    "satisfaction_province": SATISFACTION_PROVINCE_SQL,
    "late_rate_today": LATE_RATE_TODAY_SQL,
    "late_rate_province_today": PROVINCE_LATE_RATE_SQL.format(
        relation="marts.province_lateness_current"
    ),
    "progress_766": PROGRESS_766_SQL,
}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> str:
    """Text for the CSV: ISO dates, true/false, Decimals as stored (10.00), '' for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_table(
    out_dir: Path, name: str, records: list[dict[str, Any]], columns: list[str]
) -> None:
    with (out_dir / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow([csv_value(r[c]) for c in columns])
    payload = [{c: json_value(r[c]) for c in columns} for r in records]
    (out_dir / f"{name}.json").write_text(json_text(payload) + "\n", encoding="utf-8")


# Outside strings JSON has none of these characters, so replacing them anywhere only
# rewrites string contents, into escapes every JSON parser reads back as the same text.
JSON_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def json_text(payload: Any) -> str:
    """UTF-8 JSON (Vietnamese readable) that a web page may inline in a ``<script>``:
    ``< > &`` and the JavaScript line separators U+2028/U+2029 are written as ``\\u``
    escapes, so a name holding ``</script>`` cannot close the portal's script element."""
    text = json.dumps(payload, ensure_ascii=False, indent=1)
    return text.translate(str.maketrans(JSON_UNSAFE))


def export(
    conn: psycopg.Connection,
    out_dir: Path,
    district: str | None = None,
    province: str | None = None,
) -> dict[str, Any]:
    """Write every table for ``district`` or ``province`` (default: ``MOTCUA_PROVINCE``, else
    every district and province with data)."""
    province = province or scope.province_filter()
    if district is not None:
        districts = [data.resolve_district(conn, district).code]
        provinces = data.provinces_of_district(conn, districts[0])
    else:
        districts = [d.code for d in data.active_districts(conn)]
        provinces = [p.code for p in data.active_provinces(conn)]
        if province is not None:
            provinces = [p for p in provinces if p == province] or [province]
        if not districts and not provinces:
            raise data.ReportError("the marts hold no dossier and no survey response yet")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name, sql in TABLES.items():
        with conn.cursor() as cur:
            cur.execute(sql, {"districts": districts, "provinces": provinces})
            columns = [d.name for d in cur.description or []]
            records = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        write_table(out_dir, name, records, columns)
        written[name] = len(records)
    return {"out": str(out_dir), "districts": districts, "provinces": provinces, "rows": written}


def write_transparency(
    url: str, out_dir: Path, district: str | None = None, province: str | None = None
) -> dict[str, Any]:
    with data.connect(url) as conn:
        return export(conn, Path(out_dir), district, province)
