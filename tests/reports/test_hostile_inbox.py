"""Hostile text from the inbox, through the real pipeline, into every output: shown, never run.

The small sample inbox plus one dossier export and one survey file written by
an attacker (or a careless clerk): script tags, event handlers and spreadsheet
formulas as dossier codes, unit names, procedure names, survey ids, comments
and the file names themselves. They are loaded, built by dbt, checked by the
GX suites, and every output is then read back the way its reader reads it:
the quality report and the dashboard as HTML elements (and in headless
Chromium), the alert e-mail's HTML part, the XLSX cells, the transparency CSV
fields and JSON text. Nothing may run, load from the network or become a
formula; the hostile values must still be there, escaped, where an output
lists them (so the test cannot pass on empty pages).

The marts' commune and district names come from the reference seeds, not from
the inbox; the last tests give them hostile values directly in the marts, as a
bad seed edit would, and render the reports again.
"""

from __future__ import annotations

import csv
import html
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from motcua import config, pipeline
from motcua.alerts.compose import compose_quality_alert
from motcua.alerts.send import AlertSettings, deliver
from motcua.quality import QualityGateError, run_checks
from motcua.quality.run import merge_summaries
from motcua.reports import parse_period
from motcua.reports.dashboard import JS, write_dashboard
from motcua.reports.official_table import write_official_table
from motcua.reports.transparency import write_transparency
from motcua_dev.generator import write_small
from tests.conftest import create_database, drop_database
from tests.reports import browser, safety
from tests.reports.conftest import dbt_build

pytestmark = pytest.mark.slow

HOSTILE_UNIT = "22531"  # Xã Ninh Sơn: a real unit with no dossier in the small inbox
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
SVG = "<svg/onload=alert(3)>"
QUOTE = '" onmouseover="alert(4)'
HYPERLINK = '=HYPERLINK("http://evil.example/","Bấm vào đây")'
DDE = "=cmd|' /C calc'!A0"
# Five dossiers received in the last 7 days, no contact data at all: every contact
# check of the unit fails and lists exactly these five codes (report.max_codes = 5).
CONTACT_CODES = [SCRIPT, IMG, QUOTE, HYPERLINK, DDE]
# Three rows with an impossible date: quarantined, 3 of 9 rows > 20 %, so the
# quarantine-share check names the file.
QUARANTINED_CODES = ["+1+1", "-2+3", "@SUM(A1)"]
ONESTOP_FILE = f"hoso_20170428_{IMG}.csv"
SURVEY_FILE = "khaosat_2017_<svg onload=alert(5)>.csv"
UNIT_NAME = "<script>alert('unit')</script>"
PROCEDURE_NAME = "<img src=x onerror=alert('procedure')>"
HOSTILE_TEXTS = [SCRIPT, IMG, SVG, QUOTE, UNIT_NAME, PROCEDURE_NAME]

ONESTOP_HEADER = [
    "Mã hồ sơ", "Mã đơn vị", "Tên đơn vị", "Mã thủ tục", "Tên thủ tục", "Lĩnh vực",
    "Kênh nộp", "Nơi tiếp nhận", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả",
    "Ngày trả kết quả", "Trạng thái", "Ngày xin lỗi", "Ngày hẹn trả lại", "Họ tên người nộp",
    "Địa chỉ", "Số điện thoại", "Email", "Cập nhật lúc",
]  # fmt: skip
SURVEY_HEADER = [
    "Mã phiếu", "Năm", "Mã đơn vị", "Cơ quan", "Ngày khảo sát", "Tiếp cận dịch vụ",
    "Thủ tục hành chính", "Công chức", "Kết quả", "Góp ý phản ánh", "Mã hồ sơ", "Ý kiến",
]  # fmt: skip


def onestop_row(code: str, received: str) -> list[str]:
    return [
        code, HOSTILE_UNIT, UNIT_NAME, DDE, PROCEDURE_NAME, "@SUM(A1)", "1", "Bộ phận một cửa",
        received, "10/05/2017", "", "", "Đã tiếp nhận", "", "", "", "", "", "",
        "27/04/2017 10:00:00",
    ]  # fmt: skip


def write_hostile_files(inbox: Path) -> None:
    rows = [onestop_row(code, "27/04/2017") for code in CONTACT_CODES]
    rows += [onestop_row(code, "31/02/2017") for code in QUARANTINED_CODES]
    rows.append(onestop_row(SVG, "28/04/2017"))  # a sixth dossier, with a valid contact
    rows[-1][15:19] = ["Trần Văn Mẫu", "Thôn 1, Ninh Sơn", "0905123456", "mau@example.vn"]
    with (inbox / "onestop" / ONESTOP_FILE).open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([ONESTOP_HEADER, *rows])
    answers = ["5", "4", "5", "4", "5"]
    survey = [
        [SCRIPT, "2017", HOSTILE_UNIT, "UBND", "20/04/2017", *answers, IMG, SCRIPT],
        [HYPERLINK, "2017", HOSTILE_UNIT, "UBND", "20/04/2017", *answers, "", DDE],
    ]
    with (inbox / "survey" / SURVEY_FILE).open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([SURVEY_HEADER, *survey])


