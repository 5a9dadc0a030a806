"""The HTML dashboard, rendered by a real headless Chromium, against the marts' figures."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from motcua.reports import parse_period
from motcua.reports.dashboard import JS, write_dashboard
from tests.reports import browser, safety
from tests.reports.conftest import Built

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    summary = write_dashboard(built.url, out, parse_period("2017-H1"), 2016)
    assert (summary["period"], summary["survey_year"]) == ("2017-H1", 2016)
    return out


@pytest.fixture(scope="module")
def dom(chromium: str, page: Path) -> browser.Element:
    return browser.parse(browser.dump_dom(chromium, page))


def dec(text: str) -> Decimal:
    return Decimal(text)


def test_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(", html)
    assert '<html lang="vi">' in html and "Xã Ninh Hưng" in html


def test_only_the_pages_own_script_may_run(page: Path) -> None:
    """Defence in depth behind the escaping: the policy allows the sorter by its hash only."""
    markup = page.read_text(encoding="utf-8")
    (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', markup)
    digest = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert safety.unsafe_html(markup, own_scripts=[JS]) == []


@pytest.mark.browser
def test_an_injected_script_would_not_run(chromium: str, page: Path, tmp_path: Path) -> None:
    """Were a value ever left unescaped, the browser still refuses to run it."""
    markup = page.read_text(encoding="utf-8")
    injected = '<script>document.documentElement.setAttribute("data-injected", "1")</script>'
    handler = '<svg><rect onmouseover="x" /><image href="x" onerror="document.title=1"/></svg>'
    hostile = tmp_path / "dashboard.html"
    hostile.write_text(markup.replace("<main>", f"<main>{injected}{handler}", 1), encoding="utf-8")
    (root,) = browser.parse(browser.dump_dom(chromium, hostile, offline=True)).find_all("html")
    assert root.attrs.get("data-ready") == "1"  # the page's own script ran
    assert "data-injected" not in root.attrs


@pytest.mark.browser
def test_scripts_ran_and_page_is_labelled(dom: browser.Element) -> None:
    (root,) = dom.find_all("html")
    assert root.attrs.get("data-ready") == "1", "the inline script did not run"
    (body,) = dom.find_all("body")
    assert body.attrs["data-period"] == "2017-H1"
    assert body.attrs["data-survey-year"] == "2016"
    assert body.attrs["data-cut-off-date"] == "2017-06-30"
    assert "Từ ngày 01/01/2017 đến ngày 30/06/2017" in dom.by_id("kpi-late-rate").parent.parent.text


@pytest.mark.browser
def test_headline_figures(built: Built, dom: browser.Element) -> None:
    late = dom.by_id("kpi-late-rate")
    assert late.attrs["data-value"] == "7.61" and "7.61%" in late.text
    over = dom.by_id("kpi-communes-over")
    assert (over.attrs["data-value"], over.attrs["data-of"]) == ("7", "27")
    for name in built.manifest["story"]["h1_2017"]["over_threshold_names"]:
        assert name in over.text
    sat = dom.by_id("kpi-satisfaction")
    assert sat.attrs["data-value"] == "72.12" and "72.12%" in sat.text
    assert (sat.attrs["data-target"], sat.attrs["data-rating"], sat.attrs["data-meets-target"]) == (
        "75", "Khá", "false"
    )  # fmt: skip
    low = dom.by_id("kpi-low-rated")
    assert low.attrs["data-value"] == "3"
    for name in ("Xã Ninh Tây", "Xã Ninh Thượng", "Xã Ninh Hưng"):
        assert name in low.text


@pytest.mark.browser
def test_late_rate_per_commune_against_the_line(built: Built, dom: browser.Element) -> None:
    chart = dom.by_id("chart-late-rate")
    bars = chart.find_all("g", cls="bar")
    expected = {
        c["commune_code"]: c
        for c in built.expected("commune_lateness", period_type="half_year",
                                period_start="2017-01-01")
    }  # fmt: skip
    got = {b.attrs["data-commune-code"]: b for b in bars}
    assert set(got) == set(expected)
    for code, bar in got.items():
        assert dec(bar.attrs["data-late-rate"]) == Decimal(str(expected[code]["late_rate"]))
        assert bar.attrs["data-over-threshold"] == str(expected[code]["over_threshold"]).lower()
        assert ("over" in bar.classes) == expected[code]["over_threshold"]
        assert bar.attrs["data-late-rate"] in bar.text  # printed next to the bar
    over = {b.attrs["data-commune-code"] for b in bars if b.attrs["data-over-threshold"] == "true"}
    assert over == set(built.manifest["story"]["h1_2017"]["over_threshold"])
    assert got["22570"].attrs["data-late-rate"] == "10.00"  # Ninh Đa: on the line, not over
    assert got["22570"].attrs["data-over-threshold"] == "false"
    (line,) = chart.find_all("g", cls="threshold")
    assert line.attrs["data-value"] == "10" and "10%" in line.text
    # sorted from the worst down
    rates = [dec(b.attrs["data-late-rate"]) for b in bars]
    assert rates == sorted(rates, reverse=True)
    table = dom.by_id("table-late-rate")
    rows = table.find_all("tr", cls="over")
    assert {r.attrs["data-commune-code"] for r in rows} == over
    (total,) = table.find_all("tr", cls="total")
    assert total.attrs["data-late-rate"] == "7.61"
    assert total.attrs["data-communes-over-threshold"] == "7"


@pytest.mark.browser
def test_satisfaction_per_commune_against_target(built: Built, dom: browser.Element) -> None:
    chart = dom.by_id("chart-satisfaction")
    expected = {
        c["commune_code"]: c
        for c in built.expected("commune_satisfaction", survey_year=2016, agency_type="UBND")
    }
    got = {b.attrs["data-commune-code"]: b for b in chart.find_all("g", cls="bar")}
    assert set(got) == set(expected)
    for code, bar in got.items():
        e = expected[code]
        assert dec(bar.attrs["data-satisfaction-index"]) == Decimal(str(e["satisfaction_index"]))
        assert bar.attrs["data-rating"] == e["rating"]
        assert bar.attrs["data-meets-target"] == str(e["meets_target"]).lower()
    (target,) = chart.find_all("g", cls="target")
    assert target.attrs["data-value"] == "75"
    (total,) = dom.by_id("table-satisfaction").find_all("tr", cls="total")
    assert total.attrs["data-satisfaction-index"] == "72.12"
    assert total.attrs["data-district-code"] == "572"


@pytest.mark.browser
def test_contact_completeness_per_commune(built: Built, dom: browser.Element) -> None:
    expected = {
        c["commune_code"]: c
        for c in built.expected("commune_contact_completeness", period_type="half_year",
                                period_start="2017-01-01")
    }  # fmt: skip
    bars = dom.by_id("chart-completeness").find_all("g", cls="bar")
    assert len(bars) == len(expected) == 27
    for bar in bars:
        e = expected[bar.attrs["data-commune-code"]]
        assert dec(bar.attrs["data-completeness-rate"]) == Decimal(str(e["completeness_rate"]))
    for row in dom.by_id("table-completeness").find_all("tr"):
        if "data-commune-code" in row.attrs:
            e = expected[row.attrs["data-commune-code"]]
            cells = [td.text for td in row.find_all("td")]
            assert cells[2:7] == [
                str(e[k])
                for k in ("dossiers", "address_present", "phone_valid", "email_valid",
                          "contact_complete")
            ]  # fmt: skip


@pytest.mark.browser
def test_monthly_trend_of_the_town(built: Built, dom: browser.Element) -> None:
    with psycopg.connect(built.url) as conn:
        months = conn.execute(
            """select to_char(period_start, 'YYYY-MM'), late_rate, cut_off_date < period_end
               from marts.district_lateness
               where district_code = '572' and period_type = 'month' order by period_start"""
        ).fetchall()
    points = dom.by_id("chart-trend").find_all("circle", cls="pt")
    got = [
        (p.attrs["data-month"], dec(p.attrs["data-late-rate"]), p.attrs["data-partial"] == "true")
        for p in points
    ]
    assert got == [(m, r, partial) for m, r, partial in months if r is not None]
    assert got[0][0] == "2016-01" and got[-1] == (got[-1][0], got[-1][1], True)
    assert [p.attrs["data-month"] for p in points if "partial" in p.classes] == ["2017-07"]
    rows = [r for r in dom.by_id("table-trend").find_all("tr") if "data-month" in r.attrs]
    assert len(rows) == len(months) == 19


@pytest.mark.browser
def test_screenshot_renders(chromium: str, page: Path, tmp_path: Path) -> None:
    png = browser.screenshot(chromium, page, tmp_path / "dashboard.png")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert (width, height) == (1700, 2000)
    assert png.stat().st_size > 50_000  # not a blank page


def test_default_period_is_the_latest_ended_half_year(built: Built, tmp_path: Path) -> None:
    summary: dict[str, Any] = write_dashboard(built.url, tmp_path / "d.html")
    assert (summary["period"], summary["survey_year"]) == ("2017-H1", 2017)
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert 'id="kpi-satisfaction" data-value="75.50"' in html


def test_index766_points_rank_and_months(built: Built, page: Path) -> None:
    """One bar per commune with 766 points, as marts.commune_scorecard_766 holds them."""
    with psycopg.connect(built.url) as conn:
        expected = {
            code: (points, rank)
            for code, points, rank in conn.execute(
                """select commune_code, points_total, rank_in_province
                   from marts.commune_scorecard_766
                   where district_code = '572' and period_type = 'half_year'
                     and period_start = '2017-01-01' and points_total is not null"""
            ).fetchall()
        }
    dom = browser.parse(page.read_text(encoding="utf-8"))
    bars = dom.by_id("chart-index766").find_all("g", cls="bar")
    assert len(bars) == len(expected) == 27
    for bar in bars:
        points, rank = expected[bar.attrs["data-commune-code"]]
        assert (dec(bar.attrs["data-points-total"]), int(bar.attrs["data-rank"])) == (points, rank)
    months = dom.by_id("table-index766-months").find_all("tr")
    assert len(months) == 1 + 27  # the header row, then every commune
