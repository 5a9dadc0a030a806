"""The short report a nightly run ends with (``make run`` prints it).

Read from the marts contract and the ops reconciliation, never from tables
holding personal data, so it can go to logs and terminals as is.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

FILES_SQL = """
select f.source, count(*) filter (where f.status = 'loaded') as files_loaded,
       count(*) filter (where f.status = 'rejected') as files_rejected,
       coalesce(sum(r.rows_read), 0) as rows_read,
       coalesce(sum(r.rows_loaded), 0) as rows_loaded,
       coalesce(sum(r.rows_quarantined), 0) as rows_quarantined
from raw.load_files as f
left join ops.file_reconciliation as r on r.file_id = f.file_id
group by f.source order by f.source
"""

OVER_THRESHOLD_SQL = """
select commune_code, commune_name, late_rate, late_total,
       resolved_total + in_progress_total as denominator, period_start, period_end
from marts.commune_lateness
where period_type = 'half_year'
  and period_start = (select max(period_start) from marts.commune_lateness
                      where period_type = 'half_year' and period_start <= %(run_date)s)
  and over_threshold
order by late_rate desc, commune_code
"""

TOWN_SATISFACTION_SQL = """
select district_code, district_name, survey_year, responses, satisfaction_index, rating,
       target, meets_target
from marts.district_satisfaction
where agency_type = 'UBND'
  and survey_year = (select max(survey_year) from marts.district_satisfaction
                     where agency_type = 'UBND' and survey_year <= %(year)s)
order by district_code
"""

LOW_RATED_SQL = """
select commune_code, commune_name, survey_year, satisfaction_index, rating
from marts.commune_satisfaction
where agency_type = 'UBND' and rating in ('Trung bình', 'Kém')
  and survey_year = (select max(survey_year) from marts.commune_satisfaction
                     where agency_type = 'UBND' and survey_year <= %(year)s)
order by satisfaction_index, commune_code
"""

CONTACT_SQL = """
select period_start, period_end, sum(dossiers) as dossiers,
       sum(contact_complete) as contact_complete,
       round(100.0 * sum(contact_complete) / nullif(sum(dossiers), 0), 2) as completeness_rate
from marts.commune_contact_completeness
where period_type = 'half_year'
  and period_start = (select max(period_start) from marts.commune_contact_completeness
                      where period_type = 'half_year' and period_start <= %(run_date)s)
group by period_start, period_end
"""


def _rows(conn: psycopg.Connection, query: str, run_date: date) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, {"run_date": run_date, "year": run_date.year})
        return [dict(r) for r in cur.fetchall()]


def collect(url: str, run_date: date) -> dict[str, Any]:
    """Everything the summary says, as JSON-ready data."""
    with psycopg.connect(url, autocommit=True) as conn:
        return json.loads(
            json.dumps(
                {
                    "run_date": run_date,
                    "sources": _rows(conn, FILES_SQL, run_date),
                    "over_threshold": _rows(conn, OVER_THRESHOLD_SQL, run_date),
                    "town_satisfaction": _rows(conn, TOWN_SATISFACTION_SQL, run_date),
                    "low_rated": _rows(conn, LOW_RATED_SQL, run_date),
                    "contact": _rows(conn, CONTACT_SQL, run_date),
                },
                default=str,
            )
        )


def store(url: str, result: dict[str, Any]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
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
            f"{src['source']:8} files loaded {src['files_loaded']}, rejected "
            f"{src['files_rejected']}; rows read {src['rows_read']} = loaded "
            f"{src['rows_loaded']} + quarantined {src['rows_quarantined']}"
            f"{'' if balanced else '  (DOES NOT RECONCILE)'}"
        )
    over = result["over_threshold"]
    if over:
        first = over[0]
        lines.append(
            f"Communes over the lateness threshold, half-year {first['period_start']}"
            f"..{first['period_end']}: {len(over)}"
        )
        lines += [
            f"  {r['commune_name']} ({r['commune_code']}): {_pct(r['late_rate'])} late "
            f"({r['late_total']}/{r['denominator']})"
            for r in over
        ]
    else:
        lines.append("Communes over the lateness threshold (latest half-year): none")
    for town in result["town_satisfaction"]:
        verdict = "meets" if town["meets_target"] else "below"
        lines.append(
            f"Satisfaction {town['survey_year']} {town['district_name']} (UBND): "
            f"{_pct(town['satisfaction_index'])} — {town['rating']}, target "
            f"{_pct(town['target'])} ({verdict}), {town['responses']} responses"
        )
    low = result["low_rated"]
    lines.append(
        "Communes rated Trung bình or Kém: "
        + (
            ", ".join(
                f"{r['commune_name']} {_pct(r['satisfaction_index'])} ({r['rating']})" for r in low
            )
            or "none"
        )
    )
    for c in result["contact"]:
        lines.append(
            "Complete contact data (address, phone, email), "
            f"{c['period_start']}..{c['period_end']}: {_pct(c['completeness_rate'])}"
            f" of {c['dossiers']} dossiers"
        )
    lines.append(
        "Next: quarantine.onestop_rows / quarantine.survey_rows for rejected rows, "
        "marts.* for BI, INBOX_DIR/rejected/ for unreadable files."
    )
    return "\n".join(lines)
