"""Superset on the marts: every chart's data through its API, exact; a browser render.

One Superset for the module (conftest): the small inbox's warehouse, the
assets imported with ``superset import-datasources`` / ``import-dashboards``,
a commune account provisioned. Every chart of ``motcua.bi.spec`` is asked for
its data with its saved query context (``GET /api/v1/chart/<id>/data/``) and
its numbers compared with the figures the generator's manifest states, or,
where the manifest states none (district lateness), with the mart itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
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
    # district aggregates are shared with commune accounts, as in the warehouse
    district = chart_rows(superset, chart_ids["district_satisfaction_table"], token)
    assert len(district) == 6
    # no SQL Lab nor blanket data access: Superset's rule cannot be bypassed by hand-written SQL
    roles = superset.api("/api/v1/me/roles/", token)["result"]["roles"]
    granted = {tuple(p) for perms in roles.values() for p in perms}
    assert ("can_execute_sql_query", "SQLLab") not in granted
    assert not {p for p in granted if p[0] in {"all_datasource_access", "all_database_access"}}
    assert f"motcua_commune_{code}" in roles and "motcua_bi" not in roles


# ---------------------------------------------------------------- the browser


def _session_cookie(superset: Superset) -> str:
    session = requests.Session()
    page = session.get(f"{superset.url}/login/", timeout=60)
    match = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"|"csrf_token"\s*:\s*"([^"]+)"', page.text
    )
    assert match, "no CSRF token on the login page"
    token = match.group(1) or match.group(2)
    response = session.post(
        f"{superset.url}/login/",
        data={"username": "admin", "password": superset.admin_password, "csrf_token": token},
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
  const done = holders.length > 0 && state.every(s => s.error || (!s.loading && s.drawn));
  return {done, state, body: document.body ? document.body.innerText.slice(0, 20000) : ''};
})()
"""


@pytest.mark.browser
def test_the_dashboards_render_in_chromium(
    superset: Superset, chromium: str, tmp_path: Path
) -> None:
    cookie = _session_cookie(superset)
    host = superset.url
    expectations = {
        "motcua-tre-han": ["Xã Ninh Tây", "Tỷ lệ trễ hạn"],
        "motcua-hai-long": ["Xã Ninh Hưng", "Trung bình"],
        "motcua-lien-lac": ["Phường Ninh Hiệp", "Thông tin liên lạc"],
    }
    with chromium_page(chromium) as page:
        page.send("Network.setCookie", name="session", value=cookie, url=host + "/", httpOnly=True)
        for dashboard in spec.DASHBOARDS:
            page.send(
                "Page.navigate", url=f"{host}/superset/dashboard/{dashboard.slug}/?standalone=1"
            )
            result = page.wait_for(CHARTS_DONE, timeout=240)
            png = page.screenshot(tmp_path / f"{dashboard.slug}.png")
            assert png.stat().st_size > 20_000
            states = result["state"]
            assert len(states) == len(dashboard.charts), (dashboard.slug, len(states))
            assert [s for s in states if s["error"]] == [], dashboard.slug
            for text in expectations[dashboard.slug]:
                assert text in result["body"], (dashboard.slug, text)
        # nothing left the machine: every request went to this server (or was refused by CSP)
        outside = [
            u
            for u in page.requested_urls()
            if not u.startswith((host, "data:", "blob:", "about:")) and u not in page.blocked_urls()
        ]
        assert outside == []
