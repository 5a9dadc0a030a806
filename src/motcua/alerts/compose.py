"""Build the alert messages (Vietnamese, plain text + HTML) from what the pipeline knows.

Pure functions, no Airflow, no I/O, so every word of an alert is testable.
The quality summary (``motcua.quality.run_checks``) holds codes, counts and
shares only; still, every string that did not come from this module (commune
names, error texts, dossier codes, file names) goes through :func:`mask_text`
or :func:`mask_code` first: defence in depth, because an e-mail, once sent,
cannot be taken back.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from typing import Any

from motcua.config import TIMEZONE

PRODUCT = "Một cửa Analytics"
SUBJECT_PREFIX = f"[{PRODUCT}]"
MAX_CODES = 5  # dossier codes shown per failed check (the summary keeps at most 5 too)

WINDOW_LABELS = {"last_7_days": "7 ngày gần nhất", "month_to_date": "từ đầu tháng"}
WINDOW_ORDER = ("last_7_days", "month_to_date")

# (suite, check) -> what the provincial IT team reads; unknown checks fall back to the raw name.
CHECK_LABELS: dict[tuple[str, str], str] = {
    ("contact_completeness", "address_present"): "Có địa chỉ cư trú",
    ("contact_completeness", "phone_valid"): "Số điện thoại hợp lệ",
    ("contact_completeness", "email_valid"): "Email hợp lệ",
    ("dossier_current_state", "dossier_code_present"): "Hồ sơ có mã hồ sơ",
    ("dossier_current_state", "dossier_code_unique"): "Mã hồ sơ không trùng",
    ("dossier_current_state", "received_not_after_run_date"): "Ngày tiếp nhận không sau ngày chạy",
    ("dossier_current_state", "status_present"): "Hồ sơ có trạng thái",
    ("dossier_current_state", "status_in_vocabulary"): "Trạng thái thuộc danh mục",
    ("file_reconciliation", "raw_rows_match_file"): "Số dòng đã nạp khớp với tệp",
    ("file_reconciliation", "rows_reconcile"): "Số dòng đọc = nạp + cách ly",
    ("onestop_valid_rows", "due_not_before_received"): "Ngày hẹn trả không trước ngày tiếp nhận",
    ("onestop_valid_rows", "status_present"): "Dòng hồ sơ có trạng thái",
    ("onestop_valid_rows", "status_in_vocabulary"): "Trạng thái dòng hồ sơ thuộc danh mục",
    ("quarantine_share", "quarantine_share"): "Tệp có tỷ lệ dòng bị cách ly trong ngưỡng",
    ("onestop_valid_rows", "optional_values_in_vocabulary"): (
        "Cột chỉ số 766 (kết quả điện tử, số hóa, phí, thanh toán, đánh giá) đúng danh mục"
    ),
    ("progress_766", "progress_points_drop"): (
        "Điểm tiến độ giải quyết (Chỉ số 766) không giảm quá ngưỡng so với tháng trước"
    ),
    ("survey_answers", "ans_access_1_to_5"): "Khảo sát: câu tiếp cận trong thang 1–5",
    ("survey_answers", "ans_procedure_1_to_5"): "Khảo sát: câu thủ tục trong thang 1–5",
    ("survey_answers", "ans_staff_1_to_5"): "Khảo sát: câu công chức trong thang 1–5",
    ("survey_answers", "ans_result_1_to_5"): "Khảo sát: câu kết quả trong thang 1–5",
    ("survey_answers", "ans_feedback_1_to_5"): "Khảo sát: câu góp ý trong thang 1–5",
}
KEY_LABELS = {
    "dossier_code": "hồ sơ",
    "file_name": "tệp",
    "response_id": "phiếu khảo sát",
    "commune_code": "mã xã, phường",
}

PRIVACY_NOTE = (
    "Thư này chỉ gồm mã, số đếm và tỷ lệ; không có họ tên, địa chỉ, "
    "số điện thoại hay email của công dân."
)

# --- masking -------------------------------------------------------------------------------------

MASK = "[đã ẩn]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# After one of these labels, the rest of the line is someone's address or name.
_LABELLED = re.compile(
    r"\b(địa chỉ|dia chi|address|họ và tên|họ tên|ho va ten|ho ten|người nộp|nguoi nop)\b"
    r"[ \t]*[:=\-]?[^\n]*",
    re.IGNORECASE,
)
# An ISO date is kept (it is never personal); any other run of >= 6 digits, also with
# one or two separators between groups ("0905 123 456", "(0258) 3.845.123"), is masked.
_DIGITS = re.compile(
    r"(?P<date>(?<!\d)\d{4}-\d{2}-\d{2}(?!\d))|(?P<number>\+?\(?\d(?:[ .\-()]{0,2}\d){5,}\)?)"
)
_CODE_SHAPE = re.compile(r"[\w][\w./\-]{0,63}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()+]")


def mask_text(value: object) -> str:
    """Free text made safe to send: e-mails, labelled addresses/names, digit runs >= 6."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _EMAIL.sub("[email đã ẩn]", text)
    text = _LABELLED.sub(lambda m: f"{m.group(1)}: {MASK}", text)
    return _DIGITS.sub(lambda m: m.group("date") or "[số đã ẩn]", text)


