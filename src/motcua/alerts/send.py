"""Deliver an alert: e-mail through Airflow's SMTP provider, or a local .eml file sink.

The contract (README "Configuration"):

* ``smtp_default`` — the Airflow connection of the mail server (for instance
  ``AIRFLOW_CONN_SMTP_DEFAULT``); it is used by ``SmtpHook`` exactly as
  Airflow's own notifiers use it (TLS/SSL switches, login, timeout in its extras);
* ``DQ_ALERT_TO`` — recipients, comma-separated; ``DQ_ALERT_FROM`` — the sender;
* ``DQ_ALERT_WEBHOOK_URL`` — optional second channel (Slack incoming webhook or any
  endpoint taking a JSON POST);
* ``DQ_ALERT_OUTBOX`` — where the file sink writes (default ``.local/outbox``).

Without both the connection and ``DQ_ALERT_TO`` the message is written to the
outbox instead, so a local ``make run`` shows exactly what would have been sent.
When the mail cannot go (the server refuses, or the connection cannot even be
looked up because Airflow's metadata database is down) the message is kept
in the outbox too: an alert is never lost because of the outage it reports.
Airflow is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from motcua import config
from motcua.alerts.compose import AlertMessage

log = logging.getLogger(__name__)

AlertSettings = config.AlertSettings  # where alerts go: read in motcua.config
SMTP_CONN_ID = AlertSettings.smtp_conn_id
DEFAULT_SENDER = "motcua-analytics@localhost"
WEBHOOK_TIMEOUT_SECONDS = 10
SLACK_TEXT_LIMIT = 3500  # Slack truncates long messages; the e-mail carries the full list


class AlertDeliveryError(RuntimeError):
    """The e-mail could not be sent; the message was kept in the outbox (path in the text)."""


def smtp_connection(conn_id: str = SMTP_CONN_ID) -> Any | None:
    """The Airflow connection ``conn_id``, or None when it is not defined anywhere.

    Looked up through the Task SDK (env ``AIRFLOW_CONN_*``, secrets backends, the
    metadata database via the API server inside a task), at call time.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def send_smtp(msg: Message, recipients: list[str], conn_id: str = SMTP_CONN_ID) -> None:
    """Send ``msg`` through ``SmtpHook(smtp_conn_id=conn_id)``.

    The hook opens the connection (SSL or STARTTLS per the connection extras,
    login, timeout); ``SmtpHook.send_email_smtp`` cannot carry a plain-text part
    next to the HTML one, so the prepared multipart/alternative message goes
    through the hook's authenticated client.
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        client = hook._smtp_client  # the hook's own client, already connected and logged in
        if client is None:  # pragma: no cover - get_conn() always sets it
            raise AlertDeliveryError("SmtpHook returned no SMTP client")
        # as a str, like the hook itself sends: smtplib turns every line ending into CRLF
        client.sendmail(msg["From"], recipients, msg.as_string())


def write_eml(msg: Message, outbox: Path, name: str) -> Path:
    """Write ``<outbox>/<name>.eml`` atomically; the name is made file-system safe."""
    outbox.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.\-]+", "_", name).strip("._") or "alert"
    path = outbox / f"{safe}.eml"
    tmp = path.with_suffix(".eml.tmp")
    tmp.write_bytes(msg.as_bytes())
    tmp.replace(path)
    return path


def slack_escape(text: str) -> str:
    """Slack reads ``<…>`` as links and mentions (``<!channel>``) and ``&`` as an entity:
    a commune name or an error text must be shown, never obeyed (Slack's own escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(message: AlertMessage, url: str) -> dict[str, Any]:
    """Slack gets ``{"text": ...}`` only (escaped); any other endpoint gets the structured
    facts too, values as they are (JSON carries them safely; the receiver renders them)."""
    text = f"*{message.subject}*\n{message.text}"
    if len(text) > SLACK_TEXT_LIMIT:
        text = text[:SLACK_TEXT_LIMIT] + "\n… (danh sách đầy đủ trong email)"
    if (urlsplit(url).hostname or "").endswith("slack.com"):
        return {"text": slack_escape(text)}
    return {"kind": message.kind, "subject": message.subject, "text": text, **message.facts}


def post_webhook(message: AlertMessage, url: str) -> dict[str, Any]:
    """POST the alert as JSON; never raises (it is the optional channel): returns the outcome."""
    body = json.dumps(webhook_payload(message, url), ensure_ascii=False, default=str).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return {"status": response.status}
    except Exception as exc:  # the e-mail still goes out; the task log says why this did not
        log.warning("alert webhook failed: %s", type(exc).__name__)
        return {"error": type(exc).__name__}


def deliver(
    message: AlertMessage, *, name: str, settings: AlertSettings | None = None
) -> dict[str, Any]:
    """Send ``message`` by e-mail (or to the file sink) and to the webhook; say what was done.

    Raises :class:`AlertDeliveryError` when the SMTP server refused or could not be
    reached, or its connection could not be looked up — after keeping the message
    in the outbox and trying the webhook — so the task that alerts fails visibly
    instead of losing the alert.
    """
    settings = settings or AlertSettings.from_env()
    result: dict[str, Any] = {"kind": message.kind, "subject": message.subject}
    failure: Exception | None = None
    conn = None
    if settings.to:
        try:
            conn = smtp_connection(settings.smtp_conn_id)
        except Exception as exc:  # e.g. the metadata DB that holds it is down
            failure = exc
    email = message.to_email(settings.sender or DEFAULT_SENDER, settings.to)
    if conn is not None:
        sender = settings.sender or conn.extra_dejson.get("from_email") or DEFAULT_SENDER
        email = message.to_email(sender, settings.to)
        try:
            send_smtp(email, list(settings.to), settings.smtp_conn_id)
            result.update(channel="smtp", recipients=list(settings.to), sender=sender)
            log.info("alert %r sent to %d recipient(s)", message.subject, len(settings.to))
        except Exception as exc:
            failure = exc
    if result.get("channel") != "smtp":  # not mailed: the outbox keeps it, whatever the cause
        path = write_eml(email, settings.outbox, name)
        result.update(channel="file", path=str(path))
        if failure is not None:
            result["smtp_error"] = type(failure).__name__
        else:
            log.info("no SMTP configured (smtp_default + DQ_ALERT_TO): alert written to %s", path)
    if settings.webhook_url:
        result["webhook"] = post_webhook(message, settings.webhook_url)
    if failure is not None:
        raise AlertDeliveryError(
            f"alert e-mail not sent ({type(failure).__name__}: {failure}); kept in {result['path']}"
        ) from failure
    return result
