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

from motcua.reference import scope
from motcua.reports.periods import Period, parse_period

if TYPE_CHECKING:
    import psycopg

AGENCY_TYPES = ("UBND", "Trạm y tế", "Trường học")


class ReportError(RuntimeError):
    """The marts cannot answer the request (unknown district, period without rows...)."""


@dataclass(frozen=True)
class District:
    """The area a report speaks of: a district (town) or a province, on one basis.

    ``level`` ``district`` (the periods before 1/7/2025, when districts
    existed) or ``province``; ``basis`` ``received`` (each dossier with the
    unit that received it, the periodic tables' basis) or ``current``
    (today's units with their predecessors' dossiers, province level only).
    The SQL below names the area's code and name ``district_code`` and
    ``district_name`` in the rows it returns, whatever the level, so the
    layouts read one shape.
    """

    code: str
    name: str
    province_name: str | None
    level: str = "district"
    basis: str = "received"


@dataclass(frozen=True)
class Relations:
    """The marts a report of one level and basis reads."""

    communes: str  # commune × period lateness
    total: str  # the area × period lateness
    sat_total: str  # the area × year × service satisfaction
    key: str  # the area's code column in the commune marts and the totals
    name: str  # the area's name column in the totals


RELATIONS = {
    ("district", "received"): Relations(
        "marts.commune_lateness",
        "marts.district_lateness",
        "marts.district_satisfaction",
        "district_code",
        "district_name",
    ),
    ("province", "received"): Relations(
        "marts.commune_lateness",
        "marts.province_lateness",
        "marts.province_satisfaction",
        "province_code",
        "province_name",
    ),
    # today's units: lateness re-attributed; satisfaction and contact fields as received
    ("province", "current"): Relations(
        "marts.commune_lateness_current",
        "marts.province_lateness_current",
        "marts.province_satisfaction",
        "province_code",
        "province_name",
    ),
}
BASES = ("received", "current")


def relations(area: District) -> Relations:
    try:
        return RELATIONS[(area.level, area.basis)]
    except KeyError:
        raise ReportError(
            "today's units (basis current) exist at province level only: choose --province"
        ) from None


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


ACTIVE_PROVINCES_SQL = """
select province_code, province_name from marts.province_lateness
group by province_code, province_name
having max(received_total + carried_over) > 0
union
select province_code, province_name from marts.province_satisfaction
group by province_code, province_name
having max(responses) > 0
order by province_code
"""


def active_districts(conn: psycopg.Connection) -> list[District]:
    """Districts with at least one dossier or one survey response in the marts."""
    province = scope.province_filter()
    return [
        District(r["district_code"], r["district_name"], None)
        for r in rows(conn, ACTIVE_DISTRICTS_SQL)
        if province is None or r["district_code"] in _districts_of(conn, province)
    ]


def _districts_of(conn: psycopg.Connection, province: str) -> set[str]:
    found = rows(
        conn,
        "select distinct district_code from marts.dim_commune"
        " where province_code = %(province)s and district_code is not null",
        province=province,
    )
    return {r["district_code"] for r in found}


def provinces_of_district(conn: psycopg.Connection, district: str) -> list[str]:
    """The province(s) a district belonged to (one, in practice)."""
    found = rows(
        conn,
        "select distinct province_code from marts.dim_commune"
        " where district_code = %(district)s order by province_code",
        district=district,
    )
    return [r["province_code"] for r in found]


def active_provinces(conn: psycopg.Connection) -> list[District]:
    """Provinces with at least one dossier or one survey response (MOTCUA_PROVINCE: that one)."""
    province = scope.province_filter()
    return [
        District(r["province_code"], r["province_name"], r["province_name"], level="province")
        for r in rows(conn, ACTIVE_PROVINCES_SQL)
        if province is None or r["province_code"] == province
    ]


