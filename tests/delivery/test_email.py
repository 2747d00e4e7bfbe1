"""SMTP delivery against a local aiosmtpd server: plain, STARTTLS with a real certificate check, AUTH."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from delivery.email import EmailError, SmtpConfig, html_page, plain_text, report_message, send
from tests.delivery.servers import SmtpServer, self_signed

MARKDOWN = """# Recurring questions — week of 2026-11-16 to 2026-11-22

**81 questions** this week.

| topic | this week |
|---|---:|
| #4 card \\<script\\>alert\\(1\\)\\</script\\> delivery | 9 |
"""


def _config(server: SmtpServer, **kw: object) -> SmtpConfig:
    base: dict[str, object] = {"host": server.host, "port": server.port, "sender": "docgap@fernpay.example",
                               "recipients": ["cs-lead@fernpay.example", "vp@fernpay.example"]}  # fmt: skip
    return SmtpConfig(**{**base, **kw})  # type: ignore[arg-type]


def _parts(server: SmtpServer) -> tuple[str, str]:
    [got] = server.received
    plain = got.message.get_body(("plain",))
    html = got.message.get_body(("html",))
    assert plain is not None and html is not None, "both a text/plain and a text/html part"
    return plain.get_content(), html.get_content()


def test_plain_smtp_html_and_text_parts_to_every_recipient() -> None:
    with SmtpServer() as server:
        config = _config(server)
        refused = send(config, report_message(config, "docgap weekly report: week of 2026-11-16", MARKDOWN,
                                              "https://docgap.example.com/reports/weekly/2026-11-16"))  # fmt: skip
    assert refused == []
    [got] = server.received
    assert got.recipients == ["cs-lead@fernpay.example", "vp@fernpay.example"] and not got.tls
    assert got.message["Subject"] == "docgap weekly report: week of 2026-11-16"
    assert got.message["To"] == "cs-lead@fernpay.example, vp@fernpay.example"
    text, html = _parts(server)
    assert "81 questions" in text and "card <script>alert(1)</script> delivery" in text  # text/plain: shown as is
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<table>" in html and "<strong>81 questions</strong>" in html
    assert '<a href="https://docgap.example.com/reports/weekly/2026-11-16">' in html


def test_starttls_when_offered_with_the_certificate_checked(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with SmtpServer(starttls=(cert, key), users={"docgap": "s3cret-pass"}) as server:
        config = _config(server, user="docgap", password="s3cret-pass", ca_file=cert)
        send(config, report_message(config, "docgap weekly report: week of 2026-11-16", MARKDOWN))
        # The same server with the system CAs: its self-signed certificate is refused, nothing is sent.
        with pytest.raises(EmailError, match=r"TLS|certificate"):
            send(_config(server, user="docgap", password="s3cret-pass"),
                 report_message(config, "again", MARKDOWN))  # fmt: skip
    [got] = server.received
    assert got.tls and got.auth == "docgap", "upgraded to TLS before logging in and sending"
    _parts(server)


def test_wrong_password_is_a_clear_error(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with SmtpServer(starttls=(cert, key), users={"docgap": "right"}) as server:
        with pytest.raises(EmailError, match="refused the login for docgap") as exc:
            send(_config(server, user="docgap", password="wrong-pw", ca_file=cert),
                 report_message(_config(server), "s", MARKDOWN))  # fmt: skip
    assert "wrong-pw" not in str(exc.value) and server.received == []


def _lan_address() -> str | None:
    """This machine's address on a network (not loopback), where a password in clear would travel."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_no_password_in_clear_over_a_network() -> None:
    host = _lan_address()
    if host is None:
        pytest.skip("no non-loopback address to serve SMTP on")
    with SmtpServer(host=host, users={"docgap": "pw"}, auth_require_tls=False) as server:
        with pytest.raises(EmailError, match="does not offer STARTTLS"):
            send(_config(server, user="docgap", password="pw"), report_message(_config(server), "s", MARKDOWN))
    assert server.auth_attempts == [] and server.received == []


def test_unreachable_or_unconfigured_server() -> None:
    with SmtpServer() as server:
        config = _config(server)
    with pytest.raises(EmailError, match="could not send through"):
        send(config, report_message(config, "s", MARKDOWN))
    with pytest.raises(EmailError, match="DOCGAP_SMTP_HOST"):
        send(SmtpConfig("", 25, "", []), report_message(config, "s", MARKDOWN))


def test_html_rendering_escapes_and_plain_text_unescapes() -> None:
    html = html_page("Week <1>", "*a* \\<b\\> <i>raw</i>", "https://x.example/?a=1&b=2")
    assert "<title>Week &lt;1&gt;</title>" in html and "<i>raw</i>" not in html and "&lt;i&gt;raw" in html
    assert 'href="https://x.example/?a=1&amp;b=2"' in html
    assert plain_text("\\#4 \\(re\\)set \\*PIN\\*") == "#4 (re)set *PIN*"
