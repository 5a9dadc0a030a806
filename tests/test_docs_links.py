"""The project's own documentation is complete enough to be cited.

Code cites the rules and contracts it implements by their page in ``docs/``;
a citation of a file that is not in the repository (the original spec files
lived outside it) would send a newcomer nowhere. README and docs links must
resolve too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITING = ("src", "dags", "dbt_project", "expectations", "tests")
SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".json", ".md"}
OUTSIDE_SPECS = re.compile(r"\b(RULES|SOURCES|MAP|INDEX766|STYLE)\.md\b")
DOCS_CITATION = re.compile(r"docs/([a-z0-9_-]+\.md)")
MD_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def _citing_files() -> list[Path]:
    files = []
    for top in CITING:
        for path in (ROOT / top).rglob("*"):
            if path.suffix in SUFFIXES and path.is_file() and "target" not in path.parts:
                files.append(path)
    return files


def test_no_code_cites_a_spec_file_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _citing_files()
        if path != Path(__file__) and OUTSIDE_SPECS.search(path.read_text(errors="replace"))
    ]
    assert offenders == []


def test_every_docs_page_code_cites_exists() -> None:
    cited = {
        name
        for path in _citing_files()
        for name in DOCS_CITATION.findall(path.read_text(errors="replace"))
    }
    assert {"rules.md", "sources.md"} <= cited
    missing = sorted(name for name in cited if not (ROOT / "docs" / name).is_file())
    assert missing == []


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
)
def test_markdown_links_resolve(page: str) -> None:
    path = ROOT / page if page == "README.md" else ROOT / "docs" / page
    broken = [
        target
        for target in MD_LINK.findall(path.read_text())
        if "://" not in target and not (path.parent / target).resolve().is_file()
    ]
    assert broken == []
