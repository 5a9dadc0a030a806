"""Scanners for what the project renders: would a browser or a spreadsheet run or fetch it?

Each returns a list of findings (empty = safe), so a failing assertion shows
what was found and where. They parse the output the way its reader does (an
HTML parser builds the elements, openpyxl and the XLSX XML give the cells, the
csv module the fields), so an escaped ``&lt;script&gt;`` is text, not a finding,
and an unescaped ``<script>`` is an element, always a finding.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from tests.reports import browser

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# An attribute or CSS reference that makes the browser fetch from another host:
# http(s)://… or protocol-relative //… in src/href/action/poster/srcset/data,
# url(…) or @import in CSS.
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|poster|srcset|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import\b)""",
    re.IGNORECASE,
)
# Elements that load or embed something; a page of ours has none (charts are inline SVG).
_EMBEDDING = {"img", "iframe", "frame", "object", "embed", "base", "link", "audio", "video"}


def external_references(markup: str) -> list[str]:
    """Every place in ``markup`` that would make a browser contact another host."""
    return [markup[max(m.start() - 40, 0) : m.end() + 60] for m in _EXTERNAL.finditer(markup)]


def unsafe_html(markup: str, own_scripts: Iterable[str] = ()) -> list[str]:
    """Elements and attributes in ``markup`` that would run code or load something.

    ``own_scripts``: the exact text of the project's own inline scripts (the
    dashboard's table sorter); any other script element is a finding.
    """
    allowed = {s.strip() for s in own_scripts}
    findings = []
    for el in browser.parse(markup).iter():
        if el.tag == "#document":
            continue
        if el.tag == "script" and (el.attrs.get("src") or el.text.strip() not in allowed):
            findings.append(f"<script> {el.text[:60]!r}")
        if el.tag in _EMBEDDING:
            findings.append(f"<{el.tag} {el.attrs}>")
        for name, value in el.attrs.items():
            if name.lower().startswith("on"):
                findings.append(f"<{el.tag} {name}={value!r}>")
            if re.match(r"\s*(javascript|vbscript|data):", value, re.IGNORECASE) and name in (
                "href",
                "src",
                "action",
                "xlink:href",
                "formaction",
            ):
                findings.append(f"<{el.tag} {name}={value!r}>")
    return findings


def eml_html(path: Path) -> str:
    """The HTML part of an alert written to the outbox."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = [p for p in message.walk() if p.get_content_type() == "text/html"]
    assert len(parts) == 1, path
    return parts[0].get_content()  # type: ignore[attr-defined]


def eml_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    assert len(parts) == 1, path
    return parts[0].get_content()  # type: ignore[attr-defined]


def formula_cells(xlsx: Path) -> list[str]:
    """Cells Excel or LibreOffice would evaluate: stored formulas, or formula-looking text
    without the quote prefix (which keeps it text when the cell is edited)."""
    from openpyxl import load_workbook

    findings = []
    with zipfile.ZipFile(xlsx) as archive:
        for name in archive.namelist():
            sheet_xml = name.startswith("xl/worksheets/") and name.endswith(".xml")
            if sheet_xml and re.search(r"<(?:\w+:)?f[ >/]", archive.read(name).decode("utf-8")):
                findings.append(f"{name}: a <f> formula element")
    book = load_workbook(xlsx)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    findings.append(f"{sheet.title}!{cell.coordinate} formula {cell.value!r}")
                elif (
                    isinstance(cell.value, str)
                    and cell.value.startswith(FORMULA_PREFIXES)
                    and not cell.quotePrefix
                ):
                    findings.append(f"{sheet.title}!{cell.coordinate} {cell.value!r}")
    return findings


def xlsx_texts(xlsx: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    return [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def formula_fields(csv_path: Path) -> list[str]:
    """CSV fields a spreadsheet would take for a formula."""
    text = csv_path.read_text(encoding="utf-8-sig")
    return [
        f"{csv_path.name} row {n}: {field!r}"
        for n, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        for field in row
        if field.startswith(FORMULA_PREFIXES)
    ]


def json_markup(json_path: Path) -> list[str]:
    """Raw ``<``, ``>`` or ``&`` in a JSON file: a page that inlines it in a <script> would
    let ``</script><script>…`` out. They must be written as \\u003c, \\u003e, \\u0026."""
    text = json_path.read_text(encoding="utf-8")
    json.loads(text)  # and it must stay valid JSON
    return [f"{json_path.name}: {m.group()!r} at {m.start()}" for m in re.finditer(r"[<>&]", text)]
