"""Email over SMTP: one message with a plain-text and an HTML part, sent to the configured recipients.

The connection upgrades to TLS with STARTTLS whenever the server offers it (`EHLO`, then the `STARTTLS`
extension); port 465 means TLS from the first byte (SMTPS). A password is never sent over a connection that is
not encrypted, unless the server is on this machine (a local relay). Certificates are checked against the
system's CAs, or against `DOCGAP_SMTP_CA_FILE` for a relay with a private CA.

The HTML part is the report's Markdown rendered with raw HTML off (markdown-it), inside an autoescaped
template: customer text was escaped for Markdown when the report was written, and no tag can come out of it.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from jinja2 import Environment, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

TIMEOUT = 30.0

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; max-width: 760px; color: #1f2328">
{{ body }}
{% if link %}<p><a href="{{ link }}">Open it in docgap</a></p>{% endif %}
</body></html>
"""


class EmailError(Exception):
    """The message could not be sent; says why (never the password)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    recipients: list[str]
    user: str = ""
    password: str = ""
    ca_file: Path | None = None
    timeout: float = TIMEOUT


def markdown_html(markdown: str) -> str:
    """Markdown to HTML with raw HTML disabled: `<script>` in the source comes out as text."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)


def html_page(title: str, markdown: str, link: str = "") -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_HTML).render(title=title, body=Markup(markdown_html(markdown)), link=link)


def build_message(config: SmtpConfig, subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _context(config: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)


def send(config: SmtpConfig, msg: EmailMessage) -> list[str]:
    """Deliver `msg`, or raise `EmailError`; STARTTLS when offered, login when configured.

    Returns the recipients the server refused while accepting others: the message went out, so sending it again
    would duplicate it for the rest; the caller records them.
    """
    if not config.host or not config.sender or not config.recipients:
        raise EmailError("set DOCGAP_SMTP_HOST, DOCGAP_SMTP_FROM and DOCGAP_REPORT_RECIPIENTS to send email")
    try:
        if config.port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                  context=_context(config))  # fmt: skip
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with smtp:
            smtp.ehlo()
            encrypted = config.port == 465
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=_context(config))
                smtp.ehlo()
                encrypted = True
            if config.user:
                if not encrypted and not _is_local(config.host):
                    raise EmailError(
                        f"{config.host} does not offer STARTTLS: refusing to send the SMTP "
                        "password unencrypted (use port 465 for SMTPS, or a relay with STARTTLS)"
                    )
                smtp.login(config.user, config.password)
            refused = smtp.send_message(msg, from_addr=config.sender, to_addrs=config.recipients)
    except EmailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(f"{config.host} refused the login for {config.user}: {exc.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise EmailError(f"{config.host} refused every recipient: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        raise EmailError(f"{config.host} answered {exc.smtp_code}: {_reply(exc.smtp_error)}") from None
    except ssl.SSLError as exc:
        raise EmailError(f"TLS with {config.host}:{config.port} failed: {exc.reason or exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailError(f"could not send through {config.host}:{config.port}: {type(exc).__name__}: {exc}") from None
    return sorted(refused)


def _is_local(host: str) -> bool:
    """A relay on this machine (loopback): nothing crosses a network, so a password in clear stays here."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reply(raw: bytes | str) -> str:
    return (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)).strip()[:200]


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]<>()#+!|~])")


def plain_text(markdown: str) -> str:
    """The Markdown as plain text: backslash escapes removed (a text/plain part renders nothing, so none are needed)."""
    return _MD_ESCAPE.sub(r"\1", markdown)


def report_message(config: SmtpConfig, subject: str, markdown: str, link: str = "") -> EmailMessage:
    """A report as an email: its Markdown as the plain part, rendered to escaped HTML as the alternative."""
    text = plain_text(markdown) + (f"\nOpen it in docgap: {link}\n" if link else "")
    return build_message(config, subject, text, html_page(subject, markdown, link))