def mask_code(value: object) -> str:
    """A dossier code / file name / response id, or a placeholder if it may be personal.

    Codes such as ``22528-170710-0001`` must stay readable (that is the point of
    listing them), so the digit rule of :func:`mask_text` does not apply; a code is
    hidden when it is not code-shaped (spaces, ``@``, too long) or is a Vietnamese
    phone number (9–11 digits starting with 0 or 84).
    """
    text = unicodedata.normalize("NFC", str(value)).strip()
    bare = _PHONE_SEPARATORS.sub("", text)
    phone = bare.isdigit() and 9 <= len(bare) <= 11 and bare.startswith(("0", "84"))
    if phone or not _CODE_SHAPE.fullmatch(text):
        return "[mã đã ẩn]"
    return text


# --- formatting ----------------------------------------------------------------------------------


def format_share(value: object) -> str:
    """0.7212 -> '72,12%' (Vietnamese decimal comma, two decimals)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{float(value) * 100:.2f}".replace(".", ",") + "%"


def format_count(value: object) -> str:
    """1234 -> '1.234' (Vietnamese thousands separator)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return "—"
    return f"{value:,}".replace(",", ".")


def format_day(value: object) -> str:
    """'2017-07-14' -> '14/07/2017'."""
    if not value:
        return "—"
    return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")


def format_local_time(value: object) -> str:
    """An aware datetime (or ISO string) in Vietnam time: '14/07/2017 06:00'."""
    if value is None or value == "":
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(TIMEZONE)
    return moment.strftime("%d/%m/%Y %H:%M")


def check_label(suite: str, check: str) -> str:
    return CHECK_LABELS.get((suite, check), f"{suite}.{check}")


# --- the message ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertMessage:
    """One alert, channel-neutral: e-mail parts plus JSON-ready facts for the webhook."""

    kind: str  # data_quality | task_failure | deadline_missed
    subject: str
    text: str
    html: str
    facts: dict[str, Any] = field(default_factory=dict)

    def to_email(self, sender: str, recipients: Sequence[str]) -> MIMEMultipart:
        """multipart/alternative (text, then HTML), UTF-8 in base64: safe through any relay.

        Built like ``SmtpHook`` builds its own messages (``email.mime``, compat32):
        the modern ``EmailMessage`` folding drops the space between two RFC 2047
        encoded words, which turns a long Vietnamese subject into "chấtlượng".
        """
        msg = MIMEMultipart("alternative")
        msg["Subject"] = Header(self.subject, "utf-8")
        msg["From"] = sender
        msg["To"] = ", ".join(recipients) if recipients else "undisclosed-recipients:;"
        msg["Date"] = format_datetime(datetime.now(TIMEZONE))
        msg["Message-ID"] = make_msgid(domain="motcua-analytics.local")
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        msg.attach(MIMEText(self.text, "plain", "utf-8"))
        msg.attach(MIMEText(self.html, "html", "utf-8"))
        return msg


