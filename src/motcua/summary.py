"""The short report a nightly run ends with (``make run`` prints it).

Read from the marts contract and the ops reconciliation, never from tables
holding personal data, so it can go to logs and terminals as is. The file
and row counts are the run's own (the raw batches its load tasks opened):
a night that loaded nothing says 0, not the warehouse's history; the marts'
figures are the warehouse's as of the run date. Each summary is kept in
``ops.run_summaries``, whose DDL is this module's (``ensure_schema``); the
rest of schema ops is dbt's (models/ops).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from motcua.reference import scope

SCHEMA_SQL = """
create schema if not exists ops;

-- What each nightly run found, as printed by `make run` (no personal data).
create table if not exists ops.run_summaries (
    summary_id  bigint generated always as identity primary key,
    run_date    date not null,
    created_at  timestamptz not null default now(),
    summary     jsonb not null
);
"""


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create ``ops.run_summaries`` (idempotent, safe when two runs start at once)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('motcua.ops_schema'))")
        conn.execute(SCHEMA_SQL)


# Every source, with zeros when the run's batches brought nothing for it.
FILES_SQL = """
select s.source,
       count(f.file_id) filter (where f.status = 'loaded')::int as files_loaded,
       count(f.file_id) filter (where f.status = 'duplicate')::int as files_duplicate,
       count(f.file_id) filter (where f.status = 'rejected')::int as files_rejected,
       coalesce(sum(r.rows_read), 0)::bigint as rows_read,
       coalesce(sum(r.rows_loaded), 0)::bigint as rows_loaded,
       coalesce(sum(r.rows_quarantined), 0)::bigint as rows_quarantined
from (values ('onestop'), ('survey')) as s (source)
left join raw.load_files as f
    on f.source = s.source and f.batch_id = any(%(batch_ids)s::bigint[])
left join ops.file_reconciliation as r on r.file_id = f.file_id
group by s.source order by s.source
"""

# MOTCUA_PROVINCE (or none): a commune mart row's / a district's province
IN_PROVINCE = "(%(province)s::text is null or province_code = %(province)s)"
DISTRICT_IN_PROVINCE = (
    "(%(province)s::text is null or district_code in (select d.district_code"
    " from marts.dim_commune as d where d.province_code = %(province)s))"
)

# The latest half-year that has ended by the run date (the one officials
# report on), or the current one when none has ended yet.
HALF_YEAR = f"""
coalesce(
    (select max(period_start) from marts.commune_lateness
     where period_type = 'half_year' and period_end <= %(run_date)s and {IN_PROVINCE}),
    (select max(period_start) from marts.commune_lateness
     where period_type = 'half_year' and period_start <= %(run_date)s and {IN_PROVINCE}))
"""

OVER_THRESHOLD_SQL = f"""
select commune_code, commune_name, late_rate, late_total,
       resolved_total + in_progress_total as denominator, period_start, period_end
from marts.commune_lateness
where period_type = 'half_year' and period_start = {HALF_YEAR} and over_threshold
  and {IN_PROVINCE}
order by late_rate desc, commune_code
"""

# The town (district) figures while there were districts; the province's for
# the half-years without a district level (from 1/7/2025)
HALF_YEAR_SQL = f"""
select * from (
    select 1 as level_order, district_code as area_code, 'town' as area, period_start,
           period_end, late_rate, communes_over_threshold
    from marts.district_lateness
    where period_type = 'half_year' and period_start = {HALF_YEAR}
      and received_total + carried_over > 0 and {DISTRICT_IN_PROVINCE}
    union all
    select 2, province_code, province_name, period_start, period_end, late_rate,
           communes_over_threshold
    from marts.province_lateness as p
    where period_type = 'half_year' and period_start = {HALF_YEAR}
      and received_total + carried_over > 0 and {IN_PROVINCE}
      and not exists (select 1 from marts.district_lateness as d
                      where d.period_type = 'half_year' and d.period_start = p.period_start)
) as areas
order by level_order, area_code
"""

TOWN_SATISFACTION_SQL = f"""
select * from (
    select district_code as area_code, district_name, survey_year, responses,
           satisfaction_index, rating, target, meets_target
    from marts.district_satisfaction
    where agency_type = 'UBND' and survey_year <= %(year)s and {DISTRICT_IN_PROVINCE}
    union all
    select province_code, province_name, survey_year, responses, satisfaction_index, rating,
           target, meets_target
    from marts.province_satisfaction as p
    where agency_type = 'UBND' and survey_year <= %(year)s and {IN_PROVINCE}
      and not exists (select 1 from marts.district_satisfaction as d
                      where d.survey_year = p.survey_year)
) as areas
order by survey_year desc, area_code
limit 2
"""

LOW_RATED_SQL = f"""
select commune_code, commune_name, survey_year, satisfaction_index, rating
from marts.commune_satisfaction
where agency_type = 'UBND' and rating in ('Trung bình', 'Kém') and {IN_PROVINCE}
  and survey_year in (select distinct survey_year from marts.commune_satisfaction
                      where agency_type = 'UBND' and survey_year <= %(year)s
                        and {IN_PROVINCE}
                      order by survey_year desc limit 2)