def resolve_area(
    conn: psycopg.Connection,
    district: str | None = None,
    province: str | None = None,
    basis: str = "received",
) -> District:
    """The area of a report: ``--district``, ``--province`` or ``MOTCUA_PROVINCE``, else the
    only district with data, else the only province with data."""
    if basis not in BASES:
        raise ReportError(f"basis {basis!r}: expected one of {', '.join(BASES)}")
    if district is None and (province or scope.province_filter() or basis == "current"):
        code = province or scope.province_filter()
        if code is None:
            active = active_provinces(conn)
            if len(active) != 1:
                listed = ", ".join(f"{p.code} ({p.name})" for p in active) or "none"
                raise ReportError(f"choose a province with --province: {listed}")
            code = active[0].code
        found = [p for p in active_provinces(conn) if p.code == code] or [
            District(r["province_code"], r["province_name"], r["province_name"], "province")
            for r in rows(
                conn,
                "select province_code, province_name from marts.province_lateness"
                " where province_code = %(code)s limit 1",
                code=code,
            )
        ]
        if not found:
            raise ReportError(f"province {code!r} is not in marts.province_lateness")
        return District(found[0].code, found[0].name, found[0].name, "province", basis)
    if basis != "received":
        raise ReportError("today's units (basis current) exist at province level only")
    if district is None and len(active_districts(conn)) != 1 and len(active_provinces(conn)) == 1:
        return resolve_area(conn, None, active_provinces(conn)[0].code, basis)
    return resolve_district(conn, district)


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
from {communes}
where {key} = %(district)s and period_type = %(ptype)s and period_start = %(start)s
order by commune_code, commune_key
"""

DISTRICT_LATENESS_SQL = """
select {key} as district_code, {name} as district_name, period_start, period_end,
       cut_off_date, communes,
       received_total, received_online, received_direct, received_postal,
       received_direct + received_postal as received_direct_postal,
       received_unknown_channel, carried_over, withdrawn_or_refused,
       resolved_total, resolved_early, resolved_on_time, resolved_late,
       in_progress_total, in_progress_on_time, in_progress_overdue,
       late_total, late_rate, over_threshold, late_without_apology, received_outside_one_stop,
       communes_over_threshold
from {total}
where {key} = %(district)s and period_type = %(ptype)s and period_start = %(start)s
"""

MONTHLY_SQL = """
select period_start, period_end, cut_off_date, late_rate, over_threshold, late_total,
       resolved_total, in_progress_total, communes_over_threshold, communes
from {total}
where {key} = %(district)s and period_type = 'month'
order by period_start
"""


def sql(template: str, area: District) -> str:
    """A query of this module for the marts of ``area``'s level and basis."""
    r = relations(area)
    return template.format(
        communes=r.communes, total=r.total, sat_total=r.sat_total, key=r.key, name=r.name
    )


def _period_rows(
    conn: psycopg.Connection, template: str, area: District, period: Period
) -> list[dict[str, Any]]:
    """The rows of ``template`` for ``area`` in one period.

    The period marts' grain is an area or commune × (``period_type``,
    ``period_start``) (docs/rules.md), so every per-period query of the reports
    binds these same three parameters; one function binds them, so that no
    report can ask one mart for a period another mart is not asked for.
    """
    return rows(
        conn,
        sql(template, area),
        district=area.code,
        ptype=period.period_type,
        start=period.start,
    )


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
    total = _period_rows(conn, DISTRICT_LATENESS_SQL, district, period)
    if not total:
        raise ReportError(
            f"{relations(district).total} has no row for {district.code} {period.code} "
            f"({period.label_vi}): the period is outside the loaded data"
        )
    communes = _period_rows(conn, COMMUNE_LATENESS_SQL, district, period)
    return Lateness(district, period, communes, total[0])


def monthly_trend(conn: psycopg.Connection, district: District) -> list[dict[str, Any]]:
    return rows(conn, sql(MONTHLY_SQL, district), district=district.code)


# ---------------------------------------------------------------- satisfaction

SAT_COLUMNS = """responses, idx_access, idx_procedure, idx_staff, idx_result, idx_feedback,
       satisfaction_index, rating, target, meets_target, reliable"""