def _html_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">\n'
        f"{body}\n</body></html>\n"
    )


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells are escaped here; callers pass plain text."""
    cell = 'style="border:1px solid #bbb;padding:4px 8px;vertical-align:top"'
    head = "".join(f'<th {cell} align="left">{html.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td {cell}>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        '<table style="border-collapse:collapse;margin:8px 0 16px">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _codes(codes: Sequence[object], affected: object, max_codes: int) -> tuple[list[str], int]:
    """(codes shown, how many more affected items were not listed)."""
    shown = [mask_code(c) for c in list(codes)[:max_codes]]
    total = affected if isinstance(affected, int) else len(codes)
    return shown, max(total - len(shown), 0)


def _codes_text(shown: Sequence[str], more: int, noun: str) -> str:
    if not shown:
        return "—"
    text = ", ".join(shown)
    return f"{text} và {format_count(more)} {noun} khác" if more else text


def _finding_status(finding: Mapping[str, Any]) -> tuple[str, str, str]:
    """(observed, required, affected/total) texts of a commune finding."""
    if finding.get("error"):
        return "không đánh giá được", format_share(finding.get("required")), "—"
    affected = format_count(finding.get("affected"))
    total = finding.get("dossiers")
    counts = f"{affected}/{format_count(total)}" if isinstance(total, int) else affected
    return format_share(finding.get("observed")), format_share(finding.get("required")), counts


def _sorted_findings(findings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    order = list(CHECK_LABELS)

    def key(f: Mapping[str, Any]) -> tuple[int, int, str]:
        window = f.get("window")
        w = WINDOW_ORDER.index(window) if window in WINDOW_ORDER else len(WINDOW_ORDER)
        pair = (str(f.get("suite")), str(f.get("check")))
        c = order.index(pair) if pair in order else len(order)
        return w, c, f"{pair[0]}.{pair[1]}"

    return sorted(findings, key=key)


def quality_subject(summary: Mapping[str, Any]) -> str:
    """'[Một cửa Analytics] Cảnh báo chất lượng dữ liệu — 2017-07-14: 12 xã/phường chưa đạt'."""
    subject = (
        f"{SUBJECT_PREFIX} Cảnh báo chất lượng dữ liệu — {summary['run_date']}: "
        f"{len(summary['communes'])} xã/phường chưa đạt"
    )
    if summary["pipeline_findings"]:
        subject += f", {len(summary['pipeline_findings'])} kiểm tra chung lỗi"
    if summary.get("blocking_failed"):
        subject += " (có lỗi chặn)"
    return subject


def compose_quality_alert(
    summary: Mapping[str, Any], *, max_codes: int = MAX_CODES
) -> AlertMessage | None:
    """The data-quality e-mail of one run, or None when the run found nothing to report."""
    communes = sorted(summary["communes"], key=lambda c: str(c["commune_code"]))
    pipeline = list(summary["pipeline_findings"])
    if not communes and not pipeline:
        return None
    subject = quality_subject(summary)
    run_id = str(summary["run_id"])
    blocking = bool(summary.get("blocking_failed"))
    outcome = (
        "CÓ LỖI CHẶN: lượt chạy đêm đã dừng ở bước kiểm tra chất lượng dữ liệu."
        if blocking
        else "Chỉ có lỗi mức cảnh báo: lượt chạy đêm vẫn tiếp tục."
    )
    overview = f"{len(communes)} xã/phường chưa đạt; {len(pipeline)} kiểm tra chung lỗi. {outcome}"
    header = [
        f"{PRODUCT} — cảnh báo chất lượng dữ liệu",
        f"Ngày dữ liệu: {format_day(summary['run_date'])}",
        f"Lượt kiểm tra: {run_id} (lúc {format_local_time(summary.get('checked_at'))},"
        " giờ Việt Nam)",
        "",
        f"Tóm tắt: {overview}",
    ]
    windows = [
        f"{WINDOW_LABELS.get(w['window'], mask_text(w['window']))}: "
        f"{format_day(w['period_start'])} – {format_day(w['period_end'])}"
        for w in summary.get("windows", [])
    ]
    text = [*header, ""]
    if windows:
        text += [
            "Khoảng thời gian kiểm tra:",
            *(f"  - {w[:1].upper()}{w[1:]}" for w in windows),
            "",
        ]

    html_parts = [
        f"<h2>{html.escape(PRODUCT)} — cảnh báo chất lượng dữ liệu</h2>",
        "<p>"
        + "<br>".join(html.escape(line) for line in header[1:3])
        + f"</p><p><b>Tóm tắt:</b> {html.escape(overview)}</p>",
    ]
    if windows:
        items = "".join(f"<li>{html.escape(w[:1].upper() + w[1:])}</li>" for w in windows)
        html_parts.append(f"<p>Khoảng thời gian kiểm tra:</p><ul>{items}</ul>")

    facts_communes = []
    if communes:
        text.append(f"XÃ/PHƯỜNG CHƯA ĐẠT ({len(communes)})")
        html_parts.append(f"<h3>Xã/phường chưa đạt ({len(communes)})</h3>")
        rows: list[list[str]] = []
        for number, commune in enumerate(communes, 1):
            code = mask_code(commune["commune_code"])
            name = mask_text(commune.get("commune_name")) or "(chưa có tên)"
            text += ["", f"{number}. {name} (mã {code})"]
            facts_findings = []
            for finding in _sorted_findings(commune["findings"]):
                label = check_label(str(finding["suite"]), str(finding["check"]))
                window = WINDOW_LABELS.get(finding.get("window") or "", "")
                observed, required, counts = _finding_status(finding)
                codes = finding.get("dossier_codes") or []
                shown, more = _codes(codes, finding.get("affected"), max_codes)
                severity = " [CHẶN]" if finding.get("severity") == "block" else ""
                where = f" · {window}" if window else ""
                if finding.get("error"):
                    line = f"không đánh giá được: {mask_text(finding['error'])}"
                else:
                    line = f"thực tế {observed}, yêu cầu ≥ {required}; {counts} hồ sơ chưa đạt"
                text.append(f"   - {label}{severity}{where}: {line}")
                if shown:
                    text.append(f"     Mã hồ sơ: {_codes_text(shown, more, 'hồ sơ')}")
                rows.append(
                    [
                        f"{name} ({code})",
                        label + severity,
                        window or "—",
                        observed,
                        required,
                        counts,
                        _codes_text(shown, more, "hồ sơ"),
                    ]
                )
                facts_findings.append(
                    {
                        "check": f"{finding['suite']}.{finding['check']}",
                        "label": label,
                        "severity": finding.get("severity"),
                        "window": finding.get("window"),
                        "observed": finding.get("observed"),
                        "required": finding.get("required"),
                        "dossiers": finding.get("dossiers"),
                        "affected": finding.get("affected"),
                        "dossier_codes": shown,
                        "error": mask_text(finding["error"]) if finding.get("error") else None,
                    }
                )
            facts_communes.append(
                {"commune_code": code, "commune_name": name, "findings": facts_findings}
            )
        html_parts.append(
            _html_table(
                [
                    "Xã/phường",
                    "Kiểm tra",
                    "Khoảng thời gian",
                    "Thực tế",
                    "Yêu cầu",
                    "Hồ sơ chưa đạt / tổng",
                    "Mã hồ sơ (ví dụ)",
                ],
                rows,
            )
        )

    facts_pipeline = []
    if pipeline:
        text += ["", f"KIỂM TRA CHUNG LỖI ({len(pipeline)})"]
        html_parts.append(f"<h3>Kiểm tra chung lỗi ({len(pipeline)})</h3>")
        rows = []
        for finding in pipeline:
            label = check_label(str(finding["suite"]), str(finding["check"]))
            noun = KEY_LABELS.get(str(finding.get("key")), "mục")
            shown, more = _codes(finding.get("codes") or [], finding.get("affected"), max_codes)
            severity = " [CHẶN]" if finding.get("severity") == "block" else ""
            total = finding.get("rows")
            counts = format_count(finding.get("affected"))
            if isinstance(total, int):
                counts += f"/{format_count(total)}"
            if finding.get("error"):
                line = f"không đánh giá được: {mask_text(finding['error'])}"
            else:
                line = (
                    f"thực tế {format_share(finding.get('observed'))}, yêu cầu ≥ "
                    f"{format_share(finding.get('required'))}; {counts} {noun} chưa đạt"
                )
            text.append(f"   - {label}{severity}: {line}")
            if shown:
                text.append(f"     Ví dụ ({noun}): {_codes_text(shown, more, noun)}")
            rows.append(
                [
                    label + severity,
                    format_share(finding.get("observed")),
                    format_share(finding.get("required")),
                    counts if not finding.get("error") else "không đánh giá được",
                    _codes_text(shown, more, noun),
                ]
            )
            facts_pipeline.append(
                {
                    "check": f"{finding['suite']}.{finding['check']}",
                    "label": label,
                    "severity": finding.get("severity"),
                    "observed": finding.get("observed"),
                    "required": finding.get("required"),
                    "rows": total,
                    "affected": finding.get("affected"),
                    "codes": shown,
                    "error": mask_text(finding["error"]) if finding.get("error") else None,
                }
            )
        html_parts.append(
            _html_table(["Kiểm tra", "Thực tế", "Yêu cầu", "Chưa đạt / tổng", "Ví dụ"], rows)
        )

    footer = [
        # a run checked in stages has one id per stage, joined by "+" (merge_summaries)
        "Chi tiết đầy đủ: bảng dq.validation_results, run_id = "
        + " hoặc ".join(run_id.split("+"))
        + ".",
    ]
    if summary.get("quality_report"):
        footer.append(f"Báo cáo chất lượng dữ liệu: {mask_text(summary['quality_report'])}")
    footer.append(PRIVACY_NOTE)
    text += ["", "--", *footer]
    html_parts.append(
        '<p style="color:#555;font-size:12px">'
        + "<br>".join(html.escape(line) for line in footer)
        + "</p>"
    )
    facts = {
        "run_id": run_id,
        "run_date": summary["run_date"],
        "blocking_failed": blocking,
        "communes": facts_communes,
        "pipeline_findings": facts_pipeline,
    }
    return AlertMessage(
        kind="data_quality",
        subject=subject,
        text="\n".join(text) + "\n",
        html=_html_page(subject, "\n".join(html_parts)),
        facts=facts,
    )


# --- operations alerts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFailure:
    """What the IT team needs to find a failed task; the error is one masked line at most."""

    dag_id: str
    task_id: str
    run_id: str
    try_number: int | None = None
    map_index: int | None = None
    logical_date: str | None = None
    log_url: str | None = None
    log_path: str | None = None
    error: str | None = None


def _facts_message(
    kind: str, subject: str, intro: str, facts: Sequence[tuple[str, str]]
) -> AlertMessage:
    width = max(len(k) for k, _ in facts) + 1
    text = [intro, ""] + [f"{(k + ':').ljust(width)} {v}" for k, v in facts]
    text += ["", "--", PRIVACY_NOTE]
    body = (
        f"<p>{html.escape(intro)}</p>"
        + _html_table(["Mục", "Giá trị"], [list(f) for f in facts])
        + f'<p style="color:#555;font-size:12px">{html.escape(PRIVACY_NOTE)}</p>'
    )
    return AlertMessage(
        kind=kind,
        subject=subject,
        text="\n".join(text) + "\n",
        html=_html_page(subject, body),
        facts=dict(facts),
    )


def compose_task_failure(failure: TaskFailure) -> AlertMessage:
    """A task failed for good (retries used up): which one, which run, where its log is."""
    attempt = f" (lần thử {failure.try_number})" if failure.try_number else ""
    subject = f"{SUBJECT_PREFIX} Tác vụ thất bại — {failure.dag_id}.{failure.task_id}{attempt}"
    facts = [
        ("DAG", failure.dag_id),
        ("Tác vụ", failure.task_id),
        ("Lượt chạy (run_id)", failure.run_id),
        ("Lần thử", str(failure.try_number) if failure.try_number else "—"),
    ]
    if failure.map_index is not None and failure.map_index >= 0:
        facts.append(("Chỉ số map", str(failure.map_index)))
    if failure.logical_date:
        facts.append(("Ngày logic", f"{format_local_time(failure.logical_date)} (giờ Việt Nam)"))
    facts += [
        ("Log trên giao diện Airflow", failure.log_url or "—"),
        ("Tệp log trên worker", failure.log_path or "—"),
        ("Lỗi (dòng đầu, đã che dữ liệu cá nhân)", mask_text(failure.error) or "—"),
    ]
    return _facts_message(
        "task_failure",
        subject,
        "Một tác vụ của lượt chạy đêm đã thất bại sau khi dùng hết số lần thử lại.",
        facts,
    )


def compose_run_failure(
    dag_id: str,
    run_id: str,
    failed: str | None,
    reason: str | None,
    log_path: str | None = None,
    run_url: str | None = None,
) -> AlertMessage:
    """A run failed and no task's own alert said so: which run, which step, where to look."""
    subject = f"{SUBJECT_PREFIX} Lượt chạy thất bại — {dag_id}"
    facts = [
        ("DAG", dag_id),
        ("Lượt chạy (run_id)", run_id),
        ("Bước / tác vụ thất bại", failed or "—"),
        ("Lý do (đã che dữ liệu cá nhân)", mask_text(reason) or "—"),
        ("Lượt chạy trên giao diện Airflow", run_url or "—"),
        ("Tệp log", log_path or "—"),
    ]
    return _facts_message(
        "run_failure",
        subject,
        "Lượt chạy đã thất bại: số liệu sáng nay có thể chưa được cập nhật. "
        "Xem log để biết nguyên nhân, rồi chạy lại.",
        facts,
    )


