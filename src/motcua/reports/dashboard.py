"""A static, self-contained HTML dashboard for the Department of Home Affairs.

One file, no network: inline CSS, inline SVG charts drawn here, a few lines of
inline JavaScript (sortable tables), and a Content-Security-Policy that forbids
loading anything and runs that one script only (by its hash). Every value from
the warehouse is HTML-escaped. It shows, for one district (town) or, with
``--province`` / ``MOTCUA_PROVINCE``, one province (the only level after
1/7/2025), as the dossiers were received or for today's units (``--basis
current``, each with its predecessors' dossiers):

- headline figures: the town's late rate and how many communes are over the
  threshold in the chosen period, the town's UBND satisfaction index against
  its target, the communes rated Trung bình / Kém;
- the late rate per commune against the threshold line (chosen period);
- the town's late rate per month (every month in the marts);
- the UBND satisfaction index per commune against the target (chosen year);
- contact completeness per commune (chosen period).

Every figure is a mart cell, also printed as text: the charts' SVG elements and
the tables' rows carry ``data-`` attributes (``data-commune-code``,
``data-late-rate``, ``data-satisfaction-index``...) so tests and scrapers can
read them from the DOM.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua.reports import data
from motcua.reports.periods import Period, vn_date

if TYPE_CHECKING:
    import psycopg

RATING_CLASSES = {"Tốt": "r-good", "Khá": "r-fair", "Trung bình": "r-avg", "Kém": "r-poor"}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def num(value: Any) -> str:
    """A mart number as the mart holds it (rates have 2 decimals), or an em dash for null."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value, "f")  # as the mart holds it: 10.00, 72.12, 75
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def attr(value: Any) -> str:
    """A data- attribute value: numbers as printed, booleans true/false, '' for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return num(value)


def data_attrs(values: dict[str, Any]) -> str:
    return "".join(f' data-{k}="{esc(attr(v))}"' for k, v in values.items())


def nice_max(value: float, step: float) -> float:
    """The smallest multiple of ``step`` strictly above ``value`` (at least one step)."""
    return max(step, (int(value // step) + 1) * step)


# ---------------------------------------------------------------- charts


@dataclass
class Bar:
    label: str
    value: Decimal | None
    css: str
    attrs: dict[str, Any]
    tooltip: str


@dataclass
class RefLine:
    value: float
    label: str
    css: str


@dataclass
class HBarChart:
    chart_id: str
    title: str
    bars: list[Bar]
    max_value: float
    step: float
    refs: list[RefLine] = field(default_factory=list)
    width: int = 780
    label_width: int = 150
    row: int = 19

    def svg(self) -> str:
        top, bottom, right = 30, 26, 54
        plot = self.width - self.label_width - right
        height = top + len(self.bars) * self.row + bottom

        def x(v: float) -> float:
            return self.label_width + plot * min(v, self.max_value) / self.max_value

        out = [
            f'<svg id="{esc(self.chart_id)}" class="chart" viewBox="0 0 {self.width} {height}" '
            f'width="{self.width}" height="{height}" role="img" aria-label="{esc(self.title)}">'
        ]
        tick = 0.0
        while tick <= self.max_value + 1e-9:
            tx = x(tick)
            out.append(
                f'<line class="grid" x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" '
                f'y2="{height - bottom}"/>'
                f'<text class="tick" x="{tx:.1f}" y="{height - bottom + 15}">{tick:g}</text>'
            )
            tick += self.step
        for ref in self.refs:  # under the bars: a bar past the line hides it on its row
            rx = x(ref.value)
            out.append(
                f'<g class="ref {ref.css}" data-value="{ref.value:g}">'
                f'<line x1="{rx:.1f}" y1="{top - 8}" x2="{rx:.1f}" y2="{height - bottom}"/>'
                f'<text x="{rx:.1f}" y="{top - 12}">{esc(ref.label)}</text></g>'
            )
        for i, bar in enumerate(self.bars):
            y = top + i * self.row
            w = 0.0 if bar.value is None else x(float(bar.value)) - self.label_width
            out.append(f'<g class="bar {bar.css}"{data_attrs(bar.attrs)}>')
            out.append(f"<title>{esc(bar.tooltip)}</title>")
            out.append(
                f'<text class="lbl" x="{self.label_width - 6}" y="{y + self.row * 0.68:.1f}">'
                f"{esc(bar.label)}</text>"
            )
            out.append(
                f'<rect x="{self.label_width}" y="{y + 3}" width="{max(w, 0):.1f}" '
                f'height="{self.row - 6}" rx="2"/>'
            )
            out.append(
                f'<text class="val" x="{self.label_width + w + 4:.1f}" '
                f'y="{y + self.row * 0.68:.1f}">{esc(num(bar.value))}</text>'
            )
            out.append("</g>")
        out.append("</svg>")
        return "".join(out)


def line_chart(
    chart_id: str, title: str, months: list[dict[str, Any]], threshold: float, width: int = 780
) -> str:
    """Monthly town late rate: a polyline broken at months without a denominator."""
    height, left, right, top, bottom = 260, 44, 16, 24, 46
    values = [float(m["late_rate"]) for m in months if m["late_rate"] is not None]
    step = 5.0
    y_max = nice_max(max([*values, threshold]), step)
    n = max(len(months), 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / n

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    out = [
        f'<svg id="{esc(chart_id)}" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}">'
    ]
    tick = 0.0
    while tick <= y_max + 1e-9:
        out.append(
            f'<line class="grid" x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" '
            f'y2="{y(tick):.1f}"/><text class="tick ytick" x="{left - 6}" '
            f'y="{y(tick) + 4:.1f}">{tick:g}</text>'
        )
        tick += step
    # one polyline per run of months with a rate; the segment into an unfinished month dashed
    segments: list[tuple[str, list[str]]] = [("trend", [])]
    for i, m in enumerate(months):
        if m["late_rate"] is None:
            segments.append(("trend", []))
            continue
        point = f"{x(i):.1f},{y(float(m['late_rate'])):.1f}"
        if m["cut_off_date"] < m["period_end"] and segments[-1][1]:
            segments.append(("trend partial", [segments[-1][1][-1]]))
        segments[-1][1].append(point)
    for css, seg in segments:
        if len(seg) > 1:
            out.append(f'<polyline class="{css}" points="{" ".join(seg)}"/>')
    ty = y(threshold)
    out.append(
        f'<g class="ref threshold" data-value="{threshold:g}"><line x1="{left}" y1="{ty:.1f}" '
        f'x2="{width - right}" y2="{ty:.1f}"/><text x="{width - right}" y="{ty - 5:.1f}" '
        f'class="end">Ngưỡng {threshold:g}%</text></g>'
    )
    for i, m in enumerate(months):
        start = m["period_start"]
        partial = m["cut_off_date"] < m["period_end"]
        label_y = height - bottom + 16
        out.append(f'<text class="tick" x="{x(i):.1f}" y="{label_y}">{start.month}</text>')
        if start.month == 1 or i == 0:
            out.append(
                f'<text class="tick year" x="{x(i):.1f}" y="{label_y + 16}">{start.year}</text>'
            )
        if m["late_rate"] is None:
            continue
        css = "pt" + (" over" if m["over_threshold"] else "") + (" partial" if partial else "")
        tip = (
            f"Tháng {start.month:02d}/{start.year}: {num(m['late_rate'])}% "
            f"({m['late_total']} hồ sơ trễ hạn)"
            + (f", số liệu đến ngày {vn_date(m['cut_off_date'])}" if partial else "")
        )
        attrs = {
            "month": f"{start.year}-{start.month:02d}",
            "late-rate": m["late_rate"],
            "over-threshold": m["over_threshold"],
            "partial": partial,
        }
        out.append(
            f'<circle class="{css}" cx="{x(i):.1f}" cy="{y(float(m["late_rate"])):.1f}" r="4"'
            f"{data_attrs(attrs)}><title>{esc(tip)}</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- tables


def table(
    table_id: str, headers: list[str], rows: list[tuple[dict[str, Any], list[Any], str]]
) -> str:
    """rows: (data attributes, cells, css class of the row)."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for attrs, cells, css in rows:
        tds = "".join(
            f'<td class="{"txt" if isinstance(c, str) and i < 2 else "num"}">{esc(c)}</td>'
            for i, c in enumerate(cells)
        )
        cls = f' class="{css}"' if css else ""
        body.append(f"<tr{cls}{data_attrs(attrs)}>{tds}</tr>")
    return (
        f'<table id="{esc(table_id)}" class="data sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def details(summary: str, content: str, open_: bool = False) -> str:
    return (
        f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{content}</details>"
    )


def _desc(value: Any) -> tuple[int, float]:
    return (value is None, -float(value) if value is not None else 0.0)


# ---------------------------------------------------------------- page

CSS = """
:root { --ink:#1d2733; --muted:#5b6775; --line:#d5dbe3; --bg:#f4f6f9; --card:#fff;
  --over:#c0392b; --ok:#2e86c1; --good:#27ae60; --fair:#5dade2; --avg:#f0a020; --poor:#c0392b;
  --teal:#16a085; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.45 "DejaVu Sans", "Noto Sans", "Segoe UI", Arial, sans-serif; }
header { background:#17324d; color:#fff; padding:18px 28px 16px; }
header h1 { margin:0 0 4px; font-size:21px; font-weight:600; }
header p { margin:2px 0; color:#c9d6e3; font-size:13px; }
main { max-width:1680px; margin:0 auto; padding:18px 22px 30px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fit, minmax(240px, 1fr)); gap:14px;
  margin-bottom:18px; }
.kpi { background:var(--card); border-radius:8px; padding:14px 16px;
  border-left:6px solid var(--ok); box-shadow:0 1px 2px rgba(0,0,0,.08); }
.kpi.bad { border-left-color:var(--over); } .kpi.good { border-left-color:var(--good); }
.kpi.warn { border-left-color:var(--avg); }
.kpi .label { display:block; color:var(--muted); font-size:12.5px; }
.kpi .value { display:block; font-size:30px; font-weight:700; margin:2px 0; }
.kpi .sub { display:block; color:var(--muted); font-size:12.5px; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit, minmax(800px, 1fr)); gap:18px;
  align-items:start; }
section.card { background:var(--card); border-radius:8px; padding:14px 16px 10px;
  box-shadow:0 1px 2px rgba(0,0,0,.08); overflow-x:auto; }
section.card h2 { font-size:16px; margin:0 0 2px; }
section.card p.note { margin:0 0 8px; color:var(--muted); font-size:12.5px; }
.legend span { display:inline-block; margin-right:14px; font-size:12px; color:var(--muted); }
.legend i { display:inline-block; width:11px; height:11px; border-radius:2px; margin-right:5px;
  vertical-align:-1px; }
svg.chart { display:block; max-width:100%; height:auto; font-size:11px; }
svg .grid { stroke:#e6eaf0; stroke-width:1; }
svg .tick { fill:var(--muted); text-anchor:middle; font-size:10.5px; }
svg .tick.ytick { text-anchor:end; } svg .tick.year { font-weight:700; }
svg .lbl { text-anchor:end; fill:var(--ink); }
svg .val { fill:var(--ink); font-size:10.5px; paint-order:stroke; stroke:#fff; stroke-width:3px;
  stroke-linejoin:round; }
svg .bar rect { fill:var(--ok); } svg .bar.over rect { fill:var(--over); }
svg .bar.over .val { fill:var(--over); font-weight:700; }
svg .bar.r-good rect { fill:var(--good); } svg .bar.r-fair rect { fill:var(--fair); }
svg .bar.r-avg rect { fill:var(--avg); } svg .bar.r-poor rect { fill:var(--poor); }
svg .bar.complete rect { fill:var(--teal); }
svg .bar.points766 rect { fill:var(--teal); }
svg .ref.max766 line { stroke:#222; } svg .ref.max766 text { fill:#222; }
svg .bar:hover rect { opacity:.8; }
svg .ref line { stroke-width:1.6; stroke-dasharray:5 3; }
svg .ref text { font-size:11px; text-anchor:middle; font-weight:700; }
svg .ref text.end { text-anchor:end; }
svg .ref.threshold line { stroke:var(--over); } svg .ref.threshold text { fill:var(--over); }
svg .ref.target line { stroke:#222; } svg .ref.target text { fill:#222; }
svg .ref.town line { stroke:#8e44ad; stroke-dasharray:2 3; } svg .ref.town text { fill:#8e44ad; }
svg .trend { fill:none; stroke:var(--ok); stroke-width:2; }
svg .trend.partial { stroke-dasharray:4 3; }
svg .pt { fill:var(--ok); stroke:#fff; stroke-width:1.5; }
svg .pt.over { fill:var(--over); } svg .pt.partial { fill:#fff; stroke:var(--ok); stroke-width:2; }
details { margin:6px 0 4px; } summary { cursor:pointer; color:#17324d; font-size:13px; }
table.data { border-collapse:collapse; margin:8px 0; font-size:12.5px; min-width:60%; }
table.data th, table.data td { border:1px solid var(--line); padding:3px 7px; }
table.data th { background:#eef2f7; cursor:pointer; user-select:none; text-align:center; }
table.data td.num { text-align:right; font-variant-numeric:tabular-nums; }
table.data tr.over td { background:#fde8e6; color:#8e1b10; }
table.data tr.total td { font-weight:700; background:#eef2f7; }
footer { color:var(--muted); font-size:12px; max-width:1680px; margin:0 auto; padding:0 22px 24px; }
@media print { header { background:#fff; color:#000; } header p { color:#333; }
  details { display:block; } }
"""

JS = """
(function () {
  function key(td) {
    var t = td.textContent.trim(), n = parseFloat(t);
    return t !== "" && !isNaN(n) && /^-?[0-9.]+$/.test(t) ? n : t.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (tbl) {
    tbl.querySelectorAll("th").forEach(function (th, i) {
      th.addEventListener("click", function () {
        var body = tbl.tBodies[0], asc = th.getAttribute("aria-sort") !== "ascending";
        var rows = Array.prototype.slice.call(body.rows).filter(function (r) {
          return !r.classList.contains("total");
        });
        var totals = Array.prototype.slice.call(body.querySelectorAll("tr.total"));
        rows.sort(function (a, b) {
          var x = key(a.cells[i]), y = key(b.cells[i]);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        tbl.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.concat(totals).forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
"""


# Nothing may load; of inline scripts only the sorter above runs (allowed by its hash), so
# a value that ever escaped the escaping could not run: no other script, no event handler.
_JS_HASH = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode("ascii")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_JS_HASH}'; img-src data:; base-uri 'none'; form-action 'none'"
)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{num(value)}%"


