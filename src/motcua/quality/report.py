"""The data-quality report: self-contained HTML pages rendered from ``dq.validation_results``.

Why not the GX Data Docs: GX 1.24 renders them with HTML autoescaping off
(its templates are ``.j2`` files and ``select_autoescape(["html", "xml"])``
covers only ``.html``/``.xml`` names), so a failing dossier code such as
``<script>…</script>``, or a file name carrying an event handler, went into
the pages as markup from the unexpected-values tables; and every page loaded
jQuery, Bootstrap, Vega, Font Awesome… from public CDNs plus a logo from a
cloud bucket tagged with the data context id: blank on an isolated network,
a call home on an open one.

Here every value goes through :func:`html.escape`, pages hold no script and
their Content-Security-Policy forbids loading anything (the one stylesheet is
inline and allowed by its hash), so even a missed escape could neither run
nor fetch. Under ``<project>/gx/uncommitted/quality_report/``:

- ``index.html``: the check runs of the last ``report.docs_keep_days`` days,
  newest first, with their outcome; every suite's checks with their severity
  and description (from the reviewed suites);
- ``runs/<run_date>_<run_id>.html``: one check run: the suites' tallies, the
  failed checks, then every result (per commune and window for the contact
  suite), with the failing codes ``dq`` keeps.

Rendered from the database rather than from GX objects: the rows the alert
and BI read, and the same rows always give the same bytes (safe to re-run).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from motcua.alerts.compose import (
    KEY_LABELS,
    PRODUCT,
    WINDOW_LABELS,
    WINDOW_ORDER,
    check_label,
    format_count,
    format_day,
    format_local_time,
    format_share,
)
from motcua.quality import store
from motcua.quality.gx_project import SEVERITY

log = logging.getLogger(__name__)

INDEX = "index.html"
RUNS = "runs"

RESULTS_SQL = """
select result_id, run_id::text as run_id, run_date, checked_at, suite, check_name, expectation,
       column_name, severity, window_name, period_start, period_end, commune_code,
       element_count, unexpected_count, affected_count, observed_value, threshold, success,
       failing_key, failing_codes, error
