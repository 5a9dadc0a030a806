"""Superset on the marts: every chart's data through its API, exact; a browser render.

One Superset for the module (conftest): the small inbox's warehouse, the
assets imported with ``superset import-datasources`` / ``import-dashboards``,
a commune account provisioned. Every chart of ``motcua.bi.spec`` is asked for
its data with its saved query context (``GET /api/v1/chart/<id>/data/``) and
its numbers compared with the figures the generator's manifest states, or
with figures derived without the mart that feeds the chart: province totals
summed from the communes, the 766 progress points from the pinned counts,
ranks and changes from the indicators, processing times and the backlog from
the dossiers and the working-day calendar (district lateness: the mart itself).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from motcua.bi import spec
from tests.bi.cdp import chromium_page
from tests.bi.conftest import COMMUNE_USER, Superset, Warehouse

ALL_CHARTS = [chart for d in spec.DASHBOARDS for chart in d.charts]


def _day(value: Any) -> str:
    """Superset returns dates as epoch milliseconds (UTC midnight)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).date().isoformat()
    return str(value)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return expected is actual
        return Decimal(str(expected)) == Decimal(str(actual))
    return bool(expected == actual)


@pytest.fixture(scope="module")
def chart_ids(superset: Superset) -> dict[str, int]:
    """Spec chart key -> Superset chart id (by the UUID the bundle gave it)."""
    token = superset.admin_token()
    listed = superset.api("/api/v1/chart/", token, q="(page_size:100)")["result"]
    by_uuid = {}
    for item in listed:
        detail = superset.api(f"/api/v1/chart/{item['id']}", token)["result"]
        assert detail.get("query_context"), f"{item['slice_name']} saved without a query context"
        by_uuid[detail.get("uuid") or item.get("uuid")] = item["id"]
    ids = {}
    for chart in ALL_CHARTS:
        found = [cid for u, cid in by_uuid.items() if u == chart.uuid]
        if not found:  # the detail endpoint may not show uuids: fall back on titles
            found = [i["id"] for i in listed if i["slice_name"] == chart.title]
        assert len(found) == 1, (chart.key, found)
        ids[chart.key] = found[0]
    assert len(listed) == len(ALL_CHARTS), "stale or duplicate charts"
    return ids


def chart_rows(superset: Superset, chart_id: int, token: str) -> list[dict[str, Any]]:
    body = superset.api(f"/api/v1/chart/{chart_id}/data/", token)
    (result,) = body["result"]
    assert result.get("error") is None, result
    rows = result["data"]
    assert result["rowcount"] == len(rows)
    return [
        {k: _day(v) if k.endswith(("_start", "_date")) else v for k, v in r.items()} for r in rows
    ]