def _kpi(kpi_id: str, label: str, value: str, sub: str, css: str, attrs: dict[str, Any]) -> str:
    return (
        f'<div class="kpi {css}" id="{esc(kpi_id)}"{data_attrs(attrs)}>'
        f'<span class="label">{esc(label)}</span><span class="value">{esc(value)}</span>'
        f'<span class="sub">{esc(sub)}</span></div>'
    )


def _lateness_cells(code: Any, name: str, r: dict[str, Any], flag: Any) -> list[Any]:
    """One row of the lateness table: a commune's (``flag`` its "x" over the threshold)
    or the area's (``flag`` its count of communes over it).

    Both rows print the same mart columns the same way, so that the area's row reads
    as its communes' do; one list keeps the columns in step with the headers.
    """
    return [
        code,
        name,
        r["received_total"],
        r["carried_over"],
        r["resolved_total"],
        r["resolved_late"],
        r["in_progress_total"],
        r["in_progress_overdue"],
        r["late_total"],
        num(r["late_rate"]),
        flag,
        r["late_without_apology"],
        r["received_outside_one_stop"],
    ]


def _lateness_section(lt: data.Lateness, threshold: float) -> str:
    pct = data.pct_label(threshold)
    rates = [float(r["late_rate"]) for r in lt.communes if r["late_rate"] is not None]
    bars = [
        Bar(
            label=r["commune_name"],
            value=r["late_rate"],
            css="over" if r["over_threshold"] else "",
            attrs={
                "commune-code": r["commune_code"],
                "commune-name": r["commune_name"],
                "late-rate": r["late_rate"],
                "over-threshold": r["over_threshold"],
            },
            tooltip=(
                f"{r['commune_name']}: {num(r['late_rate'])}% — {r['late_total']} hồ sơ trễ hạn; "
                f"đã giải quyết {r['resolved_total']}, đang giải quyết {r['in_progress_total']}"
            ),
        )
        for r in sorted(lt.communes, key=lambda r: (*_desc(r["late_rate"]), r["commune_code"]))
    ]
    chart = HBarChart(
        "chart-late-rate",
        f"Tỷ lệ hồ sơ trễ hạn theo xã, phường, {lt.period.label_vi}",
        bars,
        max_value=nice_max(max([*rates, threshold]), 5.0),
        step=5.0,
        refs=[RefLine(threshold, f"Ngưỡng {pct}%", "threshold")],
    )
    rows = [
        (
            {
                "commune-code": r["commune_code"],
                "late-rate": r["late_rate"],
                "over-threshold": r["over_threshold"],
            },
            _lateness_cells(
                r["commune_code"], r["commune_name"], r, "x" if r["over_threshold"] else ""
            ),
            "over" if r["over_threshold"] else "",
        )
        for r in lt.communes
    ]
    t = lt.total
    rows.append(
        (
            {
                "district-code": t["district_code"],
                "late-rate": t["late_rate"],
                "communes-over-threshold": t["communes_over_threshold"],
            },
            _lateness_cells(
                t["district_code"], f"Toàn {t['district_name']}", t, t["communes_over_threshold"]
            ),
            "total",
        )
    )
    headers = [
        "Mã",
        "Đơn vị",
        "Tiếp nhận trong kỳ",
        "Kỳ trước chuyển qua",
        "Đã giải quyết",
        "Trong đó quá hạn",
        "Đang giải quyết",
        "Trong đó quá hạn",
        "Trễ hạn",
        "Tỷ lệ trễ hạn (%)",
        f"Trên {pct}%",
        "Trễ hạn không có thư xin lỗi",
        "Tiếp nhận ngoài một cửa",
    ]
    return (
        '<section class="card" id="sec-late-rate">'
        f"<h2>Tỷ lệ hồ sơ trễ hạn theo xã, phường: {esc(lt.period.label_vi)}</h2>"
        f'<p class="note">{esc(lt.period.range_vi)}; số liệu tính đến ngày '
        f"{esc(vn_date(lt.cut_off_date))}. Tỷ lệ = (trả quá hạn + đang giải quyết quá hạn) / "
        "(đã giải quyết + đang giải quyết).</p>"
        '<div class="legend"><span><i style="background:var(--over)"></i>Trên ngưỡng '
        f'{esc(pct)}%</span><span><i style="background:var(--ok)"></i>Không quá ngưỡng</span>'
        "</div>"
        + chart.svg()
        + details("Bảng số liệu", table("table-late-rate", headers, rows))
        + "</section>"
    )


