"""The data dictionary page (`make docs`) loads nothing from another host."""

from __future__ import annotations

from pathlib import Path

import dbt.task.docs

from motcua.cli import offline_docs_page
from tests.reports.safety import external_references

DBT_PAGE = Path(dbt.task.docs.__file__).parent / "index.html"


def _other_hosts(html: str) -> list[str]:
    """External references, but for AngularJS' URL-parsing probe of this machine."""
    return [found for found in external_references(html) if "//[::1]" not in found]


def test_dbts_page_has_a_tracker_loader_and_ours_has_none() -> None:
    html = DBT_PAGE.read_text(encoding="utf-8")
    assert any("cloudfront.net" in found for found in _other_hosts(html))
    assert _other_hosts(offline_docs_page(html)) == []