from dq.validation_results
where %(since)s::timestamptz is null or checked_at >= %(since)s
order by checked_at desc, run_id, result_id
"""

SEVERITY_LABELS = {"block": "chặn", "warn": "cảnh báo"}

CSS = """
body { margin:0; font:14px/1.45 "DejaVu Sans","Noto Sans","Segoe UI",Arial,sans-serif;
  color:#1d2733; background:#f4f6f9; }
header { background:#17324d; color:#fff; padding:16px 24px; }
header h1 { margin:0 0 4px; font-size:20px; font-weight:600; }
header p { margin:2px 0; color:#c9d6e3; font-size:13px; }
header a, header code { color:#fff; }
main { padding:12px 24px 28px; }
section { background:#fff; border-radius:6px; padding:12px 16px; margin:0 0 16px;
  box-shadow:0 1px 2px rgba(0,0,0,.08); overflow-x:auto; }
h2 { font-size:16px; margin:0 0 6px; }
p.note { color:#5b6775; font-size:12.5px; margin:0 0 8px; }
table { border-collapse:collapse; font-size:12.5px; margin:6px 0; }
th, td { border:1px solid #d5dbe3; padding:3px 7px; vertical-align:top; text-align:left; }
th { background:#eef2f7; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
code { font-size:11.5px; color:#5b6775; }
tr.fail td { background:#fdf3e1; }
tr.fail.block td, tr.blocking td { background:#fde8e6; color:#8e1b10; }
.ok { color:#1e7b45; font-weight:600; } .bad { color:#c0392b; font-weight:600; }
.warn { color:#b9770e; font-weight:600; }
details { margin:6px 0; } summary { cursor:pointer; color:#17324d; font-weight:600; }
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
# Nothing may load: no script at all, the one inline stylesheet allowed by its hash.
CSP = f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; form-action 'none'"


def report_dir(project: Path) -> Path:
    return project / "gx" / "uncommitted" / "quality_report"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# --- data -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One expectation of a reviewed suite, as the index lists it."""

    suite: str
    check: str
    severity: str
    expectation: str
    column: str | None
    description: str


@dataclass
class Run:
    run_id: str
    run_date: date
    checked_at: datetime
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def page(self) -> str:
        return f"{RUNS}/{self.run_date.isoformat()}_{self.run_id}.html"

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["success"]]

    @property
    def blocking(self) -> int:
        return sum(r["severity"] == "block" for r in self.failed)

    @property
    def suites(self) -> list[str]:
        return sorted({r["suite"] for r in self.results})


def suite_catalog(project: Path) -> list[Check]:
    """Every expectation of the reviewed suites (plain JSON: no GX import needed)."""
    checks = []
    for path in sorted((project / "gx" / "expectations").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for e in suite.get("expectations", []):
            kwargs = e.get("kwargs") or {}
            column = kwargs.get("column") or ",".join(
                str(c) for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c
            )
            raw = str(e.get("severity") or "critical").lower()
            checks.append(
                Check(
                    suite=str(suite.get("name") or path.stem),
                    check=str((e.get("meta") or {}).get("check") or e.get("type")),
                    severity=SEVERITY.get(raw, "block"),
                    expectation=str(e.get("type")),
                    column=str(column) if column else None,
                    description=str(e.get("description") or ""),
                )
            )
    return checks


def load_runs(conn: psycopg.Connection, since: datetime | None) -> list[Run]:
    """The check runs with a result checked at or after ``since`` (all when None), newest first."""
    runs: dict[str, Run] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(RESULTS_SQL, {"since": since})
        for row in cur:
            run = runs.setdefault(
                row["run_id"], Run(row["run_id"], row["run_date"], row["checked_at"])
            )
            run.results.append(row)
    return sorted(runs.values(), key=lambda r: (r.checked_at, r.run_id), reverse=True)


# --- rendering ------------------------------------------------------------------------------------


def _page(title: str, header: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'  # a constant
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body><header>{header}</header>\n<main>{body}</main></body></html>\n"
    )


def _attrs(values: Mapping[str, object]) -> str:
    return "".join(f' data-{k}="{esc(_attr(v))}"' for k, v in values.items())


def _attr(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _share(value: object) -> str:
    return format_share(float(value)) if isinstance(value, Decimal | int | float) else "—"


def _outcome(run: Run) -> tuple[str, str]:
    if run.blocking:
        return "bad", f"Có lỗi chặn ({run.blocking})"
    if run.failed:
        return "warn", "Có cảnh báo"
    return "ok", "Đạt"


def _result_row(r: Mapping[str, Any], names: Mapping[str, str], kind: str = "result") -> str:
    """One result as a table row; ``kind`` is its class: ``result`` in the list of every
    result (one row each, what readers count), ``finding`` in the list of failures."""
    code = r["commune_code"]
    commune = "—" if code is None else (f"{names[code]} ({code})" if code in names else code)
    window = r["window_name"]
    when = "—"
    if window:
        when = f"{WINDOW_LABELS.get(window, window)}: {format_day(r['period_start'])} – "
        when += format_day(r["period_end"])
    codes = list(r["failing_codes"] or [])
    affected = r["affected_count"]
    shown = ", ".join(codes)
    if codes and isinstance(affected, int) and affected > len(codes):
        noun = KEY_LABELS.get(str(r["failing_key"]), "mục")
        shown += f" và {format_count(affected - len(codes))} {noun} khác"
    if r["error"]:
        outcome, css = "Không đánh giá được", "bad"
        counts = "—"
    else:
        outcome, css = ("Đạt", "ok") if r["success"] else ("Không đạt", "bad")
        counts = format_count(affected)
        if isinstance(r["element_count"], int):
            counts += f"/{format_count(r['element_count'])}"
    classes = kind + ("" if r["success"] else " fail")
    classes += " block" if r["severity"] == "block" else ""
    attrs = {
        "suite": r["suite"],
        "check": r["check_name"],
        "severity": r["severity"],
        "commune-code": code,
        "window": window,
        "success": r["success"],
        "observed": r["observed_value"],
        "threshold": r["threshold"],
        "rows": r["element_count"],
        "affected": affected,
        "key": r["failing_key"],
    }
    cells = [
        f"{esc(check_label(r['suite'], r['check_name']))}<br>"
        f"<code>{esc(r['suite'])}.{esc(r['check_name'])}</code>",
        esc(SEVERITY_LABELS.get(r["severity"], r["severity"])),
        esc(commune),
        esc(when),
        f'<span class="{css}">{esc(outcome)}</span>',
    ]
    numbers = [_share(r["observed_value"]), _share(r["threshold"]), counts]
    tail = [esc(shown or "—"), esc(r["error"] or "")]
    return (
        f'<tr class="{classes}"{_attrs(attrs)}>'
        + "".join(f"<td>{c}</td>" for c in cells)
        + "".join(f'<td class="num">{esc(n)}</td>' for n in numbers)
        + "".join(f"<td>{c}</td>" for c in tail)
        + "</tr>"
    )


RESULT_HEADERS = [
    "Kiểm tra",
    "Mức",
    "Xã/phường",
    "Khoảng thời gian",
    "Kết quả",
    "Thực tế",
    "Yêu cầu",
    "Không đạt / tổng",
    "Mã (ví dụ)",
    "Lỗi",
]


def _sort_key(order: Mapping[tuple[str, str], int]) -> Any:
    def key(r: Mapping[str, Any]) -> tuple[Any, ...]:
        window = r["window_name"]
        w = WINDOW_ORDER.index(window) if window in WINDOW_ORDER else len(WINDOW_ORDER)
        return (
            r["suite"],
            r["commune_code"] or "",
            w,
            order.get((r["suite"], r["check_name"]), len(order)),
            r["result_id"],
        )

    return key


def render_run(run: Run, names: Mapping[str, str], catalog: Sequence[Check]) -> str:
    order = {(c.suite, c.check): i for i, c in enumerate(catalog)}
    results = sorted(run.results, key=_sort_key(order))
    css, outcome = _outcome(run)
    title = f"Chất lượng dữ liệu — ngày {run.run_date.isoformat()} — lượt {run.run_id[:8]}"
    header = (
        f"<h1>{esc(PRODUCT)} — kết quả kiểm tra chất lượng dữ liệu</h1>"
        f"<p>Ngày dữ liệu {esc(format_day(run.run_date))} · kiểm tra lúc "
        f"{esc(format_local_time(run.checked_at))} (giờ Việt Nam) · lượt "
        f"<code>{esc(run.run_id)}</code></p>"
        f'<p><a href="../{INDEX}">← Tất cả các lượt kiểm tra</a></p>'
    )
    tallies = []
    for suite in run.suites:
        rows = [r for r in results if r["suite"] == suite]
        failed = [r for r in rows if not r["success"]]
        severity = "block" if any(r["severity"] == "block" for r in rows) else "warn"
        counts = {"suite": suite, "results": len(rows), "failed": len(failed)}
        tallies.append(
            f'<tr class="suite"{_attrs(counts)}>'
            f"<td><code>{esc(suite)}</code></td><td>{esc(SEVERITY_LABELS[severity])}</td>"
            f'<td class="num">{len(rows)}</td><td class="num">{len(failed)}</td></tr>'
        )
    body = [
        f'<section><h2>Tóm tắt: <span class="{css}">{esc(outcome)}</span></h2>'
        f'<p class="note">{len(run.results)} kết quả, {len(run.failed)} không đạt. Toàn bộ '
        f"lịch sử: bảng <code>dq.validation_results</code>, run_id = "
        f"<code>{esc(run.run_id)}</code>.</p>"
        + _table(["Bộ kiểm tra", "Mức", "Số kết quả", "Không đạt"], tallies)
        + "</section>"
    ]
    failed = [r for r in results if not r["success"]]
    if failed:
        failed.sort(key=lambda r: r["severity"] != "block")  # stable: blocking ones first
        body.append(
            f"<section><h2>Không đạt ({len(failed)})</h2>"
            + _table(RESULT_HEADERS, (_result_row(r, names, "finding") for r in failed))
            + "</section>"
        )
    details = []
    for suite in run.suites:
        rows = [_result_row(r, names) for r in results if r["suite"] == suite]
        details.append(
            f"<details><summary>{esc(suite)} ({len(rows)})</summary>"
            + _table(RESULT_HEADERS, rows)
            + "</details>"
        )
    body.append("<section><h2>Tất cả kết quả</h2>" + "".join(details) + "</section>")
    return _page(title, header, "\n".join(body))


def render_index(runs: Sequence[Run], catalog: Sequence[Check], keep_days: int) -> str:
    title = f"{PRODUCT} — chất lượng dữ liệu"
    span = f"{keep_days} ngày gần nhất" if keep_days > 0 else "toàn bộ lịch sử"
    latest = format_local_time(runs[0].checked_at) if runs else "—"
    header = (
        f"<h1>{esc(title)}</h1>"
        f"<p>Các lượt kiểm tra trong {esc(span)}; lượt mới nhất lúc {esc(latest)} (giờ Việt "
        "Nam). Lịch sử đầy đủ: bảng <code>dq.validation_results</code>.</p>"
    )
    rows = []
    for run in runs:
        css, outcome = _outcome(run)
        attrs = {
            "run-id": run.run_id,
            "run-date": run.run_date.isoformat(),
            "results": len(run.results),
            "failed": len(run.failed),
            "blocking": run.blocking,
        }
        rows.append(
            f'<tr class="run{" blocking" if run.blocking else ""}"{_attrs(attrs)}>'
            f"<td>{esc(format_day(run.run_date))}</td>"
            f"<td>{esc(format_local_time(run.checked_at))}</td>"
            f'<td><a href="{esc(run.page)}"><code>{esc(run.run_id)}</code></a></td>'
            f"<td>{esc(', '.join(run.suites))}</td>"
            f'<td class="num">{len(run.results)}</td><td class="num">{len(run.failed)}</td>'
            f'<td><span class="{css}">{esc(outcome)}</span></td></tr>'
        )
    runs_table = (
        _table(
            ["Ngày dữ liệu", "Kiểm tra lúc", "Lượt (run_id)", "Bộ kiểm tra", "Số kết quả",
             "Không đạt", "Kết quả"],
            rows,
        )
        if rows
        else "<p>Chưa có lượt kiểm tra nào.</p>"
    )  # fmt: skip
    checks = [
        f'<tr class="check"{_attrs({"suite": c.suite, "check": c.check, "severity": c.severity})}>'
        f"<td><code>{esc(c.suite)}</code></td>"
        f"<td>{esc(check_label(c.suite, c.check))}<br><code>{esc(c.check)}</code></td>"
        f"<td>{esc(SEVERITY_LABELS[c.severity])}</td><td>{esc(c.description)}</td>"
        f"<td><code>{esc(c.expectation)}</code>"
        + (f"<br><code>{esc(c.column)}</code>" if c.column else "")
        + "</td></tr>"
        for c in catalog
    ]
    body = (
        "<section><h2>Các lượt kiểm tra</h2>"
        '<p class="note">Mỗi đêm có hai lượt: các kiểm tra chặn trước khi công bố marts, rồi '
        "kiểm tra thông tin liên hệ theo xã/phường. Mức chặn: lượt chạy đêm dừng lại; mức "
        "cảnh báo: chỉ gửi thư cảnh báo.</p>"
        + runs_table
        + "</section><section><h2>Các bộ kiểm tra</h2>"
        '<p class="note">Bộ kiểm tra Great Expectations trong <code>expectations/gx/</code>; '
        "ngưỡng trong <code>expectations/dq_settings.yml</code>.</p>"
        + _table(["Bộ kiểm tra", "Kiểm tra", "Mức", "Mô tả", "Expectation, cột"], checks)
        + "</section>"
    )
    return _page(title, header, body)


# --- writing --------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    """Atomically: a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_report(
    conn: psycopg.Connection,
    out_dir: Path,
    *,
    project: Path,
    keep_days: int,
    now: datetime,
) -> Path:
    """(Re)write the report from ``dq.validation_results``; return the index page.

    Runs checked more than ``keep_days`` days before ``now`` drop out of the
    pages (0 keeps every run); their rows stay in ``dq``.
    """
    since = now - timedelta(days=keep_days) if keep_days > 0 else None
    runs = load_runs(conn, since)
    catalog = suite_catalog(project)
    codes = sorted({r["commune_code"] for run in runs for r in run.results if r["commune_code"]})
    names = store.commune_names(conn, codes, max(r.run_date for r in runs)) if runs else {}
    pages = {run.page: render_run(run, names, catalog) for run in runs}
    for relative, text in pages.items():
        _write(out_dir / relative, text)
    for old in (out_dir / RUNS).glob("*"):
        if f"{RUNS}/{old.name}" not in pages:
            old.unlink()
    index = out_dir / INDEX
    _write(index, render_index(runs, catalog, keep_days))
    return index