def _trend_section(months: list[dict[str, Any]], district: data.District, threshold: float) -> str:
    rows = [
        (
            {
                "month": f"{m['period_start'].year}-{m['period_start'].month:02d}",
                "late-rate": m["late_rate"],
                "over-threshold": m["over_threshold"],
            },
            [
                f"{m['period_start'].month:02d}/{m['period_start'].year}",
                vn_date(m["cut_off_date"]),
                m["resolved_total"],
                m["in_progress_total"],
                m["late_total"],
                num(m["late_rate"]),
                m["communes_over_threshold"],
            ],
            "over" if m["over_threshold"] else "",
        )
        for m in months
    ]
    headers = [
        "Tháng",
        "Số liệu đến ngày",
        "Đã giải quyết",
        "Đang giải quyết",
        "Trễ hạn",
        "Tỷ lệ trễ hạn (%)",
        "Số xã, phường trên ngưỡng",
    ]
    partial = [m for m in months if m["cut_off_date"] < m["period_end"]]
    note = (
        f" Tháng {partial[-1]['period_start'].month:02d}/{partial[-1]['period_start'].year} "
        f"chưa kết thúc (số liệu đến ngày {vn_date(partial[-1]['cut_off_date'])}, điểm rỗng)."
        if partial
        else ""
    )
    return (
        '<section class="card" id="sec-trend">'
        f"<h2>Tỷ lệ trễ hạn toàn {esc(district.name)} theo tháng</h2>"
        '<p class="note">Mỗi điểm là một tháng: hồ sơ giải quyết trong tháng và hồ sơ đang giải '
        f"quyết cuối tháng.{esc(note)}</p>"
        + line_chart(
            "chart-trend", f"Tỷ lệ trễ hạn toàn {district.name} theo tháng", months, threshold
        )
        + details("Bảng số liệu", table("table-trend", headers, rows), open_=True)
        + "</section>"
    )


