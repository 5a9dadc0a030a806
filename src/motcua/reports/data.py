"""Read-only access to schema ``marts`` for the reports.

Every figure the reports print is selected here from a mart, as the warehouse
computed it: no business rule (late rate, threshold, index, band, target,
completeness) is recomputed in Python. The only arithmetic is presentational
and done in SQL (``received_direct + received_postal`` for the official
form's "direct and postal" column).

All queries of one report run in one read-only REPEATABLE READ transaction, so
a report never mixes two nightly builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from motcua.reports.periods import Period, parse_period

if TYPE_CHECKING:
    import psycopg

AGENCY_TYPES = ("UBND", "Trạm y tế", "Trường học")


class ReportError(RuntimeError):
    """The marts cannot answer the request (unknown district, period without rows...)."""


@dataclass(frozen=True)
class District:
    code: str
    name: str
    province_name: str | None


def connect(url: str) -> psycopg.Connection:
    """A read-only connection whose queries share one snapshot (until commit/close)."""
    import psycopg

    conn = psycopg.connect(url, application_name="motcua-reports")
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def rows(conn: psycopg.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return [dict(r) for r in cur.fetchall()]


# ---------------------------------------------------------------- configuration


@cache
def _dbt_vars() -> dict[str, Any]:
    """The ``vars`` of dbt_project.yml (the thresholds the marts were built with by default)."""
    import yaml

    from motcua import config

    path = config.dbt_project_dir() / "dbt_project.yml"
    try:
        return dict(yaml.safe_load(path.read_text(encoding="utf-8")).get("vars") or {})
    except (OSError, AttributeError, yaml.YAMLError):
        return {}


def late_threshold_pct() -> float:
    """Label of the threshold line/headers (the flags themselves come from ``over_threshold``)."""
    return float(_dbt_vars().get("late_threshold_pct", 10))


def min_reliable_responses() -> int:
    return int(_dbt_vars().get("min_reliable_responses", 30))


def pct_label(value: float) -> str:
    """10.0 → '10', 12.5 → '12.5'."""
    return f"{value:g}"


# ---------------------------------------------------------------- districts

ACTIVE_DISTRICTS_SQL = """
select district_code, district_name from marts.district_lateness
group by district_code, district_name
having max(received_total + carried_over) > 0
union
select district_code, district_name from marts.district_satisfaction
group by district_code, district_name
having max(responses) > 0
order by district_code
"""

DISTRICT_SQL = """
select d.district_code, d.district_name,
       (select max(u.province_name) from marts.dim_commune as u
        where u.district_code = d.district_code) as province_name
from (
    select district_code, district_name from marts.district_lateness
    union
    select district_code, district_name from marts.district_satisfaction
) as d
where d.district_code = %(code)s
"""


def active_districts(conn: psycopg.Connection) -> list[District]:
    """Districts with at least one dossier or one survey response in the marts."""
    return [
        District(r["district_code"], r["district_name"], None)
        for r in rows(conn, ACTIVE_DISTRICTS_SQL)
    ]


def resolve_district(conn: psycopg.Connection, code: str | None) -> District:
    """The district asked for, or the only one with data when none is asked for."""
    if code is None:
        active = active_districts(conn)
        if not active:
            raise ReportError("the marts hold no dossier and no survey response yet")
        if len(active) > 1:
            listed = ", ".join(f"{d.code} ({d.name})" for d in active)
            raise ReportError(f"several districts have data, choose one with --district: {listed}")
        code = active[0].code
    found = rows(conn, DISTRICT_SQL, code=code)
    if not found:
        raise ReportError(f"district {code!r} is not in marts.district_lateness")
    r = found[0]
    return District(r["district_code"], r["district_name"], r["province_name"])


# ---------------------------------------------------------------- lateness

COMMUNE_LATENESS_SQL = """
select commune_key, commune_code, commune_name, period_start, period_end, cut_off_date,
       received_total, received_online, received_direct, received_postal,
       received_direct + received_postal as received_direct_postal,
       received_unknown_channel, carried_over, withdrawn_or_refused,
       resolved_total, resolved_early, resolved_on_time, resolved_late,
       in_progress_total, in_progress_on_time, in_progress_overdue,
       late_total, late_rate, over_threshold, late_without_apology, received_outside_one_stop
from marts.commune_lateness
where district_code = %(district)s and period_type = %(ptype)s and period_start = %(start)s
order by commune_code, commune_key
"""

DISTRICT_LATENESS_SQL = """
select district_code, district_name, period_start, period_end, cut_off_date, communes,
       received_total, received_online, received_direct, received_postal,
       received_direct + received_postal as received_direct_postal,
       received_unknown_channel, carried_over, withdrawn_or_refused,
       resolved_total, resolved_early, resolved_on_time, resolved_late,
       in_progress_total, in_progress_on_time, in_progress_overdue,
       late_total, late_rate, over_threshold, late_without_apology, received_outside_one_stop,
       communes_over_threshold
from marts.district_lateness
where district_code = %(district)s and period_type = %(ptype)s and period_start = %(start)s
"""

MONTHLY_SQL = """
select period_start, period_end, cut_off_date, late_rate, over_threshold, late_total,
       resolved_total, in_progress_total, communes_over_threshold, communes