@dataclass(frozen=True)
class Outputs:
    url: str
    work: Path
    project: Path  # the GX project copy the checks ran with
    summary: dict[str, Any]
    eml: Path
    xlsx: Path
    transparency: Path
    dashboard: Path

    def pages(self) -> list[Path]:
        """Every HTML page the checks wrote (the quality report, whatever its layout)."""
        return sorted((self.project / "gx" / "uncommitted").rglob("*.html"))


def checks(url: str, run_date: date, project: Path) -> dict[str, Any]:
    """As the nightly DAG runs them: the blocking stage, then the contact stage."""
    stages = []
    for scope in ("pipeline", "contacts"):
        try:
            stages.append(run_checks(url, run_date, project_dir=project, scope=scope))  # type: ignore[arg-type]
        except QualityGateError as exc:  # still one alert, as the DAG sends
            stages.append(exc.summary)
    return merge_summaries(*stages)


def render_reports(url: str, out: Path) -> tuple[Path, Path, Path]:
    xlsx, export, dashboard = out / "bao-cao.xlsx", out / "transparency", out / "dashboard.html"
    write_official_table(url, parse_period("2017-04"), xlsx, year=2017)
    write_transparency(url, export)
    write_dashboard(url, dashboard, parse_period("2017-04"), 2017)
    return xlsx, export, dashboard


@pytest.fixture(scope="module")
def outputs(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    work = tmp_path_factory.mktemp("hostile")
    manifest = write_small(work / "inbox")
    write_hostile_files(work / "inbox")
    run_date = date.fromisoformat(manifest["run_date"])
    project = work / "expectations"
    shutil.copytree(
        config.expectations_dir() / "gx",
        project / "gx",
        ignore=shutil.ignore_patterns("uncommitted"),
    )
    url = create_database(admin_url, prefix="motcua_hostile_t")
    try:
        loaded = pipeline.ingest_inbox(url, work / "inbox", run_date)
        hostile = [f for f in loaded["files"] if f["file_name"] in (ONESTOP_FILE, SURVEY_FILE)]
        assert [(f["status"], f["rows_read"]) for f in hostile] == [("loaded", 9), ("loaded", 2)]
        dbt_build(url, run_date.isoformat(), work)
        summary = checks(url, run_date, project)
        message = compose_quality_alert(summary)
        assert message is not None
        sent = deliver(message, name="hostile", settings=AlertSettings(outbox=work / "outbox"))
        xlsx, export, dashboard = render_reports(url, work / "reports")
        yield Outputs(url, work, project, summary, Path(sent["path"]), xlsx, export, dashboard)
    finally:
        drop_database(admin_url, url)


def _finding(summary: dict[str, Any], check: str) -> list[dict[str, Any]]:
    found = [f for f in summary["pipeline_findings"] if f["check"] == check]
    for commune in summary["communes"]:
        found += [f for f in commune["findings"] if f["check"] == check]
    return found


def test_the_hostile_values_reached_the_checks(outputs: Outputs) -> None:
    """The premise: the checks report the hostile codes and the hostile file name."""
    (commune,) = [c for c in outputs.summary["communes"] if c["commune_code"] == HOSTILE_UNIT]
    phone = [f for f in commune["findings"] if f["check"] == "phone_valid"]
    assert [f["window"] for f in phone] == ["last_7_days", "month_to_date"]
    for finding in phone:
        assert (finding["dossiers"], finding["affected"]) == (6, 5)
        assert sorted(finding["dossier_codes"]) == sorted(CONTACT_CODES)
    (share,) = _finding(outputs.summary, "quarantine_share")
    assert ONESTOP_FILE in share["codes"]


def test_quality_pages_show_the_hostile_values_as_text(outputs: Outputs) -> None:
    pages = {
        str(p.relative_to(outputs.project)): p.read_text(encoding="utf-8") for p in outputs.pages()
    }
    assert pages, "the checks wrote no quality page"
    raw = {name: [t for t in HOSTILE_TEXTS if t in markup] for name, markup in pages.items()}
    assert {name: found for name, found in raw.items() if found} == {}
    external = {name: safety.external_references(markup) for name, markup in pages.items()}
    assert {name: len(found) for name, found in external.items() if found} == {}
    unsafe = {name: safety.unsafe_html(markup) for name, markup in pages.items()}
    assert {name: found[:3] for name, found in unsafe.items() if found} == {}
    every_page = "".join(pages.values())
    for shown in [*CONTACT_CODES, ONESTOP_FILE]:
        assert html.escape(shown, quote=True) in every_page, shown


@pytest.mark.browser
def test_quality_report_renders_offline_with_the_codes_as_text(
    outputs: Outputs, chromium: str
) -> None:
    index = Path(outputs.summary["quality_report"])
    dom = browser.parse(browser.dump_dom(chromium, index, offline=True))
    (root,) = dom.find_all("html")
    contacts_run = outputs.summary["run_id"].split("+")[1]  # the DAG's second stage
    (listed,) = dom.find_all("tr", cls="run", data_run_id=contacts_run)
    (link,) = listed.find_all("a")
    run_dom = browser.parse(browser.dump_dom(chromium, index.parent / link.attrs["href"], True))
    rows = run_dom.find_all("tr", cls="result", data_commune_code=HOSTILE_UNIT)
    phone = [r for r in rows if r.attrs["data-check"] == "phone_valid"]
    assert [r.attrs["data-window"] for r in phone] == ["last_7_days", "month_to_date"]
    for row in phone:
        assert all(code in row.text for code in CONTACT_CODES)
        assert (row.attrs["data-rows"], row.attrs["data-affected"]) == ("6", "5")
    assert run_dom.find_all("script") == [] and run_dom.find_all("img") == []
    assert root.find_all("script") == []


def test_alert_masks_and_escapes(outputs: Outputs) -> None:
    markup = safety.eml_html(outputs.eml)
    text = safety.eml_text(outputs.eml)
    assert safety.unsafe_html(markup) == [] and safety.external_references(markup) == []
    for hostile in [*CONTACT_CODES, ONESTOP_FILE, *HOSTILE_TEXTS]:
        assert hostile not in text and hostile not in markup, hostile
    (row,) = [
        r
        for r in browser.parse(markup).find_all("tr")
        if f"({HOSTILE_UNIT})" in r.text
        and "Số điện thoại hợp lệ" in r.text
        and "7 ngày gần nhất" in r.text
    ]
    assert row.text.count("[mã đã ẩn]") == 5


def test_dashboard_has_only_its_own_script(outputs: Outputs) -> None:
    markup = outputs.dashboard.read_text(encoding="utf-8")
    assert safety.unsafe_html(markup, own_scripts=[JS]) == []
    assert safety.external_references(markup) == []
    assert [t for t in HOSTILE_TEXTS if t in markup] == []


def test_spreadsheets_hold_no_formula(outputs: Outputs) -> None:
    assert safety.formula_cells(outputs.xlsx) == []
    for path in sorted(outputs.transparency.glob("*.csv")):
        assert safety.formula_fields(path) == []
    for path in sorted(outputs.transparency.glob("*.json")):
        assert safety.json_markup(path) == []


# --- hostile names in the marts (a bad reference-seed edit) ---------------------------------------

NAME = f"{HYPERLINK}{SCRIPT}{IMG}"  # a commune name: formula, script and event handler at once
DISTRICT = DDE


@pytest.fixture(scope="module")
def renamed(outputs: Outputs) -> tuple[Path, Path, Path]:
    with psycopg.connect(outputs.url, autocommit=True) as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and column_name in ('commune_name', 'district_name')"
            " and table_name in (select table_name from information_schema.tables"
            "  where table_schema = 'marts' and table_type = 'BASE TABLE')"
        ).fetchall()
        assert len(columns) >= 6
        for table, column in columns:
            if column == "commune_name":
                conn.execute(
                    f'update marts."{table}" set commune_name = %s where commune_code = %s',
                    (NAME, HOSTILE_UNIT),
                )
            else:
                conn.execute(f'update marts."{table}" set district_name = %s', (DISTRICT,))
    return render_reports(outputs.url, outputs.work / "renamed")