# the satisfaction table's index columns: the five element indices, then the index
SATISFACTION_INDICES = (
    "idx_access",
    "idx_procedure",
    "idx_staff",
    "idx_result",
    "idx_feedback",
    "satisfaction_index",
)


def _satisfaction_cells(code: Any, name: str, r: dict[str, Any]) -> list[Any]:
    """One row of the satisfaction table, a commune's or the area's (pooled responses).

    Both rows print the same mart columns the same way (a null target met: blank),
    so that the area's row reads as its communes' do; one list keeps the columns in
    step with the headers.
    """
    return [
        code,
        name,
        r["responses"],
        *(num(r[index]) for index in SATISFACTION_INDICES),
        r["rating"] or "",
        "Đạt" if r["meets_target"] else ("Chưa đạt" if r["meets_target"] is False else ""),
        "Có" if r["reliable"] else "Không",
    ]


def _satisfaction_section(sat: data.Satisfaction) -> str:
    t = sat.total
    target = t["target"]
    bars = [
        Bar(
            label=r["commune_name"],
            value=r["satisfaction_index"],
            css=RATING_CLASSES.get(r["rating"] or "", ""),
            attrs={
                "commune-code": r["commune_code"],
                "commune-name": r["commune_name"],
                "satisfaction-index": r["satisfaction_index"],
                "rating": r["rating"],
                "meets-target": r["meets_target"],
            },
            tooltip=(
                f"{r['commune_name']}: {num(r['satisfaction_index'])}% — {r['rating'] or ''}, "
                f"{r['responses']} phiếu"
                + ("" if r["reliable"] is not False else " (chưa đủ tin cậy)")
            ),
        )
        for r in sorted(
            sat.communes, key=lambda r: (*_desc(r["satisfaction_index"]), r["commune_code"])
        )
    ]
    refs = []
    if target is not None:
        refs.append(RefLine(float(target), f"Mục tiêu {data.pct_label(float(target))}%", "target"))
    chart = HBarChart(
        "chart-satisfaction",
        f"Chỉ số hài lòng theo xã, phường, năm {sat.year}",
        bars,
        max_value=100.0,
        step=10.0,
        refs=refs,
    )
    rows = [
        (
            {
                "commune-code": r["commune_code"],
                "satisfaction-index": r["satisfaction_index"],
                "rating": r["rating"],
                "meets-target": r["meets_target"],
            },
            _satisfaction_cells(r["commune_code"], r["commune_name"], r),
            "over" if r["rating"] in ("Trung bình", "Kém") else "",
        )
        for r in sat.communes
    ]
    rows.append(
        (
            {
                "district-code": t["district_code"],
                "satisfaction-index": t["satisfaction_index"],
                "rating": t["rating"],
                "meets-target": t["meets_target"],
            },
            _satisfaction_cells(t["district_code"], f"Toàn {t['district_name']}", t),
            "total",
        )
    )
    headers = [
        "Mã",
        "Đơn vị",
        "Số phiếu",
        "Tiếp cận dịch vụ",
        "Thủ tục hành chính",
        "Công chức",
        "Kết quả",
        "Góp ý, phản ánh",
        "Chỉ số hài lòng (%)",
        "Xếp loại",
        "Mục tiêu",
        "Đủ tin cậy",
    ]
    legend = "".join(
        f'<span><i style="background:var(--{v})"></i>{esc(k)}</span>'
        for k, v in (("Tốt", "good"), ("Khá", "fair"), ("Trung bình", "avg"), ("Kém", "poor"))
    )
    agency = "UBND xã, phường" if sat.agency_type == "UBND" else sat.agency_type
    return (
        '<section class="card" id="sec-satisfaction">'
        f"<h2>Chỉ số hài lòng đối với {esc(agency)}: năm {sat.year}</h2>"
        f'<p class="note">Toàn {esc(t["district_name"])}: {esc(num(t["satisfaction_index"]))}% '
        f"({esc(t['rating'] or '')}), mục tiêu "
        f"{esc(data.pct_label(float(target)) if target is not None else '—')}%; "
        f"{esc(t['communes_below_target'])}/{esc(t['communes_rated'])} đơn vị chưa đạt mục tiêu."
        "</p>"
        f'<div class="legend">{legend}</div>'
        + chart.svg()
        + details("Bảng số liệu", table("table-satisfaction", headers, rows))
        + "</section>"
    )