def by_key(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(str(row[k]) for k in keys)
        assert key not in out, f"two rows for {key}"
        out[key] = row
    return out


def compare(
    rows: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    keys: tuple[str, ...],
    columns: dict[str, str],
) -> int:
    """Every manifest cell has its row with the same figures; returns cells compared."""
    assert cells, "no known figures to compare with"
    indexed = by_key(rows, *keys)
    wrong = []
    for cell in cells:
        row = indexed.get(tuple(str(cell[k]) for k in keys))
        assert row is not None, f"no row for {[cell[k] for k in keys]}"
        for result_column, cell_column in columns.items():
            if not _same(cell[cell_column], row[result_column]):
                wrong.append(
                    (cell_column, [cell[k] for k in keys], cell[cell_column], row[result_column])
                )
    assert wrong == []
    return len(cells)


def mart_count(warehouse: Warehouse, table: str, where: str) -> int:
    return int(warehouse.rows(f"select count(*) as n from marts.{table} where {where}")[0]["n"])


# ---------------------------------------------------------------- provisioning


def test_the_assets_are_imported_with_the_cli(
    superset: Superset, chart_ids: dict[str, int]
) -> None:
    token = superset.admin_token()
    dashboards = superset.api("/api/v1/dashboard/", token, q="(page_size:100)")["result"]
    assert sorted(d["slug"] for d in dashboards) == sorted(d.slug for d in spec.DASHBOARDS)
    datasets = superset.api("/api/v1/dataset/", token, q="(page_size:100)")["result"]
    assert sorted(f"{d['schema']}.{d['table_name']}" for d in datasets) == sorted(
        d.key for d in spec.DATASETS
    )
    databases = superset.api("/api/v1/database/", token)["result"]
    (database,) = databases
    detail = superset.api(f"/api/v1/database/{database['id']}/connection", token)["result"]
    uri = detail["sqlalchemy_uri"]
    assert f"://{superset.bi_login}@" in uri, uri  # no password stored, not even masked
    for log in ("import-datasources.log", "import-dashboards.log"):
        assert "error" not in superset.home.log(log).read_text().lower(), log


# ---------------------------------------------------------------- chart data, exact


def test_late_rate_per_commune(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    token = superset.admin_token()
    rows = chart_rows(superset, chart_ids["late_rate_by_commune"], token)
    keys = ("commune_name", "period_type", "period_start")
    assert (
        compare(rows, warehouse.expected("commune_lateness"), keys, {"late_rate_pct": "late_rate"})
        == 4
    )
    assert len(rows) == mart_count(warehouse, "commune_lateness", "late_rate is not null")
    table = chart_rows(superset, chart_ids["lateness_table"], token)
    columns = {
        c: c
        for c in (
            "received_total",
            "resolved_total",
            "in_progress_total",
            "late_total",
            "late_rate",
            "over_threshold",
            "late_without_apology",
        )
    }
    compare(table, warehouse.expected("commune_lateness"), keys, columns)
    assert len(table) == len(rows)
    # the letter's question: Ninh Tây 16.00 % over the 10 % line, Ninh Đa 10.00 % not over
    q1 = {
        r["commune_name"]: r
        for r in table
        if r["period_type"] == "quarter" and r["period_start"] == "2017-01-01"
    }
    assert (q1["Xã Ninh Tây"]["late_rate"], q1["Xã Ninh Tây"]["over_threshold"]) == (16.0, True)
    assert (q1["Phường Ninh Đa"]["late_rate"], q1["Phường Ninh Đa"]["over_threshold"]) == (
        10.0,
        False,
    )


def test_monthly_trends(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    token = superset.admin_token()
    received = chart_rows(superset, chart_ids["monthly_received"], token)
    expected: dict[str, int] = {}
    for cell in warehouse.expected("commune_received"):
        if cell["period_type"] == "month":
            expected[cell["period_start"]] = (
                expected.get(cell["period_start"], 0) + cell["received_total"]
            )
    assert {r["period_start"]: r["received"] for r in received} == expected
    assert len(expected) == 5  # Dec 2016 .. Apr 2017
    # district lateness: the manifest pins none, so the mart's own rows
    late = chart_rows(superset, chart_ids["monthly_late_rate"], token)
    mart = warehouse.rows(
        "select district_name, period_start::text as period_start, late_rate"
        " from marts.district_lateness where period_type = 'month' and late_rate is not null"
    )
    assert mart
    assert {(r["district_name"], r["period_start"]): r["late_rate_pct"] for r in late} == {
        (m["district_name"], m["period_start"]): float(m["late_rate"]) for m in mart
    }
    table = chart_rows(superset, chart_ids["district_lateness_table"], token)
    mart = warehouse.rows(
        "select district_name, period_type, period_start::text as period_start, late_total,"
        " late_rate, communes_over_threshold from marts.district_lateness"
        " where late_rate is not null"
    )
    assert {
        (r["district_name"], r["period_type"], r["period_start"]): (
            r["late_total"],
            r["late_rate"],
            r["communes_over_threshold"],
        )
        for r in table
    } == {
        (m["district_name"], m["period_type"], m["period_start"]): (
            m["late_total"],
            float(m["late_rate"]),
            m["communes_over_threshold"],
        )
        for m in mart
    }


def test_satisfaction_against_target_by_band(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    token = superset.admin_token()
    keys = ("commune_name", "survey_year", "agency_type")
    bars = chart_rows(superset, chart_ids["satisfaction_by_commune"], token)
    cells = warehouse.expected("commune_satisfaction")
    assert (
        compare(bars, cells, keys, {"satisfaction_pct": "satisfaction_index", "rating": "rating"})
        == 24
    )
    assert len(bars) == 24
    table = chart_rows(superset, chart_ids["satisfaction_table"], token)
    columns = {
        c: c
        for c in (
            "responses",
            "satisfaction_index",
            "target",
            "meets_target",
            "rating",
            "reliable",
            "idx_access",
            "idx_procedure",
            "idx_staff",
            "idx_result",
            "idx_feedback",
        )
    }
    compare(table, cells, keys, columns)
    district = chart_rows(superset, chart_ids["district_satisfaction_table"], token)
    columns = {
        c: c for c in ("responses", "satisfaction_index", "target", "meets_target", "rating")
    }
    assert (
        compare(
            district,
            warehouse.expected("district_satisfaction"),
            ("district_name", "survey_year", "agency_type"),
            columns,
        )
        == 6
    )
    assert len(district) == 6
    town_2016 = by_key(district, "survey_year", "agency_type")[("2016", "UBND")]
    assert (town_2016["satisfaction_index"], town_2016["rating"], town_2016["meets_target"]) == (
        68.22,
        "Trung bình",
        False,
    )


def test_contact_completeness(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    token = superset.admin_token()
    keys = ("commune_name", "period_type", "period_start")
    cells = warehouse.expected("commune_contact_completeness")
    bars = chart_rows(superset, chart_ids["completeness_by_commune"], token)
    assert compare(bars, cells, keys, {"completeness_pct": "completeness_rate"}) == 48
    table = chart_rows(superset, chart_ids["completeness_table"], token)
    columns = {
        c: c
        for c in (
            "dossiers",
            "address_present",
            "phone_valid",
            "email_valid",
            "contact_complete",
            "completeness_rate",
        )
    }
    compare(table, cells, keys, columns)
    assert (
        len(bars)
        == len(table)
        == mart_count(warehouse, "commune_contact_completeness", "dossiers > 0")
    )


# ---------------------------------------------------------------- today's units, the province


def _round2(numerator: int, denominator: int) -> float:
    """100 × n / d to 2 decimals, half away from zero (PostgreSQL's round on numeric)."""
    exact = Decimal(100 * numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_todays_units_beside_as_received(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    """No unit of the 2017 inbox has changed since: today's units are the units as received.

    So the manifest's pinned cells hold on both bases, every row of today's
    units equals the as-received mart's row of the same code and period, and
    the province totals are the sums of the as-received communes.
    """
    token = superset.admin_token()
    keys = ("commune_name", "period_type", "period_start")
    cells = warehouse.expected("commune_lateness")
    bars = chart_rows(superset, chart_ids["late_rate_by_commune_current"], token)
    assert compare(bars, cells, keys, {"late_rate_pct": "late_rate"}) == 4
    table = chart_rows(superset, chart_ids["lateness_current_table"], token)
    measures = ("received_total", "resolved_total", "in_progress_total", "late_total")
    compare(table, cells, keys, {c: c for c in (*measures, "late_rate", "over_threshold")})
    received = warehouse.rows(
        "select commune_code, period_type, period_start::text as period_start, received_total,"
        " resolved_total, in_progress_total, late_total, late_rate, over_threshold"
        " from marts.commune_lateness where late_rate is not null"
    )
    assert len(received) == len(table) == len(bars) > 4

    def row(r: dict[str, Any]) -> tuple[Any, ...]:
        return (*(r[c] for c in measures), float(r["late_rate"]), r["over_threshold"])

    assert {(r["commune_code"], r["period_type"], r["period_start"]): row(r) for r in table} == {
        (m["commune_code"], m["period_type"], m["period_start"]): row(m) for m in received
    }
    province = chart_rows(superset, chart_ids["province_lateness_current_table"], token)
    assert _province_totals(province) == _sums_of_communes(warehouse)


def _sums_of_communes(warehouse: Warehouse) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Province figures from the as-received communes: sums, the rate of the sums, communes over."""
    rows = warehouse.rows(
        "select province_name, period_type, period_start::text as period_start,"
        " received_total, late_total, resolved_total + in_progress_total as denominator,"
        " late_rate from marts.commune_lateness"
    )
    threshold = warehouse.manifest["expected"]["threshold"]
    sums: dict[tuple[str, str, str], list[int]] = {}
    for r in rows:
        total = sums.setdefault((r["province_name"], r["period_type"], r["period_start"]), [0] * 4)
        total[0] += r["received_total"]
        total[1] += r["late_total"]
        total[2] += r["denominator"]
        total[3] += r["late_rate"] is not None and r["late_rate"] > threshold
    return {
        key: (received, late, _round2(late, den), _round2(late, den) > threshold, over)
        for key, (received, late, den, over) in sums.items()
        if den > 0
    }


def _province_totals(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {
        (r["province_name"], r["period_type"], r["period_start"]): (
            r["received_total"],
            r["late_total"],
            r["late_rate"],
            r["over_threshold"],
            r["communes_over_threshold"],
        )
        for r in rows
    }


def test_the_province_dashboard(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    token = superset.admin_token()
    table = chart_rows(superset, chart_ids["province_lateness_table"], token)
    expected = _sums_of_communes(warehouse)
    assert _province_totals(table) == expected
    assert len(expected) == 5 + 3 + 2 + 2  # months Dec..Apr, quarters, halves, years
    # the months' reception: the generator's own counts of the four communes
    months: dict[str, int] = {}
    for cell in warehouse.expected("commune_received"):
        if cell["period_type"] == "month":
            months[cell["period_start"]] = (
                months.get(cell["period_start"], 0) + cell["received_total"]
            )
    assert {
        r["period_start"]: r["received_total"] for r in table if r["period_type"] == "month"
    } == months
    # Q1 2017: two of the four communes over the line (Ninh Tây 16 %, Ninh Hiệp), not Ninh Đa
    q1 = by_key(table, "period_type", "period_start")[("quarter", "2017-01-01")]
    assert q1["communes_over_threshold"] == 2
    line = chart_rows(superset, chart_ids["province_monthly_late_rate"], token)
    assert {(r["province_name"], r["period_start"]): r["late_rate_pct"] for r in line} == {
        (k[0], k[2]): v[2] for k, v in expected.items() if k[1] == "month"
    }
    # one town, one province: the province's satisfaction is the town's the manifest states
    cells = warehouse.expected("district_satisfaction")
    keys = ("survey_year", "agency_type")
    satisfaction = chart_rows(superset, chart_ids["province_satisfaction_table"], token)
    columns = {
        c: c
        for c in (
            "responses",
            "satisfaction_index",
            "target",
            "meets_target",
            "rating",
            "reliable",
            "communes_below_target",
        )
    }
    assert compare(satisfaction, cells, keys, {**columns, "communes_rated": "communes"}) == 6
    assert len(satisfaction) == 6
    bars = chart_rows(superset, chart_ids["province_satisfaction_by_service"], token)
    assert compare(bars, cells, keys, {"satisfaction_pct": "satisfaction_index"}) == 6
    assert len(bars) == 6


# ---------------------------------------------------------------- the 766 index


def _previous(period_type: str, start: str) -> str:
    months = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[period_type]
    day = date.fromisoformat(start)
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1).isoformat()


def test_766_points_rank_and_change(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    """Points against the maximum, rank and change, from the indicators and the pinned counts."""
    token = superset.admin_token()
    table = chart_rows(superset, chart_ids["scorecard_766_table"], token)
    indexed = by_key(table, "commune_code", "period_type", "period_start")
    # progress points of the pinned cells: 20 × (early + on time + in progress on time)
    # / (resolved + in progress), docs/index766.md, from the manifest's counts
    for cell in warehouse.expected("commune_lateness"):
        on_time = cell["resolved_early"] + cell["resolved_on_time"] + cell["in_progress_on_time"]
        points = _round2(20 * on_time, 100 * (cell["resolved_total"] + cell["in_progress_total"]))
        row = indexed[(cell["commune_code"], cell["period_type"], cell["period_start"])]
        assert row["points_progress"] == points, cell["commune_name"]
    assert [
        indexed[(c["commune_code"], c["period_type"], c["period_start"])]["points_progress"]
        for c in warehouse.expected("commune_lateness")
    ] == [18.0, 16.8, 20.0, 17.5]
    # totals and maxima: the sums of the indicators of commune_index_766
    indicators = warehouse.rows(
        "select commune_code, province_code, period_type, period_start::text as period_start,"
        " sum(points) as points, sum(max_points) filter (where is_applicable) as max_points,"
        " count(points) as counted from marts.commune_index_766"
        " group by commune_code, province_code, period_type, period_start"
        " having count(points) > 0"
    )
    assert len(indicators) == len(table) == 48  # 4 communes × 12 periods
    totals = {
        (i["commune_code"], i["period_type"], i["period_start"]): float(i["points"])
        for i in indicators
    }
    for i in indicators:
        key = (i["commune_code"], i["period_type"], i["period_start"])
        row = indexed[key]
        assert (row["points_total"], row["max_points_computable"]) == (
            float(i["points"]),
            float(i["max_points"]),
        ), key
        # rank among the province's communes of the period: 1 + those with more points
        rivals = [
            t for k, t in totals.items() if k[1:] == key[1:] and k[0] != key[0]
        ]  # one province here
        assert row["rank_in_province"] == 1 + sum(t > totals[key] for t in rivals), key
        before = totals.get((key[0], key[1], _previous(key[1], key[2])))
        change = None if before is None else round(totals[key] - before, 2)
        assert row["points_change"] == change, key
    assert {r["rank_in_province"] for r in table} == {1, 2, 3, 4}
    bars = chart_rows(superset, chart_ids["points_766_by_commune"], token)
    assert {
        (r["commune_name"], r["period_type"], r["period_start"]): (r["points"], r["max_points"])
        for r in bars
    } == {
        (r["commune_name"], r["period_type"], r["period_start"]): (
            r["points_total"],
            r["max_points_computable"],
        )
        for r in table
    }
    line = chart_rows(superset, chart_ids["monthly_points_766"], token)
    assert {(r["commune_name"], r["period_start"]): r["points"] for r in line} == {
        (r["commune_name"], r["period_start"]): r["points_total"]
        for r in table
        if r["period_type"] == "month"
    }
    assert len(line) == 4 * 5


PERIOD_STARTS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def _period_of(day: date, period_type: str) -> str:
    months = PERIOD_STARTS[period_type]
    return date(day.year, (day.month - 1) // months * months + 1, 1).isoformat()


def _disc(values: list[int], fraction: float) -> int:
    """PostgreSQL's percentile_disc: the first value whose cumulative share reaches fraction."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def test_processing_time_per_procedure(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    """Working days of every resolved dossier, from the dossiers and the working-day calendar."""
    token = superset.admin_token()
    run_date = date.fromisoformat(warehouse.manifest["run_date"])
    dossiers = warehouse.rows(
        "select f.commune_code, f.procedure_code, f.done_date,"
        " done.working_day_index - received.working_day_index as taken,"
        " due.working_day_index - received.working_day_index as legal"
        " from marts.fct_dossier as f"
        " join intermediate.int_calendar__days as received"
        " on received.calendar_date = f.received_date"
        " join intermediate.int_calendar__days as done on done.calendar_date = f.done_date"
        " join intermediate.int_calendar__days as due on due.calendar_date = f.due_date"
        " where not f.is_withdrawn_or_refused and f.done_date <= %s",
        run_date,
    )
    groups: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for d in dossiers:
        for period_type in PERIOD_STARTS:
            key = (
                d["commune_code"],
                period_type,
                _period_of(d["done_date"], period_type),
                d["procedure_code"],
            )
            groups.setdefault(key, []).append((d["taken"], d["legal"]))
    expected = {
        key: (
            len(days),
            float(
                (Decimal(sum(t for t, _ in days)) / len(days)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
            ),
            _disc([t for t, _ in days], 0.5),
            _disc([t for t, _ in days], 0.9),
            _disc([legal for _, legal in days], 0.5),
        )
        for key, days in groups.items()
    }
    table = chart_rows(superset, chart_ids["processing_time_table"], token)
    assert {
        (r["commune_code"], r["period_type"], r["period_start"], r["procedure_code"]): (
            r["resolved"],
            r["mean_working_days"],
            r["median_working_days"],
            r["p90_working_days"],
            r["legal_working_days"],
        )
        for r in table
    } == expected
    # the dossiers resolved in a pinned period are the manifest's resolved_total
    for cell in warehouse.expected("commune_lateness"):
        resolved = [
            r["resolved"]
            for r in table
            if (r["commune_name"], r["period_type"], r["period_start"])
            == (cell["commune_name"], cell["period_type"], cell["period_start"])
        ]
        assert sum(resolved) == cell["resolved_total"], cell["commune_name"]


BANDS = ("not_yet_due", "overdue_1_5", "overdue_6_20", "overdue_over_20")


def _band(overdue: bool, days_late: int) -> str:
    if not overdue:
        return BANDS[0]
    return BANDS[1] if days_late <= 5 else BANDS[2] if days_late <= 20 else BANDS[3]


def test_backlog_by_age(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    """Open dossiers at the run date by working days past due, from the dossiers themselves."""
    token = superset.admin_token()
    dossiers = warehouse.rows(
        "select commune_code, dossier_code, is_overdue_at_run_date as overdue, working_days_late"
        " from marts.fct_dossier where is_open_at_run_date"
    )
    expected: dict[tuple[str, int], tuple[int, int | None]] = {}
    codes: dict[tuple[str, int], set[str]] = {}
    communes = {d["commune_code"] for d in dossiers}
    for commune in communes:
        for order, band in enumerate(BANDS, start=1):
            inside = [
                d
                for d in dossiers
                if d["commune_code"] == commune
                and _band(d["overdue"], d["working_days_late"]) == band
            ]
            late = [d["working_days_late"] for d in inside]
            expected[(commune, order)] = (len(inside), max(late) if late else None)
            codes[(commune, order)] = {d["dossier_code"] for d in inside}
    table = chart_rows(superset, chart_ids["backlog_table"], token)
    assert {
        (r["commune_code"], r["band_order"]): (r["open_dossiers"], r["max_working_days_late"])
        for r in table
    } == expected
    for r in table:
        shown = {c for c in r["oldest_dossier_codes"].split(", ") if c}
        inside = codes[(r["commune_code"], r["band_order"])]
        assert shown <= inside and len(shown) == min(5, len(inside)), r
    assert {r["as_of_date"] for r in table} == {warehouse.manifest["run_date"]}
    # Ninh Hiệp's pinned April: 6 in progress on time and 2 overdue at the run date
    (april,) = [c for c in warehouse.expected("commune_lateness") if c["period_type"] == "month"]
    mine = {r["band_order"]: r["open_dossiers"] for r in table if r["commune_code"] == "22528"}
    assert (
        (mine[1], sum(mine.values()) - mine[1])
        == (
            april["in_progress_on_time"],
            april["in_progress_overdue"],
        )
        == (6, 2)
    )
    bars = chart_rows(superset, chart_ids["backlog_by_age"], token)
    assert {(r["commune_name"], r["age_band_label"]): r["open"] for r in bars} == {
        (r["commune_name"], r["age_band_label"]): r["open_dossiers"] for r in table
    }


def test_every_chart_is_checked_above() -> None:
    checked = {
        "late_rate_by_commune",
        "lateness_table",
        "district_lateness_table",
        "monthly_late_rate",
        "monthly_received",
        "satisfaction_by_commune",
        "satisfaction_table",
        "district_satisfaction_table",
        "completeness_by_commune",
        "completeness_table",
        "late_rate_by_commune_current",
        "lateness_current_table",
        "province_lateness_current_table",
        "province_lateness_table",
        "province_monthly_late_rate",
        "province_satisfaction_by_service",
        "province_satisfaction_table",
        "points_766_by_commune",
        "scorecard_766_table",
        "monthly_points_766",
        "processing_time_table",
        "backlog_by_age",
        "backlog_table",
    }
    assert {c.key for c in ALL_CHARTS} == checked


# ---------------------------------------------------------------- commune accounts


def test_a_commune_user_sees_its_commune_only(
    superset: Superset, warehouse: Warehouse, chart_ids: dict[str, int]
) -> None:
    username, code = COMMUNE_USER
    token = superset.token(username, superset.commune_password)
    admin = superset.admin_token()
    for key in (
        "lateness_table",
        "late_rate_by_commune",
        "completeness_table",
        "satisfaction_table",
        "late_rate_by_commune_current",
        "lateness_current_table",
        "points_766_by_commune",
        "scorecard_766_table",
        "monthly_points_766",
        "processing_time_table",
        "backlog_by_age",
        "backlog_table",
    ):
        mine = chart_rows(superset, chart_ids[key], token)
        everyone = chart_rows(superset, chart_ids[key], admin)
        assert {r["commune_name"] for r in mine} == {"Xã Ninh Tây"}, key
        assert len({r["commune_name"] for r in everyone}) > 1, key
        theirs = [r for r in everyone if r["commune_name"] == "Xã Ninh Tây"]
        assert sorted(map(repr, mine)) == sorted(map(repr, theirs)), key
    table = chart_rows(superset, chart_ids["lateness_table"], token)
    assert {r["commune_code"] for r in table} == {code}
    q1 = [r for r in table if r["period_type"] == "quarter" and r["period_start"] == "2017-01-01"]
    assert [(r["late_total"], r["late_rate"]) for r in q1] == [(4, 16.0)]
    # its rank among the four communes, though it sees only its own row
    q1 = ("quarter", "2017-01-01")
    (tay,) = [
        r
        for r in chart_rows(superset, chart_ids["scorecard_766_table"], token)
        if (r["period_type"], r["period_start"]) == q1
    ]
    everyone_q1 = [
        r
        for r in chart_rows(superset, chart_ids["scorecard_766_table"], admin)
        if (r["period_type"], r["period_start"]) == q1
    ]
    assert len(everyone_q1) == 4
    above = sum(r["points_total"] > tay["points_total"] for r in everyone_q1)
    # 16.80: 20 × (5 early + 12 on time + 4 in progress on time) / 25, the pinned counts
    assert (tay["commune_code"], tay["points_progress"], tay["rank_in_province"]) == (
        code,
        16.8,
        1 + above,
    )
    # district aggregates are shared with commune accounts, as in the warehouse
    district = chart_rows(superset, chart_ids["district_satisfaction_table"], token)
    assert len(district) == 6
    # the province marts are not: the warehouse does not open them to commune accounts
    province_charts = [c.key for c in spec.PROVINCE.charts + spec.CURRENT.charts]
    province_charts = [k for k in province_charts if k.startswith("province_")]
    assert len(province_charts) == 5
    for key in province_charts:
        response = requests.get(
            f"{superset.url}/api/v1/chart/{chart_ids[key]}/data/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert response.status_code in {401, 403, 404}, (key, response.status_code)
        assert chart_rows(superset, chart_ids[key], admin), key
    # no SQL Lab nor blanket data access: Superset's rule cannot be bypassed by hand-written SQL
    roles = superset.api("/api/v1/me/roles/", token)["result"]["roles"]
    granted = {tuple(p) for perms in roles.values() for p in perms}
    assert ("can_execute_sql_query", "SQLLab") not in granted
    assert not {p for p in granted if p[0] in {"all_datasource_access", "all_database_access"}}
    assert f"motcua_commune_{code}" in roles and "motcua_bi" not in roles


# ---------------------------------------------------------------- the browser


def _session_cookie(superset: Superset, username: str = "admin", password: str = "") -> str:
    session = requests.Session()
    page = session.get(f"{superset.url}/login/", timeout=60)
    match = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"|"csrf_token"\s*:\s*"([^"]+)"', page.text
    )
    assert match, "no CSRF token on the login page"
    token = match.group(1) or match.group(2)
    response = session.post(
        f"{superset.url}/login/",
        data={
            "username": username,
            "password": password or superset.admin_password,
            "csrf_token": token,
        },
        timeout=60,
        allow_redirects=False,
    )
    assert response.status_code in {302, 303}, response.text[:500]
    return session.cookies["session"]


CHARTS_DONE = """
(() => {
  const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')];
  const state = holders.map(h => ({
    title: (h.querySelector('.header-title, [data-test="editable-title"]') || {}).innerText || '',
    error: !!h.querySelector('.alert-danger, [data-test="error-message"], .ant-alert-error'),
    loading: !!h.querySelector('.loading, [aria-label="Loading"]'),
    drawn: !!h.querySelector('canvas, svg, table'),
    text: h.innerText.slice(0, 4000),
  }));
  const body = document.body ? document.body.innerText : '';
  // settled: every chart drawn or in error, the filter bar loaded, the texts on the page
  const done = holders.length > 0 && state.every(s => s.error || (!s.loading && s.drawn))
    && !body.includes('Loading filter values') && EXPECTED.every(t => body.includes(t));
  return {done, state, body: body.slice(0, 20000)};
})()
"""


def charts_done(*expected: str) -> str:
    """The page's state; done once it has settled with the ``expected`` texts on it.

    Charts can be drawn before the filter bar has loaded and the tables filled
    in: waiting for the texts too keeps a loaded machine from reading a page
    half rendered. A text that never comes times out with the page's state.
    """
    return CHARTS_DONE.replace("EXPECTED", json.dumps(list(expected), ensure_ascii=False))


def _chart_queries(events: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Chart id -> the filters of the last data query the page sent for it."""
    queries: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        if event.get("method") != "Network.requestWillBeSent":
            continue
        request = event["params"]["request"]
        if "/api/v1/chart/data" not in request["url"] or not request.get("postData"):
            continue
        body = json.loads(request["postData"])
        chart_id = body.get("form_data", {}).get("slice_id")
        if chart_id:
            queries[int(chart_id)] = body["queries"][0].get("filters", [])
    return queries


def _check_default_filters(
    dashboard: Any, queries: dict[int, list[dict[str, Any]]], chart_ids: dict[str, int]
) -> None:
    """A filter's default reaches the charts of its scope, and only those."""
    for f in dashboard.filters:
        if not f.default:
            continue
        applied = {"col": f.column, "op": "IN", "val": list(f.default)}
        for chart in dashboard.charts:
            in_scope = chart.dataset.has_column(f.column) and chart.key not in f.excluded
            sent = queries[chart_ids[chart.key]]
            assert (applied in sent) == in_scope, (dashboard.slug, f.key, chart.key, sent)


@pytest.mark.browser
def test_the_dashboards_render_in_chromium(
    superset: Superset, chromium: str, tmp_path: Path, chart_ids: dict[str, int]
) -> None:
    cookie = _session_cookie(superset)
    host = superset.url
    expectations = {
        "motcua-tre-han": ["Xã Ninh Tây", "Tỷ lệ trễ hạn"],
        "motcua-hai-long": ["Xã Ninh Hưng", "Trung bình"],
        "motcua-lien-lac": ["Phường Ninh Hiệp", "Thông tin liên lạc"],
        "motcua-tre-han-hien-nay": ["Xã Ninh Tây", "Tỉnh Khánh Hòa", "đơn vị hiện nay"],
        "motcua-tinh": ["Tỉnh Khánh Hòa", "Khá", "Số xã vượt ngưỡng"],
        "motcua-766": ["Xã Ninh Hưng", "Đăng ký khai sinh", "quá hạn 6–20 ngày làm việc"],
    }
    with chromium_page(chromium) as page:
        page.send("Network.setCookie", name="session", value=cookie, url=host + "/", httpOnly=True)
        for dashboard in spec.DASHBOARDS:
            seen = len(page.events)
            page.send(
                "Page.navigate", url=f"{host}/superset/dashboard/{dashboard.slug}/?standalone=1"
            )
            result = page.wait_for(charts_done(*expectations[dashboard.slug]), timeout=240)
            _check_default_filters(dashboard, _chart_queries(page.events[seen:]), chart_ids)
            png = page.screenshot(tmp_path / f"{dashboard.slug}.png")
            assert png.stat().st_size > 20_000
            states = result["state"]
            assert len(states) == len(dashboard.charts), (dashboard.slug, len(states))
            assert [s for s in states if s["error"]] == [], dashboard.slug
            for text in expectations[dashboard.slug]:
                assert text in result["body"], (dashboard.slug, text)
        # a commune account on the 766 dashboard: every chart drawn, its commune only
        username, _ = COMMUNE_USER
        cookie = _session_cookie(superset, username, superset.commune_password)
        page.send("Network.setCookie", name="session", value=cookie, url=host + "/", httpOnly=True)
        page.send("Page.navigate", url=f"{host}/superset/dashboard/motcua-766/?standalone=1")
        result = page.wait_for(charts_done("Xã Ninh Tây", "quá hạn 6–20"), timeout=240)
        page.screenshot(tmp_path / "motcua-766-ninhtay.png")
        assert len(result["state"]) == len(spec.INDEX_766.charts)
        assert [s for s in result["state"] if s["error"]] == []
        assert "Xã Ninh Tây" in result["body"]
        others = ("Xã Ninh Hưng", "Phường Ninh Đa", "Phường Ninh Hiệp")
        assert [name for name in others if name in result["body"]] == []
        # nothing left the machine: every request went to this server (or was refused by CSP)
        outside = [
            u
            for u in page.requested_urls()
            if not u.startswith((host, "data:", "blob:", "about:")) and u not in page.blocked_urls()
        ]
        assert outside == []