COMMUNE_SAT_SQL = f"""
select commune_key, commune_code, commune_name, survey_year, agency_type, {SAT_COLUMNS}
from marts.commune_satisfaction
where {{key}} = %(district)s and survey_year = %(year)s and agency_type = %(agency)s
order by commune_code, commune_key
"""

DISTRICT_SAT_SQL = f"""
select {{key}} as district_code, {{name}} as district_name, survey_year, agency_type,
       {SAT_COLUMNS}, communes_below_target, communes_rated, communes_by_rating
from {{sat_total}}
where {{key}} = %(district)s and survey_year = %(year)s and agency_type = %(agency)s
"""

LATEST_YEAR_SQL = """
select max(survey_year) as year from {sat_total}
where {key} = %(district)s and agency_type = %(agency)s and responses > 0
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
    found = rows(
        conn, sql(LATEST_YEAR_SQL, district), district=district.code, agency=agency, up_to=up_to
    )
    return found[0]["year"]


def satisfaction(
    conn: psycopg.Connection, district: District, year: int, agency: str = "UBND"
) -> Satisfaction:
    if agency not in AGENCY_TYPES:
        raise ReportError(f"agency type {agency!r}: expected one of {', '.join(AGENCY_TYPES)}")
    params = {"district": district.code, "year": year, "agency": agency}
    total = rows(conn, sql(DISTRICT_SAT_SQL, district), **params)
    if not total:
        raise ReportError(
            f"{relations(district).sat_total} has no row for {district.code}, {year}, {agency}"
        )
    communes = rows(conn, sql(COMMUNE_SAT_SQL, district), **params)
    return Satisfaction(district, year, agency, communes, total[0])


# ---------------------------------------------------------------- contact fields

COMPLETENESS_SQL = """
select commune_key, commune_code, commune_name, period_start, period_end, cut_off_date,
       dossiers, address_present, phone_valid, email_valid, contact_complete, completeness_rate
from marts.commune_contact_completeness
where {key} = %(district)s and period_type = %(ptype)s and period_start = %(start)s
order by commune_code, commune_key
"""


def completeness(
    conn: psycopg.Connection, district: District, period: Period
) -> list[dict[str, Any]]:
    return _period_rows(conn, COMPLETENESS_SQL, district, period)


DEFAULT_HALF_YEAR_SQL = """
select period_start from {total}
where {key} = %(district)s and period_type = 'half_year'
order by (cut_off_date = period_end) desc, period_start desc
limit 1
"""


def default_half_year(conn: psycopg.Connection, district: District) -> Period:
    """The latest half-year that has ended by the run date (else the current one)."""
    found = rows(conn, sql(DEFAULT_HALF_YEAR_SQL, district), district=district.code)
    if not found:
        raise ReportError(f"{relations(district).total} has no half-year for {district.code}")
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
where s.commune_key in (select d.commune_key from marts.dim_commune as d
                       where d.{key} = %(district)s)
  and s.period_type = %(ptype)s and s.period_start = %(start)s
order by s.rank_in_province nulls last, s.commune_code, s.commune_key
"""


def scorecard_766(
    conn: psycopg.Connection, district: District, period: Period
) -> list[dict[str, Any]]:
    """The 766 scorecard of the district's communes for one period, best rank first."""
    return _period_rows(conn, SCORECARD_766_SQL, district, period)


PROGRESS_TREND_SQL = """
select s.commune_code, s.commune_name, s.period_start, s.points_progress, s.points_total,
       s.max_points_computable, s.rank_in_province
from marts.commune_scorecard_766 as s
where s.commune_key in (select d.commune_key from marts.dim_commune as d
                       where d.{key} = %(district)s)
  and s.period_type = 'month' and s.max_points_computable > 0
order by s.period_start, s.commune_code
"""


def scorecard_766_months(conn: psycopg.Connection, district: District) -> list[dict[str, Any]]:
    """Monthly 766 points of the district's communes with an applicable indicator."""
    return rows(conn, sql(PROGRESS_TREND_SQL, district), district=district.code)
