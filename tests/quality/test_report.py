"""The quality report each run writes: every check, escaped, self-contained, no network.

It replaces the GX Data Docs, whose GX 1.24 templates wrote failing dossier
codes and file names into the pages unescaped (stored XSS) and loaded ~15
scripts and styles from public CDNs plus a logo from a cloud bucket.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import psycopg
import pytest

from motcua.quality import QualitySettings, run_checks
from tests.reports import browser, safety

from .conftest import RUN_DATE, A, C

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
HOSTILE_FILE = f"hoso_{IMG}.csv"


def _run(url: str, project: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("settings", QualitySettings())
    return run_checks(url, RUN_DATE, project_dir=project, **kwargs)


def _execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _pages(project: Path) -> dict[str, str]:
    """Every HTML file under gx/uncommitted, whoever wrote it."""
    root = project / "gx" / "uncommitted"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*.html")}


def _hostile(url: str) -> None:
    """A failing dossier (no valid phone) coded as a script; a file name with an event handler,
    3 of its 10 rows quarantined (over the 20 % share)."""
    _execute(
        url,
        f"update marts.fct_dossier set dossier_code = '{SCRIPT}' where dossier_code = 'HS-A-03'",
        f"update raw.load_files set file_name = '{HOSTILE_FILE}'"
        " where file_name = 'hoso_20170714_a.csv'",
        f"update ops.file_reconciliation set file_name = '{HOSTILE_FILE}', rows_loaded = 7,"
        " rows_quarantined = 3 where file_name = 'hoso_20170714_a.csv'",
    )


def test_hostile_codes_and_file_names_are_text_in_every_page(warehouse: str, gx_project: Path):
    _hostile(warehouse)
    summary = _run(warehouse, gx_project)
    assert summary["pipeline_findings"][0]["codes"] == [HOSTILE_FILE]  # the premise

    pages = _pages(gx_project)
    assert pages
    raw = {name: [t for t in (SCRIPT, IMG) if t in markup] for name, markup in pages.items()}
    assert {name: found for name, found in raw.items() if found} == {}
    unsafe = {name: safety.unsafe_html(markup) for name, markup in pages.items()}
    assert {name: found[:3] for name, found in unsafe.items() if found} == {}
    every = "".join(pages.values())
    assert html.escape(SCRIPT) in every and html.escape(HOSTILE_FILE) in every


def test_no_page_loads_anything_from_the_network(warehouse: str, gx_project: Path):
    _run(warehouse, gx_project)
    pages = _pages(gx_project)
    assert pages
    external = {name: safety.external_references(markup) for name, markup in pages.items()}
    assert {name: len(found) for name, found in external.items() if found} == {}
    for name, markup in pages.items():
        assert "Content-Security-Policy" in markup and "default-src 'none'" in markup, name
        assert browser.parse(markup).find_all("script") == [], name
    # nothing but the report's own pages: GX writes no Data Docs site, no static assets
    uncommitted = gx_project / "gx" / "uncommitted"
    assert not (uncommitted / "data_docs").exists()
    assert {p.suffix for p in (uncommitted / "quality_report").rglob("*") if p.is_file()} == {
        ".html"
    }


def _run_rows(page: Path) -> list[browser.Element]:
    return browser.parse(page.read_text(encoding="utf-8")).find_all("tr", cls="result")


def test_report_shows_every_result_of_the_run_with_its_figures(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)
    index = Path(summary["quality_report"])
    assert index == gx_project / "gx" / "uncommitted" / "quality_report" / "index.html"

    listed = browser.parse(index.read_text(encoding="utf-8")).find_all("tr", cls="run")
    assert [r.attrs["data-run-id"] for r in listed] == [summary["run_id"]]
    (run,) = listed
    assert (run.attrs["data-run-date"], run.attrs["data-results"], run.attrs["data-failed"]) == (
        "2017-07-14",
        "33",
        "3",
    )
    (link,) = run.find_all("a")
    page = index.parent / link.attrs["href"]

    rows = _run_rows(page)
    assert len(rows) == 33  # 15 contact results (5 batches x 3 fields) + 18 pipeline results
    failed = [r for r in rows if r.attrs["data-success"] == "false"]
    assert sorted(
        (r.attrs["data-commune-code"], r.attrs["data-window"], r.attrs["data-check"])
        for r in failed
    ) == [
        (A, "last_7_days", "phone_valid"),
        (A, "month_to_date", "phone_valid"),
        (C, "month_to_date", "email_valid"),
    ]
    a7 = next(r for r in failed if r.attrs["data-window"] == "last_7_days")
    assert (a7.attrs["data-observed"], a7.attrs["data-threshold"], a7.attrs["data-affected"]) == (
        "0.7",
        "0.9",
        "3",
    )
    cells = [td.text.strip() for td in a7.find_all("td")]
    assert "Phường Ninh Hiệp (22528)" in cells
    assert "70,00%" in cells and "90,00%" in cells and "3/10" in cells
    assert "HS-A-03, HS-A-07, HS-A-09" in cells


def test_report_keeps_the_runs_of_the_last_days(warehouse: str, gx_project: Path):
    first = _run(warehouse, gx_project)
    _execute(
        warehouse,
        "update dq.validation_results set checked_at = checked_at - interval '40 days'"
        f" where run_id = '{first['run_id']}'",
    )
    second = _run(warehouse, gx_project)
    index = Path(second["quality_report"])
    listed = browser.parse(index.read_text(encoding="utf-8")).find_all("tr", cls="run")
    assert [r.attrs["data-run-id"] for r in listed] == [second["run_id"]]
    pages = sorted(p.name for p in (index.parent / "runs").glob("*.html"))
    assert pages == [f"2017-07-14_{second['run_id']}.html"]

    everything = _run(warehouse, gx_project, settings=QualitySettings(docs_keep_days=0))
    listed = browser.parse(index.read_text(encoding="utf-8")).find_all("tr", cls="run")
    assert {r.attrs["data-run-id"] for r in listed} == {
        first["run_id"],
        second["run_id"],
        everything["run_id"],
    }


def test_old_data_docs_site_is_removed(warehouse: str, gx_project: Path):
    """Pages of the GX Data Docs written before this version may hold unescaped codes."""
    old = gx_project / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    old.mkdir(parents=True)
    (old / "page.html").write_text(f"<td>{SCRIPT}</td>", encoding="utf-8")
    _run(warehouse, gx_project)
    assert not (gx_project / "gx" / "uncommitted" / "data_docs").exists()


def test_index_lists_every_suite_and_check(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)
    dom = browser.parse(Path(summary["quality_report"]).read_text(encoding="utf-8"))
    checks = dom.find_all("tr", cls="check")
    assert len(checks) == 18 + 3  # the pipeline suites' 18 expectations + 3 contact fields
    by_name = {(c.attrs["data-suite"], c.attrs["data-check"]): c for c in checks}
    unique = by_name[("dossier_current_state", "dossier_code_unique")]
    assert unique.attrs["data-severity"] == "block"
    assert "One row per dossier code in the current-state model" in unique.text
    assert by_name[("contact_completeness", "email_valid")].attrs["data-severity"] == "warn"


@pytest.mark.parametrize("keep", [0, 35])
def test_report_is_rewritten_identically(warehouse: str, gx_project: Path, keep: int):
    """Re-running the report (same results) gives the same bytes: safe to re-run."""
    from motcua.quality import report

    summary = _run(warehouse, gx_project, settings=QualitySettings(docs_keep_days=keep))
    index = Path(summary["quality_report"])
    before = {p: p.read_bytes() for p in index.parent.rglob("*.html")}
    with psycopg.connect(warehouse) as conn:
        again = report.write_report(
            conn, index.parent, project=gx_project, keep_days=keep, now=_checked_at(summary)
        )
    assert again == index
    assert {p: p.read_bytes() for p in index.parent.rglob("*.html")} == before


def _checked_at(summary: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(summary["checked_at"])