order by survey_year desc, satisfaction_index, commune_code
"""

CONTACT_SQL = f"""
select period_start, period_end, sum(dossiers)::bigint as dossiers,
       sum(contact_complete)::bigint as contact_complete
from marts.commune_contact_completeness
where period_type = 'half_year' and period_start = {HALF_YEAR} and {IN_PROVINCE}
group by period_start, period_end
"""

# Codes that name no unit of the reference on their rows' dates (never guessed;
# whatever MOTCUA_PROVINCE says: an unknown code has no province)
UNKNOWN_UNITS_SQL = """
select count(distinct unit_code)::int as codes,
       coalesce(sum(quarantined_rows), 0)::bigint as quarantined_rows
from ops.unknown_unit_codes
"""

# The 766 progress indicator (Tiến độ giải quyết) of every commune with dossiers
# in the latest month that has ended by the run date, with the change since
# the month before.
PROGRESS_SQL = """
select cur.commune_code, cur.commune_name, cur.period_start, cur.period_end, cur.points,
       cur.max_points, cur.rate, cur.points - prev.points as points_change
from marts.commune_index_766 as cur
left join marts.commune_index_766 as prev
    on prev.commune_key = cur.commune_key and prev.indicator_code = cur.indicator_code
   and prev.period_type = cur.period_type and prev.period_end + 1 = cur.period_start
where cur.indicator_code = 'progress_on_time' and cur.period_type = 'month' and cur.is_applicable
  and cur.period_start = (select max(period_start) from marts.commune_index_766
                          where period_type = 'month' and period_end <= %(run_date)s)
  and (%(province)s::text is null or cur.commune_key in (select d.commune_key
       from marts.dim_commune as d where d.province_code = %(province)s))
