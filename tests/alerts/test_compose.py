"""The data-quality message: exact subject, communes, counts, shares, codes; masking."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from motcua.alerts.compose import (
    AlertMessage,
    compose_quality_alert,
    format_share,
    mask_code,
    mask_text,
)
from tests.alerts import samples
from tests.alerts.samples import ADDRESS, CITIZEN_STRINGS, EMAIL, PHONE, PHONE_BARE

SUBJECT = (
    "[Một cửa Analytics] Cảnh báo chất lượng dữ liệu — 2017-07-14: "
    "3 xã/phường chưa đạt, 1 kiểm tra chung lỗi"
)


def _paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a JSON value (list items merged, suite names generalised)."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = "*" if prefix == "/suites" else key
            yield f"{prefix}/{name}"
            yield from _paths(item, f"{prefix}/{name}")
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, f"{prefix}[]")


def test_sample_has_the_shape_of_build_summary(summary: dict[str, Any]) -> None:
    from motcua.quality.run import build_summary
    from motcua.quality.settings import Window
    from motcua.quality.store import CheckResult

    contact = CheckResult(
        checkpoint="contact_by_commune",
        suite="contact_completeness",
        expectation="expect_column_values_to_be_in_set",
        check_name="phone_valid",
        severity="warn",
        success=False,
        window_name="last_7_days",
        period_start=date(2017, 7, 8),
        period_end=date(2017, 7, 14),
        commune_code="22534",
        element_count=25,
        unexpected_count=7,
        affected_count=7,
        observed_value=0.72,
        threshold=0.9,
        failing_key="dossier_code",
        failing_codes=["22534-170710-0001"],
    )
    files = CheckResult(
        checkpoint="pipeline_files",
        suite="quarantine_share",
        expectation="expect_column_values_to_be_between",
        check_name="quarantine_share",
        severity="warn",
        success=False,
        element_count=30,
        affected_count=1,
        observed_value=0.9667,
        threshold=1.0,
        failing_key="file_name",
        failing_codes=["hoso_20170712.csv"],
    )
    real = build_summary(
        samples.RUN_ID,
        date(2017, 7, 14),
        datetime(2017, 7, 14, 23, 12, 5, tzinfo=UTC),
        [
            Window("last_7_days", date(2017, 7, 8), date(2017, 7, 14)),
            Window("month_to_date", date(2017, 7, 1), date(2017, 7, 14)),
        ],
        [contact, files],
        {"22534": "Xã Ninh Tây"},
        "/srv/docs/index.html",
        {"contact_completeness": "warn", "quarantine_share": "warn"},
    )
    assert set(_paths(json.loads(json.dumps(real)))) == set(_paths(summary))


def test_subject_is_exact(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(summary)
    assert message is not None
    assert message.subject == SUBJECT
    summary["pipeline_findings"] = []
    only_communes = compose_quality_alert(summary)
    assert only_communes is not None
    assert only_communes.subject == (
        "[Một cửa Analytics] Cảnh báo chất lượng dữ liệu — 2017-07-14: 3 xã/phường chưa đạt"
    )


def test_no_findings_no_message() -> None:
    assert compose_quality_alert(samples.clean_summary()) is None


def test_communes_sorted_by_code_with_their_checks_and_counts(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(summary)
    assert message is not None
    listed = re.findall(r"^\d+\. (.+) \(mã (\d+)\)$", message.text, flags=re.MULTILINE)
    assert listed == [
        ("Xã Ninh Tây", "22534"),
        ("Xã Ninh Thượng", "22537"),
        ("Xã Ninh Sim", "22552"),
    ]
    findings = re.findall(r"^   - (.+)$", message.text, flags=re.MULTILINE)
    assert findings == [
        "Số điện thoại hợp lệ · 7 ngày gần nhất: "
        "thực tế 72,00%, yêu cầu ≥ 90,00%; 7/25 hồ sơ chưa đạt",
        "Có địa chỉ cư trú · từ đầu tháng: "
        "thực tế 90,00%, yêu cầu ≥ 95,00%; 124/1.234 hồ sơ chưa đạt",
        # within a commune: the 7-day window first, then the month
        "Số điện thoại hợp lệ · 7 ngày gần nhất: "
        "thực tế 80,00%, yêu cầu ≥ 90,00%; 2/10 hồ sơ chưa đạt",
        "Email hợp lệ · từ đầu tháng: thực tế 41,67%, yêu cầu ≥ 60,00%; 28/48 hồ sơ chưa đạt",
        "Tệp có tỷ lệ dòng bị cách ly trong ngưỡng: "
        "thực tế 96,67%, yêu cầu ≥ 100,00%; 1/30 tệp chưa đạt",
    ]
    assert "Tóm tắt: 3 xã/phường chưa đạt; 1 kiểm tra chung lỗi." in message.text
    assert "  - 7 ngày gần nhất: 08/07/2017 – 14/07/2017" in message.text
    assert "  - Từ đầu tháng: 01/07/2017 – 14/07/2017" in message.text
    assert f"run_id = {samples.RUN_ID}" in message.text


def test_a_run_checked_in_two_stages_names_both_ids(summary: dict[str, Any]) -> None:
    summary["run_id"] = f"{samples.RUN_ID}+9c8d7e6f-0000-4000-8000-000000000001"
    message = compose_quality_alert(summary)
    assert message is not None
    assert f"run_id = {samples.RUN_ID} hoặc 9c8d7e6f-0000-4000-8000-000000000001." in message.text


def test_footer_points_to_the_quality_report(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(summary)
    assert message is not None
    where = "/srv/motcua/expectations/gx/uncommitted/quality_report/index.html"
    assert f"Báo cáo chất lượng dữ liệu: {where}\n" in message.text
    assert f"Báo cáo chất lượng dữ liệu: {where}<br>" in message.html
    assert "Data Docs" not in message.text


def test_codes_are_limited_and_the_rest_counted(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(summary)
    assert message is not None
    assert (
        "     Mã hồ sơ: 22552-170703-0001, 22552-170703-0002, 22552-170704-0001, "
        "22552-170705-0001, 22552-170705-0002 và 23 hồ sơ khác"
    ) in message.text
    assert "     Mã hồ sơ: 22534-170710-0001, 22534-170711-0001 và 5 hồ sơ khác" in message.text
    short = compose_quality_alert(summary, max_codes=2)
    assert short is not None
    assert "Mã hồ sơ: 22552-170703-0001, 22552-170703-0002 và 26 hồ sơ khác" in short.text
    assert "22552-170704-0001" not in short.text


def test_html_part_has_the_same_rows_escaped(summary: dict[str, Any]) -> None:
    summary["communes"][0]["commune_name"] = "Xã <Ninh> Sim & co"
    message = compose_quality_alert(summary)
    assert message is not None
    cells = re.findall(r"<td [^>]*>([^<]*)</td>", message.html)
    communes = [c for c in cells if re.fullmatch(r".+ \(\d{5}\)", c)]
    assert communes == [
        "Xã Ninh Tây (22534)",
        "Xã Ninh Thượng (22537)",
        "Xã &lt;Ninh&gt; Sim &amp; co (22552)",
        "Xã &lt;Ninh&gt; Sim &amp; co (22552)",
    ]
    assert "<Ninh>" not in message.html
    for expected in ("72,00%", "90,00%", "7/25", "124/1.234", "41,67%", "28/48", "96,67%"):
        assert f">{expected}</td>" in message.html
    assert message.html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in message.html


def test_blocking_run_says_so(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(samples.blocking_summary())
    assert message is not None
    assert message.subject.endswith(": 3 xã/phường chưa đạt, 2 kiểm tra chung lỗi (có lỗi chặn)")
    assert "CÓ LỖI CHẶN" in message.text
    assert "   - Mã hồ sơ không trùng [CHẶN]: thực tế 99,80%" in message.text
    assert message.facts["blocking_failed"] is True


def test_facts_for_the_webhook_are_json_ready(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(summary)
    assert message is not None
    facts = json.loads(json.dumps(message.facts, ensure_ascii=False))
    assert [c["commune_code"] for c in facts["communes"]] == ["22534", "22537", "22552"]
    assert facts["communes"][0]["findings"][0]["affected"] == 7
    assert facts["pipeline_findings"][0]["codes"] == ["hoso_20170712.csv"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.7212, "72,12%"),
        (1, "100,00%"),
        (0.0, "0,00%"),
        (0.99995, "100,00%"),
        (None, "—"),
    ],
)
def test_shares_as_percentages(value: object, expected: str) -> None:
    assert format_share(value) == expected


# --- masking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"gọi {PHONE} nhé", "gọi [số đã ẩn] nhé"),
        (f"gọi {PHONE_BARE}", "gọi [số đã ẩn]"),
        ("ĐT (0258) 3.845.123", "ĐT [số đã ẩn]"),
        ("+84 905 123 456", "[số đã ẩn]"),
        (f"email {EMAIL}!", "email [email đã ẩn]!"),
        (f"Địa chỉ: {ADDRESS}\ndòng sau", "Địa chỉ: [đã ẩn]\ndòng sau"),
        (f"ĐỊA CHỈ {ADDRESS}", "ĐỊA CHỈ: [đã ẩn]"),
        ("Họ và tên: Nguyễn Văn An", "Họ và tên: [đã ẩn]"),
        ("ngày 2017-07-14, 12 hồ sơ", "ngày 2017-07-14, 12 hồ sơ"),  # dates and counts stay
        ("column address_present", "column address_present"),  # a column name is not a label
        (None, ""),
    ],
)
def test_mask_text(text: str | None, expected: str) -> None:
    assert mask_text(text) == expected


def test_mask_text_normalises_decomposed_vietnamese() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", f"Địa chỉ: {ADDRESS}")
    assert mask_text(nfd) == "Địa chỉ: [đã ẩn]"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("22528-170710-0001", "22528-170710-0001"),  # dossier codes stay readable
        ("HS/2017/000123", "HS/2017/000123"),
        ("hoso_20170712.csv", "hoso_20170712.csv"),
        (PHONE_BARE, "[mã đã ẩn]"),
        (PHONE, "[mã đã ẩn]"),
        ("0905.123.456", "[mã đã ẩn]"),
        ("84905123456", "[mã đã ẩn]"),
        (EMAIL, "[mã đã ẩn]"),
        ("Nguyễn Văn An", "[mã đã ẩn]"),
    ],
)
def test_mask_code(code: str, expected: str) -> None:
    assert mask_code(code) == expected


def _everything(message: AlertMessage) -> str:
    return "\n".join(
        [message.subject, message.text, message.html, json.dumps(message.facts, ensure_ascii=False)]
    )


def test_citizen_data_never_reaches_the_message() -> None:
    message = compose_quality_alert(samples.summary_with_citizen_data())
    assert message is not None
    rendered = _everything(message)
    for secret in CITIZEN_STRINGS:
        assert secret not in rendered, secret
    # what is left is still useful: the commune, the real codes, the error class
    assert "Xã Ninh Tây; Địa chỉ: [đã ẩn] (mã 22534)" in message.text
    assert "22534-170710-0001, [mã đã ẩn], [mã đã ẩn], [mã đã ẩn]" in message.text
    assert "không đánh giá được: DataError: invalid input" in message.text