def _completeness_section(rows_: list[dict[str, Any]], period: Period) -> str:
    bars = [
        Bar(
            label=r["commune_name"],
            value=r["completeness_rate"],
            css="complete",
            attrs={
                "commune-code": r["commune_code"],
                "commune-name": r["commune_name"],
                "completeness-rate": r["completeness_rate"],
            },
            tooltip=(
                f"{r['commune_name']}: {num(r['completeness_rate'])}% — {r['contact_complete']}"
                f"/{r['dossiers']} hồ sơ đủ địa chỉ, điện thoại, email"
            ),
        )
        for r in sorted(rows_, key=lambda r: (*_desc(r["completeness_rate"]), r["commune_code"]))
    ]
    chart = HBarChart(
        "chart-completeness",
        f"Hồ sơ đủ thông tin liên hệ, {period.label_vi}",
        bars,
        max_value=100.0,
        step=10.0,
    )
    rows = [
        (
            {"commune-code": r["commune_code"], "completeness-rate": r["completeness_rate"]},
            [
                r["commune_code"],
                r["commune_name"],
                r["dossiers"],
                r["address_present"],
                r["phone_valid"],
                r["email_valid"],
                r["contact_complete"],
                num(r["completeness_rate"]),
            ],
            "",
        )
        for r in rows_
    ]
    headers = [
        "Mã",
        "Đơn vị",
        "Hồ sơ tiếp nhận",
        "Có địa chỉ",
        "Điện thoại hợp lệ",
        "Email hợp lệ",
        "Đủ cả ba",
        "Tỷ lệ đủ (%)",
    ]
    return (
        '<section class="card" id="sec-completeness">'
        f"<h2>Hồ sơ có đủ thông tin liên hệ: {esc(period.label_vi)}</h2>"
        '<p class="note">Tỷ lệ hồ sơ tiếp nhận trong kỳ có đủ địa chỉ cư trú, số điện thoại '
        "hợp lệ và hộp thư điện tử hợp lệ (Công văn 2114/UBND).</p>"
        + chart.svg()
        + details("Bảng số liệu", table("table-completeness", headers, rows))
        + "</section>"
    )