from marts.district_lateness
where district_code = %(district)s and period_type = 'month'
order by period_start
"""


@dataclass(frozen=True)
class Lateness:
    district: District
    period: Period
    communes: list[dict[str, Any]]
    total: dict[str, Any]

    @property
    def cut_off_date(self) -> date:
        return self.total["cut_off_date"]


def lateness(conn: psycopg.Connection, district: District, period: Period) -> Lateness:
    params = {"district": district.code, "ptype": period.period_type, "start": period.start}
    total = rows(conn, DISTRICT_LATENESS_SQL, **params)
    if not total:
        raise ReportError(
            f"marts.district_lateness has no row for {district.code} {period.code} "
            f"({period.label_vi}): the period is outside the loaded data"
        )
    return Lateness(district, period, rows(conn, COMMUNE_LATENESS_SQL, **params), total[0])


def monthly_trend(conn: psycopg.Connection, district: District) -> list[dict[str, Any]]:
    return rows(conn, MONTHLY_SQL, district=district.code)


# ---------------------------------------------------------------- satisfaction

SAT_COLUMNS = """responses, idx_access, idx_procedure, idx_staff, idx_result, idx_feedback,
       satisfaction_index, rating, target, meets_target, reliable"""

COMMUNE_SAT_SQL = f"""
select commune_key, commune_code, commune_name, survey_year, agency_type, {SAT_COLUMNS}
from marts.commune_satisfaction
where district_code = %(district)s and survey_year = %(year)s and agency_type = %(agency)s
order by commune_code, commune_key
"""

DISTRICT_SAT_SQL = f"""
select district_code, district_name, survey_year, agency_type, {SAT_COLUMNS},
       communes_below_target, communes_rated, communes_by_rating
from marts.district_satisfaction
where district_code = %(district)s and survey_year = %(year)s and agency_type = %(agency)s
"""

LATEST_YEAR_SQL = """
select max(survey_year) as year from marts.district_satisfaction
where district_code = %(district)s and agency_type = %(agency)s and responses > 0
  and survey_year <= %(up_to)s
"""


@dataclass(frozen=True)
class Satisfaction:
    district: District
    year: int
    agency_type: str
    communes: list[dict[str, Any]]
    total: dict[str, Any]


def latest_survey_year(
    conn: psycopg.Connection, district: District, up_to: int, agency: str = "UBND"
) -> int | None:
    return rows(conn, LATEST_YEAR_SQL, district=district.code, agency=agency, up_to=up_to)[0][
        "year"
    ]


def satisfaction(
    conn: psycopg.Connection, district: District, year: int, agency: str = "UBND"
) -> Satisfaction:
    if agency not in AGENCY_TYPES:
        raise ReportError(f"agency type {agency!r}: expected one of {', '.join(AGENCY_TYPES)}")
    params = {"district": district.code, "year": year, "agency": agency}
    total = rows(conn, DISTRICT_SAT_SQL, **params)
    if not total:
        raise ReportError(
            f"marts.district_satisfaction has no row for {district.code}, {year}, {agency}"
        )
    return Satisfaction(district, year, agency, rows(conn, COMMUNE_SAT_SQL, **params), total[0])


# ---------------------------------------------------------------- contact fields

COMPLETENESS_SQL = """
select commune_key, commune_code, commune_name, period_start, period_end, cut_off_date,
       dossiers, address_present, phone_valid, email_valid, contact_complete, completeness_rate
from marts.commune_contact_completeness
where district_code = %(district)s and period_type = %(ptype)s and period_start = %(start)s
order by commune_code, commune_key
"""


def completeness(
    conn: psycopg.Connection, district: District, period: Period
) -> list[dict[str, Any]]:
    return rows(
        conn,
        COMPLETENESS_SQL,
        district=district.code,
        ptype=period.period_type,
        start=period.start,
    )


DEFAULT_HALF_YEAR_SQL = """
select period_start from marts.district_lateness
where district_code = %(district)s and period_type = 'half_year'
order by (cut_off_date = period_end) desc, period_start desc
limit 1
"""


def default_half_year(conn: psycopg.Connection, district: District) -> Period:
    """The latest half-year that has ended by the run date (else the current one)."""
    found = rows(conn, DEFAULT_HALF_YEAR_SQL, district=district.code)
    if not found:
        raise ReportError(f"marts.district_lateness has no half-year for {district.code}")
    start: date = found[0]["period_start"]
    return parse_period(f"{start.year}-H{1 if start.month <= 6 else 2}")


# ---------------------------------------------------------------- the 766 index

SCORECARD_766_SQL = """
select s.commune_key, s.commune_code, s.commune_name, s.period_start, s.period_end,
       s.points_progress, s.points_online_payment, s.points_satisfaction, s.points_digitisation,
       s.points_total, s.max_points_computable, s.rank_in_province, s.points_change,
       p.rate as progress_rate
from marts.commune_scorecard_766 as s
left join marts.commune_index_766 as p
    on p.commune_key = s.commune_key and p.period_type = s.period_type
   and p.period_start = s.period_start and p.indicator_code = 'progress_on_time'
where s.district_code = %(district)s and s.period_type = %(ptype)s
  and s.period_start = %(start)s
order by s.rank_in_province nulls last, s.commune_code, s.commune_key
"""


def scorecard_766(
    conn: psycopg.Connection, district: District, period: Period
) -> list[dict[str, Any]]:
    """The 766 scorecard of the district's communes for one period, best rank first."""
    return rows(
        conn,
        SCORECARD_766_SQL,
        district=district.code,
        ptype=period.period_type,
        start=period.start,
    )


PROGRESS_TREND_SQL = """
select s.commune_code, s.commune_name, s.period_start, s.points_progress, s.points_total,
       s.max_points_computable, s.rank_in_province
from marts.commune_scorecard_766 as s
where s.district_code = %(district)s and s.period_type = 'month'
  and s.max_points_computable > 0
order by s.period_start, s.commune_code
"""


def scorecard_766_months(conn: psycopg.Connection, district: District) -> list[dict[str, Any]]:
    """Monthly 766 points of the district's communes with an applicable indicator."""
    return rows(conn, PROGRESS_TREND_SQL, district=district.code)
