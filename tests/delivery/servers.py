"""Local servers that speak the real protocols delivery talks to: a Slack incoming webhook and SMTP.

`SlackWebhook` is an HTTP server on a loopback port that answers like hooks.slack.com: `200 ok` for a valid
Block Kit message, `400 invalid_blocks` / `no_text` for a malformed one (checked the way Slack documents its
limits), and whatever failures a test queues (`fail_next`: 500s, 429 with Retry-After, 404 no_service). Every
POST is recorded, accepted or not.

`SmtpServer` wraps aiosmtpd's Controller: plain, or offering STARTTLS with a self-signed certificate made on
the spot with `cryptography`, optionally with AUTH; it records each message as parsed `EmailMessage`s.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text", "input", "file", "video"}
TEXT_TYPES = {"plain_text", "mrkdwn"}


def block_kit_problems(body: Any) -> list[str]:
    """What Slack would refuse in a webhook body: missing fallback text, unknown block types, limits exceeded."""
    problems = []
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    if not isinstance(body.get("text"), str) or not body["text"].strip():
        problems.append("no_text: a `text` fallback is required with blocks")
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks or len(blocks) > 50:
        return [*problems, "invalid_blocks: `blocks` must be a list of 1-50 blocks"]
    for i, b in enumerate(blocks):
        kind = b.get("type") if isinstance(b, dict) else None
        if kind not in BLOCK_TYPES:
            problems.append(f"block {i}: unknown type {kind!r}")
            continue
        if kind == "header":
            t = b.get("text", {})
            if t.get("type") != "plain_text" or not 0 < len(t.get("text", "")) <= 150:
                problems.append(f"block {i}: header needs plain_text of 1-150 characters")
        if kind == "section":
            t = b.get("text", {})
            if t.get("type") not in TEXT_TYPES or not 0 < len(t.get("text", "")) <= 3000:
                problems.append(f"block {i}: section text must be 1-3000 characters of mrkdwn/plain_text")
        if kind == "context":
            els = b.get("elements", [])
            if not 0 < len(els) <= 10 or any(e.get("type") not in TEXT_TYPES | {"image"} for e in els):
                problems.append(f"block {i}: context needs 1-10 text or image elements")
    return problems


class SlackWebhook:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        """Every request body received, in order (also the refused ones)."""
        self.accepted: list[dict[str, Any]] = []
        self.fail_next: list[tuple[int, str, dict[str, str]]] = []
        """Failures to answer with before accepting again: (status, body, headers)."""
        self.fail_always: tuple[int, str] | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                owner.posts.append(body)
                if self.path != "/services/T000/B000/secret" or self.headers.get_content_type() != "application/json":
                    return self._answer(404, "no_service")
                if owner.fail_always:
                    return self._answer(*owner.fail_always)
                if owner.fail_next:
                    return self._answer(*owner.fail_next.pop(0))
                problems = block_kit_problems(body)
                if problems:
                    return self._answer(400, "invalid_blocks: " + "; ".join(problems))
                owner.accepted.append(body)
                self._answer(200, "ok")

            def _answer(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
                data = text.encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/services/T000/B000/secret"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> SlackWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def self_signed(tmp: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` (and localhost) and its key, as PEM files: (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    names = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp-cert.pem", tmp / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    auth: str | None


@dataclass
class SmtpServer:
    """aiosmtpd on a loopback port; `starttls=(cert, key)` offers STARTTLS and requires it before MAIL."""

    starttls: tuple[Path, Path] | None = None
    users: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    auth_require_tls: bool = True
    received: list[Received] = field(default_factory=list)
    auth_attempts: list[str] = field(default_factory=list)
    port: int = 0
    """0: a free port; or the port a stopped server used, to bring it back."""

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                tls = session.ssl is not None
                auth = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
                owner.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg, tls, auth))  # type: ignore[arg-type]
                return "250 Message accepted for delivery"

        def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            if not isinstance(auth_data, LoginPassword):
                return AuthResult(success=False, handled=False)
            user, password = auth_data.login.decode(), auth_data.password.decode()
            owner.auth_attempts.append(user)
            return AuthResult(success=owner.users.get(user) == password, handled=False, auth_data=auth_data)

        kwargs: dict[str, Any] = {}
        if self.starttls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.starttls[0]), str(self.starttls[1]))
            kwargs.update(tls_context=ctx, require_starttls=True)
        if self.users:
            kwargs.update(authenticator=authenticator, auth_require_tls=self.auth_require_tls)
        if not self.port:
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = int(probe.getsockname()[1])
        self._controller = Controller(Handler(), hostname=self.host, port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