def _index766_section(
    cards: list[dict[str, Any]], months: list[dict[str, Any]], period: Period
) -> str:
    """The 766 points of each commune against what its data can reach, rank, monthly trend."""
    reach = max([float(r["max_points_computable"]) for r in cards] + [1.0])
    bars = [
        Bar(
            label=r["commune_name"],
            value=r["points_total"],
            css="points766",
            attrs={
                "commune-code": r["commune_code"],
                "points-total": r["points_total"],
                "max-points": r["max_points_computable"],
                "rank": r["rank_in_province"],
            },
            tooltip=(
                f"{r['commune_name']}: {num(r['points_total'])} / "
                f"{num(r['max_points_computable'])} điểm tính được, hạng {r['rank_in_province']}"
            ),
        )
        for r in cards
        if r["points_total"] is not None
    ]
    chart = HBarChart(
        "chart-index766",
        f"Điểm Chỉ số 766 tính được, {period.label_vi}",
        bars,
        max_value=nice_max(reach, 5.0),
        step=5.0,
        refs=[RefLine(reach, f"Tối đa {reach:g}", "max766")],
    )
    rows = [
        (
            {"commune-code": r["commune_code"], "rank": r["rank_in_province"]},
            [
                r["commune_code"],
                r["commune_name"],
                r["rank_in_province"],
                num(r["points_progress"]),
                num(r["points_online_payment"]),
                num(r["points_satisfaction"]),
                num(r["points_digitisation"]),
                num(r["points_total"]),
                num(r["max_points_computable"]),
                num(r["points_change"]),
            ],
            "",
        )
        for r in cards
    ]
    headers = [
        "Mã",
        "Đơn vị",
        "Hạng trong tỉnh",
        "Tiến độ (20)",
        "Thanh toán TT (6)",
        "Hài lòng (6)",
        "Số hóa (10)",
        "Tổng điểm",
        "Tối đa tính được",
        "So với kỳ trước",
    ]
    month_starts = sorted({m["period_start"] for m in months})[-12:]
    by_commune: dict[tuple[str, str], dict[Any, Any]] = {}
    for m in months:
        by_commune.setdefault((m["commune_code"], m["commune_name"]), {})[m["period_start"]] = m
    trend_rows = [
        (
            {"commune-code": code},
            [code, name]
            + [num((points.get(start) or {}).get("points_total")) for start in month_starts],
            "",
        )
        for (code, name), points in sorted(by_commune.items())
    ]
    trend = table(
        "table-index766-months",
        ["Mã", "Đơn vị"] + [f"{start.month:02d}/{start.year}" for start in month_starts],
        trend_rows,
    )
    return (
        '<section class="card" id="sec-index766">'
        f"<h2>Chỉ số 766 (Quyết định 766/QĐ-TTg): {esc(period.label_vi)}</h2>"
        '<p class="note">Điểm các chỉ số hồ sơ một cửa thể hiện được (tiến độ giải quyết, '
        "thanh toán trực tuyến, mức độ hài lòng về xử lý hồ sơ, số hóa), so với mức tối đa "
        "các chỉ số đó cho phép; điểm chính thức do Cổng Dịch vụ công quốc gia công bố.</p>"
        + chart.svg()
        + details("Bảng điểm theo nhóm chỉ số", table("table-index766", headers, rows))
        + details("Tổng điểm theo tháng (12 tháng gần nhất)", trend)
        + "</section>"
    )