def test_hostile_names_are_escaped_in_the_dashboard(renamed: tuple[Path, Path, Path]) -> None:
    markup = renamed[2].read_text(encoding="utf-8")
    assert safety.unsafe_html(markup, own_scripts=[JS]) == []
    assert safety.external_references(markup) == []
    assert SCRIPT not in markup and IMG not in markup
    assert html.escape(NAME, quote=True) in markup


@pytest.mark.browser
def test_hostile_names_do_not_run_in_the_browser(
    renamed: tuple[Path, Path, Path], chromium: str
) -> None:
    dom = browser.parse(browser.dump_dom(chromium, renamed[2], offline=True))
    (root,) = dom.find_all("html")
    assert root.attrs.get("data-ready") == "1", "the dashboard's own script did not run"
    assert dom.find_all("img") == []
    assert len(dom.find_all("script")) == 1
    assert any(NAME in bar.attrs.get("data-commune-name", "") for bar in dom.find_all("g"))


def test_hostile_names_stay_text_in_the_spreadsheets(renamed: tuple[Path, Path, Path]) -> None:
    xlsx, export, _ = renamed
    assert safety.formula_cells(xlsx) == []
    texts = safety.xlsx_texts(xlsx)
    assert NAME in texts and any(DISTRICT in t for t in texts)
    for path in sorted(export.glob("*.csv")):
        assert safety.formula_fields(path) == []
    assert "'" + DISTRICT in (export / "late_rate_district.csv").read_text(encoding="utf-8-sig")
    assert "'" + NAME.replace('"', '""') in (export / "late_rate.csv").read_text(
        encoding="utf-8-sig"
    )
    for path in sorted(export.glob("*.json")):
        assert safety.json_markup(path) == []
