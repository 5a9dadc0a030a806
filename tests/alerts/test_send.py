"""Delivery for real: SmtpHook to a loopback SMTP server, the .eml file sink, the webhook."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from motcua.alerts import alert_quality
from motcua.alerts.compose import compose_quality_alert
from motcua.alerts.send import AlertDeliveryError, AlertSettings, webhook_payload
from tests.alerts import samples
from tests.alerts.conftest import RECIPIENTS, SENDER, SmtpServer, WebhookServer
from tests.alerts.samples import CITIZEN_STRINGS
from tests.alerts.test_compose import SUBJECT

RUN_DATE = date(2017, 7, 14)
EML_NAME = "2017-07-14_3f2a1b4c.eml"


def _free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_alert_is_sent_through_smtp_hook(smtp_env: SmtpServer, summary: dict[str, Any]) -> None:
    result = alert_quality(summary, RUN_DATE)

    assert result["sent"] is True
    assert result["channel"] == "smtp"
    assert result["recipients"] == RECIPIENTS
    assert (result["communes"], result["pipeline_findings"]) == (3, 1)
    [received] = smtp_env.received
    assert received.mail_from == SENDER
    assert received.rcpt_tos == RECIPIENTS
    msg = received.message
    assert msg["Subject"] == SUBJECT
    assert msg["From"] == SENDER
    assert [a.strip() for a in msg["To"].split(",")] == RECIPIENTS
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    parts = received.parts()
    assert list(parts) == ["text/plain", "text/html"]
    for body in parts.values():  # UTF-8 Vietnamese intact in both parts
        for commune in ("Xã Ninh Tây", "Xã Ninh Thượng", "Xã Ninh Sim"):
            assert commune in body
        assert "124/1.234" in body and "41,67%" in body
    assert "Số điện thoại hợp lệ · 7 ngày gần nhất: thực tế 72,00%" in parts["text/plain"]
    assert received.raw.isascii()  # 7-bit clean on the wire: base64 bodies, RFC 2047 subject


def test_no_citizen_data_in_what_the_server_receives(smtp_env: SmtpServer) -> None:
    alert_quality(samples.summary_with_citizen_data(), RUN_DATE)

    [received] = smtp_env.received
    seen = "\n".join([str(received.message["Subject"]), *received.parts().values()])
    assert "Xã Ninh Tây" in seen
    for secret in CITIZEN_STRINGS:
        assert secret not in seen, secret


def test_run_without_findings_sends_nothing(smtp_env: SmtpServer, clean_alert_env: Path) -> None:
    result = alert_quality(samples.clean_summary(), "2017-07-14")
    assert result == {"sent": False, "reason": "no findings", "run_date": "2017-07-14"}
    assert smtp_env.received == []
    assert not clean_alert_env.exists()


def test_file_sink_when_nothing_is_configured(
    clean_alert_env: Path, summary: dict[str, Any]
) -> None:
    result = alert_quality(summary, RUN_DATE)

    assert result["channel"] == "file"
    assert result["path"] == str(clean_alert_env / EML_NAME)
    msg = email.message_from_bytes(
        (clean_alert_env / EML_NAME).read_bytes(), policy=email.policy.default
    )
    assert msg["Subject"] == SUBJECT
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None
    assert "1. Xã Ninh Tây (mã 22534)" in text.get_content()
    assert list(clean_alert_env.iterdir()) == [clean_alert_env / EML_NAME]  # no temp file left


def test_file_sink_when_recipients_are_missing(
    clean_alert_env: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    summary: dict[str, Any],
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.conn_uri)
    assert alert_quality(summary, RUN_DATE)["channel"] == "file"
    assert smtp_server.received == []


def test_file_sink_when_the_connection_is_missing(
    clean_alert_env: Path, monkeypatch: pytest.MonkeyPatch, summary: dict[str, Any]
) -> None:
    monkeypatch.setenv("DQ_ALERT_TO", RECIPIENTS[0])
    result = alert_quality(summary, RUN_DATE)
    assert result["channel"] == "file"
    msg = email.message_from_bytes(Path(result["path"]).read_bytes(), policy=email.policy.default)
    assert msg["To"] == RECIPIENTS[0]


def test_smtp_failure_keeps_the_message_and_fails_loudly(
    clean_alert_env: Path, monkeypatch: pytest.MonkeyPatch, summary: dict[str, Any]
) -> None:
    port = _free_port()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true&timeout=2&retry_limit=0",
    )
    monkeypatch.setenv("DQ_ALERT_TO", RECIPIENTS[0])
    with pytest.raises(AlertDeliveryError, match=EML_NAME):
        alert_quality(summary, RUN_DATE)
    assert (clean_alert_env / EML_NAME).is_file()


def test_webhook_gets_the_json_facts(
    smtp_env: SmtpServer,
    webhook_server: WebhookServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DQ_ALERT_WEBHOOK_URL", webhook_server.url)
    result = alert_quality(samples.summary_with_citizen_data(), RUN_DATE)

    assert result["webhook"] == {"status": 200}
    assert len(smtp_env.received) == 1  # the webhook is a second channel, not a replacement
    [request] = webhook_server.requests
    assert request["path"] == "/hooks/motcua"
    assert request["content_type"] == "application/json; charset=utf-8"
    payload = request["json"]
    assert payload["kind"] == "data_quality"
    assert payload["subject"] == SUBJECT
    assert payload["run_date"] == "2017-07-14"
    assert [c["commune_code"] for c in payload["communes"]] == ["22534", "22537", "22552"]
    assert payload["communes"][0]["commune_name"] == "Xã Ninh Tây; Địa chỉ: [đã ẩn]"
    raw = request["raw"].decode("utf-8")
    for secret in CITIZEN_STRINGS:
        assert secret not in raw, secret


def test_webhook_failure_does_not_stop_the_email(
    smtp_env: SmtpServer, monkeypatch: pytest.MonkeyPatch, summary: dict[str, Any]
) -> None:
    monkeypatch.setenv("DQ_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{_free_port()}/x")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    result = alert_quality(summary, RUN_DATE)
    assert result["channel"] == "smtp"
    assert result["webhook"] == {"error": "URLError"}
    assert len(smtp_env.received) == 1


def test_slack_gets_text_only(summary: dict[str, Any]) -> None:
    message = compose_quality_alert(summary)
    assert message is not None
    payload = webhook_payload(message, "https://hooks.slack.com/services/T000/B000/XXXX")
    assert list(payload) == ["text"]
    assert payload["text"].startswith(f"*{SUBJECT}*\n")
    json.dumps(payload)


def test_slack_text_is_escaped(summary: dict[str, Any]) -> None:
    """Slack reads <…> as links and mentions: names and errors are shown, never obeyed."""
    summary["communes"][0]["commune_name"] = "Xã <!channel> <https://evil.example|Ninh> & co"
    message = compose_quality_alert(summary)
    assert message is not None
    text = webhook_payload(message, "https://hooks.slack.com/services/T000/B000/XXXX")["text"]
    assert "Xã &lt;!channel&gt; &lt;https://evil.example|Ninh&gt; &amp; co" in text
    assert "<" not in text and ">" not in text
    other = webhook_payload(message, "https://hooks.example.vn/alert")["text"]
    assert "Xã <!channel> <https://evil.example|Ninh> & co" in other  # plain JSON: as is


def test_settings_from_the_environment_contract(tmp_path: Path) -> None:
    settings = AlertSettings.from_env(
        {
            "DQ_ALERT_TO": " a@example.vn, b@example.vn;c@example.vn ,",
            "DQ_ALERT_FROM": "motcua@example.vn",
            "DQ_ALERT_WEBHOOK_URL": "https://hooks.example.vn/x",
            "DQ_ALERT_OUTBOX": str(tmp_path),
        }
    )
    assert settings.to == ("a@example.vn", "b@example.vn", "c@example.vn")
    assert settings.sender == "motcua@example.vn"
    assert settings.webhook_url == "https://hooks.example.vn/x"
    assert settings.outbox == tmp_path
    assert settings.smtp_conn_id == "smtp_default"
    default = AlertSettings.from_env({})
    assert default.to == () and default.webhook_url is None
    assert default.outbox.parts[-2:] == (".local", "outbox")