def render(
    conn: psycopg.Connection,
    period: Period | None = None,
    year: int | None = None,
    district: str | None = None,
    agency: str = "UBND",
    province: str | None = None,
    basis: str = "received",
) -> tuple[str, dict[str, Any]]:
    """The page for one district or province; period default: the latest ended half-year;
    year default: the latest survey year with responses; ``basis`` ``received`` or
    ``current`` (today's units, province level)."""
    unit = data.resolve_area(conn, district, province, basis)
    if period is None:
        period = data.default_half_year(conn, unit)
    threshold = data.late_threshold_pct()
    lt = data.lateness(conn, unit, period)
    months = data.monthly_trend(conn, unit)
    contact = data.completeness(conn, unit, period)
    if year is None:
        year = data.latest_survey_year(conn, unit, 9999, agency)
    sat = data.satisfaction(conn, unit, year, agency) if year is not None else None

    t = lt.total
    pct = data.pct_label(threshold)
    over = [r["commune_name"] for r in lt.communes if r["over_threshold"]]
    kpis = [
        _kpi(
            "kpi-late-rate",
            f"Tỷ lệ hồ sơ trễ hạn toàn {unit.name}",
            _pct(t["late_rate"]),
            f"{t['late_total']} hồ sơ trễ hạn; đã giải quyết {t['resolved_total']}, "
            f"đang giải quyết {t['in_progress_total']}",
            "bad" if t["over_threshold"] else "good",
            {"value": t["late_rate"], "over-threshold": t["over_threshold"]},
        ),
        _kpi(
            "kpi-communes-over",
            f"Xã, phường trễ hạn trên {pct}%",
            f"{t['communes_over_threshold']} / {t['communes']}",
            ", ".join(over) if over else "Không có đơn vị nào",
            "bad" if t["communes_over_threshold"] else "good",
            {"value": t["communes_over_threshold"], "of": t["communes"]},
        ),
    ]
    if sat is not None:
        s = sat.total
        low = [r["commune_name"] for r in sat.communes if r["rating"] in ("Trung bình", "Kém")]
        target = "—" if s["target"] is None else f"{data.pct_label(float(s['target']))}%"
        met = {True: "đạt mục tiêu", False: "chưa đạt mục tiêu"}.get(s["meets_target"], "")
        kpis += [
            _kpi(
                "kpi-satisfaction",
                f"Chỉ số hài lòng {sat.agency_type} năm {sat.year}",
                _pct(s["satisfaction_index"]),
                f"Mục tiêu {target}; xếp loại {s['rating'] or '—'}; {met}; {s['responses']} phiếu",
                "good" if s["meets_target"] else "warn",
                {
                    "value": s["satisfaction_index"],
                    "target": s["target"],
                    "rating": s["rating"],
                    "meets-target": s["meets_target"],
                    "year": sat.year,
                },
            ),
            _kpi(
                "kpi-low-rated",
                "Đơn vị xếp loại Trung bình, Kém",
                str(len(low)),
                ", ".join(low) if low else "Không có đơn vị nào",
                "bad" if low else "good",
                {"value": len(low)},
            ),
        ]
    place = unit.name
    if unit.province_name and unit.province_name != unit.name:
        place += f", {unit.province_name}"
    if unit.basis == "current":
        place += " · Theo đơn vị hành chính hiện nay (gồm hồ sơ của các đơn vị trước sáp nhập)"
    subtitle = (
        f"{place} · Kỳ báo cáo: {period.label_vi} ({period.range_vi}) · Số liệu tính đến "
        f"ngày {vn_date(lt.cut_off_date)}"
        + (f" · Khảo sát năm {sat.year}" if sat is not None else "")
    )
    title = f"Một cửa: tình hình giải quyết hồ sơ và mức độ hài lòng · {unit.name}"
    sections = [
        '<div class="grid2">',
        _lateness_section(lt, threshold),
        _satisfaction_section(sat)
        if sat is not None
        else '<section class="card" id="sec-satisfaction"><h2>Chỉ số hài lòng</h2>'
        "<p>Chưa có kết quả khảo sát.</p></section>",
        _completeness_section(contact, period),
        _trend_section(months, unit, threshold),
        _index766_section(
            data.scorecard_766(conn, unit, period), data.scorecard_766_months(conn, unit), period
        ),
        "</div>",
    ]
    body_attrs = {
        "district-code": unit.code,
        "level": unit.level,
        "basis": unit.basis,
        "period": period.code,
        "period-type": period.period_type,
        "period-start": period.start.isoformat(),
        "cut-off-date": lt.cut_off_date.isoformat(),
        "survey-year": sat.year if sat is not None else None,
        "threshold": pct,
    }
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body{data_attrs(body_attrs)}>"
        f"<header><h1>Tình hình giải quyết hồ sơ một cửa và mức độ hài lòng: {esc(unit.name)}"
        f"</h1><p>{esc(subtitle)}</p></header>"
        f'<main><div class="kpis">{"".join(kpis)}</div>{"".join(sections)}</main>'
        "<footer>Nguồn: kho dữ liệu Một cửa Analytics, schema marts (commune_lateness, "
        "district_lateness, commune_satisfaction, district_satisfaction, "
        "commune_contact_completeness, commune_scorecard_766). Mọi số liệu do kho dữ liệu "
        "tính theo quy tắc chung; "
        f"ngưỡng trễ hạn {esc(pct)}%, chỉ số đủ tin cậy khi có từ "
        f"{data.min_reliable_responses()} phiếu. Bấm vào tiêu đề cột để sắp xếp bảng.</footer>"
        f"<script>{JS}</script></body></html>\n"
    )
    summary = {
        "district_code": unit.code,
        "period": period.code,
        "survey_year": sat.year if sat is not None else None,
        "late_rate": t["late_rate"],
        "communes_over_threshold": t["communes_over_threshold"],
        "satisfaction_index": sat.total["satisfaction_index"] if sat is not None else None,
    }
    return page, summary


def write_dashboard(
    url: str,
    out: Path,
    period: Period | None = None,
    year: int | None = None,
    district: str | None = None,
    agency: str = "UBND",
    province: str | None = None,
    basis: str = "received",
) -> dict[str, Any]:
    with data.connect(url) as conn:
        page, summary = render(conn, period, year, district, agency, province, basis)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    summary["out"] = str(out)
    return summary