order by cur.points desc, cur.commune_code
"""

# How many communes the summary names as having lost the most progress points.
MOST_LOST = 3


def _rows(conn: psycopg.Connection, query: str, run_date: date) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query,
            {"run_date": run_date, "year": run_date.year, "province": scope.province_filter()},
        )
        return [dict(r) for r in cur.fetchall()]


def files_of_run(conn: psycopg.Connection, batch_ids: list[int]) -> list[dict[str, Any]]:
    """Files and rows per source of the raw batches ``batch_ids`` (this run's loads)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(FILES_SQL, {"batch_ids": list(batch_ids)})
        return [dict(r) for r in cur.fetchall()]


def collect(
    url: str,
    run_date: date,
    alerted: dict[str, Any] | None = None,
    batch_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Everything the summary says, as JSON-ready data.

    ``alerted``: the alert task's result; ``batch_ids``: the raw batches this
    run's load tasks opened (none: the run loaded nothing).
    """
    with psycopg.connect(url, autocommit=True) as conn:
        return json.loads(
            json.dumps(
                {
                    "run_date": run_date,
                    "batch_ids": sorted(batch_ids or []),
                    "sources": files_of_run(conn, batch_ids or []),
                    "half_year": _rows(conn, HALF_YEAR_SQL, run_date),
                    "over_threshold": _rows(conn, OVER_THRESHOLD_SQL, run_date),
                    "town_satisfaction": _rows(conn, TOWN_SATISFACTION_SQL, run_date),
                    "low_rated": _rows(conn, LOW_RATED_SQL, run_date),
                    "contact": _rows(conn, CONTACT_SQL, run_date),
                    "unknown_units": _rows(conn, UNKNOWN_UNITS_SQL, run_date),
                    "progress_766": _rows(conn, PROGRESS_SQL, run_date),
                    "quality": alerted or {},
                },
                default=str,
            )
        )


def store(url: str, result: dict[str, Any]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        conn.execute(
            "insert into ops.run_summaries (run_date, summary) values (%s, %s)",
            (result["run_date"], json.dumps(result, ensure_ascii=False)),
        )


def latest(url: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select summary from ops.run_summaries order by summary_id desc limit 1"
        ).fetchone()
    if row is None:
        raise RuntimeError("no run summary stored: the nightly DAG did not reach `summarise`")
    return dict(row[0])


def _pct(value: object) -> str:
    return "n/a" if value is None else f"{float(value):.2f} %"  # type: ignore[arg-type]


def render(result: dict[str, Any]) -> str:
    """Plain-text summary, Vietnamese names intact."""
    lines = [f"== Một cửa Analytics — run of {result['run_date']} =="]
    for src in result["sources"]:
        balanced = src["rows_read"] == src["rows_loaded"] + src["rows_quarantined"]
        lines.append(
            f"{src['source']:8} files loaded {src['files_loaded']}, duplicate "
            f"{src['files_duplicate']}, rejected {src['files_rejected']}; "
            f"rows read {src['rows_read']} = loaded {src['rows_loaded']}"
            f" + quarantined {src['rows_quarantined']}"
            f"{'' if balanced else '  (DOES NOT RECONCILE)'}"
        )
    over = result["over_threshold"]
    for half in result["half_year"]:
        area = half.get("area", "town")  # the town, or the province after 1/7/2025
        lines.append(
            f"Half-year {half['period_start']}..{half['period_end']}: {area} late rate "
            f"{_pct(half['late_rate'])}, {half['communes_over_threshold']} commune(s) over the "
            "lateness threshold"
        )
    lines += [
        f"  {r['commune_name']} ({r['commune_code']}): {_pct(r['late_rate'])} late "
        f"({r['late_total']}/{r['denominator']})"
        for r in over
    ]
    for town in result["town_satisfaction"]:
        verdict = "meets" if town["meets_target"] else "below"
        lines.append(
            f"Satisfaction {town['survey_year']} {town['district_name']} (UBND): "
            f"{_pct(town['satisfaction_index'])} — {town['rating']}, target "
            f"{_pct(town['target'])} ({verdict}), {town['responses']} responses"
        )
    for town in result["town_satisfaction"]:
        low = [r for r in result["low_rated"] if r["survey_year"] == town["survey_year"]]
        names = ", ".join(
            f"{r['commune_name']} {_pct(r['satisfaction_index'])} ({r['rating']})" for r in low
        )
        lines.append(
            f"Communes rated Trung bình or Kém in {town['survey_year']}: {names or 'none'}"
        )
    for c in result["contact"]:
        lines.append(
            "Complete contact data (address, phone, email), "
            f"{c['period_start']}..{c['period_end']}: {c['contact_complete']} of "
            f"{c['dossiers']} dossiers received"
        )
    for unknown in result.get("unknown_units") or []:
        lines.append(
            f"Unknown unit codes: {unknown['codes']} code(s) name no unit on their rows' dates, "
            f"{unknown['quarantined_rows']} row(s) in quarantine (ops.unknown_unit_codes; add "
            "the units to seeds/config/admin_units_local.csv and run again)"
        )
    lines += _progress_lines(result.get("progress_766") or [])
    quality = result.get("quality") or {}
    if quality.get("sent"):
        where = quality.get("path") or ", ".join(quality.get("recipients") or [])
        lines.append(
            f"Data quality: {quality.get('communes', 0)} commune(s) below the contact-field "
            f"thresholds, {quality.get('pipeline_findings', 0)} pipeline warning(s); alert "
            f"{'written to' if quality.get('channel') == 'file' else 'sent to'} {where}"
        )
    elif quality:
        lines.append("Data quality: no findings, no alert")
    lines.append(
        "Next: quarantine.onestop_rows / quarantine.survey_rows for rejected rows, "
        "marts.* for BI, dq.validation_results and the quality report "
        "(expectations/gx/uncommitted/quality_report/index.html) for checks, "
        "INBOX_DIR/rejected/ for unreadable files."
    )
    return "\n".join(lines)


def _points(value: object) -> str:
    return "n/a" if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]


def _progress_lines(progress: list[dict[str, Any]]) -> list[str]:
    """Each commune's 766 progress points in the latest complete month, then who lost most."""
    if not progress:
        return []
    first = progress[0]
    lines = [
        f"766 progress points (Tiến độ giải quyết, of {_points(first['max_points'])}), "
        f"{first['period_start']}..{first['period_end']}, change since the month before:"
    ]
    lines += [
        f"  {r['commune_name']} ({r['commune_code']}): {_points(r['points'])}"
        + ("" if r["points_change"] is None else f" ({float(r['points_change']):+.2f})")
        for r in progress
    ]
    lost = sorted(
        (r for r in progress if r["points_change"] is not None and float(r["points_change"]) < 0),
        key=lambda r: (float(r["points_change"]), r["commune_code"]),
    )[:MOST_LOST]
    names = ", ".join(f"{r['commune_name']} {float(r['points_change']):+.2f}" for r in lost)
    lines.append(f"Lost the most progress points: {names or 'none'}")
    return lines
