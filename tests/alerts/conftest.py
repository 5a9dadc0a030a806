"""Real endpoints on loopback for the alert tests: an SMTP server and a webhook receiver.

The SMTP server is aiosmtpd on 127.0.0.1 and a free port (bound as port 0, the
real port read back from the socket: no guessing, no race). Alerts go through
the real ``SmtpHook``, configured only by ``AIRFLOW_CONN_SMTP_DEFAULT``, which
Airflow resolves at lookup time — so ``monkeypatch.setenv`` is enough.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.alerts.samples import citizen_free_summary

ALERT_ENV = (
    "AIRFLOW_CONN_SMTP_DEFAULT",
    "DQ_ALERT_TO",
    "DQ_ALERT_FROM",
    "DQ_ALERT_WEBHOOK_URL",
    "DQ_ALERT_OUTBOX",
)
RECIPIENTS = ["it-so-tttt@example.vn", "truc-he-thong@example.vn"]
SENDER = "motcua-analytics@example.vn"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def parts(self) -> dict[str, str]:
        """content type -> decoded text of every text part."""
        return {
            part.get_content_type(): part.get_content()
            for part in self.message.walk()
            if part.get_content_maintype() == "text"
        }


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


class _LoopbackController(Controller):
    """aiosmtpd's Controller, bound to port 0; reads the real port back before its self-check."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: _Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def conn_uri(self) -> str:
        # The hook's defaults are SMTP over SSL, then STARTTLS; a loopback test server has neither.
        return f"smtp://{self.host}:{self.port}?disable_ssl=true&disable_tls=true&timeout=5&retry_limit=0"


@pytest.fixture
def clean_alert_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No alert setting leaks in from the developer's shell; the outbox is the test's own."""
    for name in ALERT_ENV:
        monkeypatch.delenv(name, raising=False)
    outbox = tmp_path / "outbox"
    monkeypatch.setenv("DQ_ALERT_OUTBOX", str(outbox))
    return outbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = _Handler()
    controller = _LoopbackController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture
def smtp_env(
    clean_alert_env: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> SmtpServer:
    """The production contract pointed at the loopback server."""
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.conn_uri)
    monkeypatch.setenv("DQ_ALERT_TO", ", ".join(RECIPIENTS))
    monkeypatch.setenv("DQ_ALERT_FROM", SENDER)
    return smtp_server


@dataclass
class WebhookServer:
    url: str
    requests: list[dict[str, Any]]


@pytest.fixture
def webhook_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookServer]:
    """A loopback http.server that records every POST (headers and JSON body)."""
    requests: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers["Content-Type"],
                    "raw": body,
                    "json": json.loads(body),
                }
            )
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:  # keep pytest output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    try:
        yield WebhookServer(f"http://127.0.0.1:{server.server_address[1]}/hooks/motcua", requests)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def summary() -> dict[str, Any]:
    return citizen_free_summary()