def compose_deadline_missed(
    dag_run: Mapping[str, Any], deadline_time: object, finish_by: str, run_url: str | None
) -> AlertMessage:
    """The nightly run is still not finished at its deadline (06:00 Asia/Ho_Chi_Minh)."""
    dag_id = str(dag_run.get("dag_id", "?"))
    run_id = str(dag_run.get("dag_run_id") or dag_run.get("run_id") or "?")
    logical = dag_run.get("logical_date")
    day = format_local_time(logical)[:10] if logical else format_local_time(deadline_time)[:10]
    subject = f"{SUBJECT_PREFIX} Lượt chạy đêm chưa xong lúc {finish_by} — {dag_id}, {day}"
    facts = [
        ("DAG", dag_id),
        ("Lượt chạy (run_id)", run_id),
        ("Hạn hoàn thành", f"{format_local_time(deadline_time)} (giờ Việt Nam)"),
        ("Bắt đầu lúc", f"{format_local_time(dag_run.get('start_date'))} (giờ Việt Nam)"),
        ("Trạng thái khi kiểm tra", str(dag_run.get("state") or "—")),
        ("Lượt chạy trên giao diện Airflow", run_url or "—"),
    ]
    return _facts_message(
        "deadline_missed",
        subject,
        f"Lượt chạy đêm chưa hoàn thành trước {finish_by} (giờ Việt Nam): số liệu sáng nay "
        "có thể chưa được cập nhật.",
        facts,
    )
