"""Email: mbox files and folders of `.eml` messages, threaded by Message-ID / In-Reply-To / References.

A thread's first message from a customer is the question (subject + body); the first reply from a staff domain is
its staff answer; later customer messages are follow-ups. Quoted history and signatures are removed by the shared
cleaning, and the sender's domain maps the question to an account.

An email thread is a request and is always stored, except when a machine wrote it: a delivery failure (a
`multipart/report` delivery status, `MAILER-DAEMON`, `X-Failed-Recipients`) or an automatic reply
(`Auto-Submitted`, `X-Autoreply`, `Precedence: auto_reply`, …). Those are read here from the headers, passed over
when choosing a thread's question, answer and follow-ups, and yielded as records marked with why, so the store
counts them. Subject and text markers ("Automatic reply:", "Undeliverable:") are checked by the store for every
source.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

from ingest.normalize import email_domain
from ingest.records import AccountHint, IngestError, QuestionRecord

SOURCE = "email"


@dataclass
class _Mail:
    message_id: str
    parent: str | None
    sender: str
    subject: str
    body: str
    sent: datetime
    automated: str | None = None
    """"bounce" or "auto-reply" when the headers say a machine wrote it."""


_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


def _automated(msg: EmailMessage, sender: str) -> str | None:
    """What the headers say about who wrote the message: "bounce", "auto-reply", or None for a person.

    `Auto-Submitted` (RFC 3834) is what standard autoresponders set; the `X-Auto*` headers and `Precedence:
    auto_reply` are what Exchange, Gmail and older vacation programs add; delivery reports are RFC 3464.
    """
    report = msg.get_content_type() == "multipart/report" and "delivery-status" in str(
        msg.get_param("report-type") or ""
    )
    if report or msg.get("X-Failed-Recipients") or sender.split("@")[0] in _BOUNCE_SENDERS:
        return "bounce"
    submitted = str(msg.get("Auto-Submitted") or "").strip().lower()
    precedence = str(msg.get("Precedence") or "").strip().lower()
    if (submitted and submitted != "no") or precedence == "auto_reply":
        return "auto-reply"
    if any(msg.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply")):
        return "auto-reply"
    return None


class _TextOnly(HTMLParser):
    """HTML bodies (no plain part) to text: keep the words, drop tags, scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    return "".join(parser.parts)


def _content(part: EmailMessage) -> str:
    """The part's text; a charset Python does not know ("x-unknown", a typo) is read as UTF-8 with replacements.

    Mailers label charsets wrongly often enough that refusing the message would drop real requests.
    """
    try:
        return str(part.get_content())
    except LookupError:
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _parse(msg: EmailMessage, label: str) -> _Mail:
    message_id = (msg.get("Message-ID") or "").strip()
    if not message_id:
        raise ValueError("no Message-ID header")
    refs = (msg.get("References") or "").split()
    parent = (msg.get("In-Reply-To") or "").strip() or (refs[-1] if refs else None)
    sender = parseaddr(str(msg.get("From") or ""))[1].lower()
    if not sender:
        raise ValueError("no From address")
    date = msg.get("Date")
    sent = parsedate_to_datetime(str(date)) if date else None
    if sent is None:
        raise ValueError("no Date header")
    sent = sent.astimezone(UTC).replace(tzinfo=None) if sent.tzinfo else sent
    # A mail with only attachments has no text body: its subject is the request ("March invoice", see attached).
    part = msg.get_body(preferencelist=("plain", "html"))
    content = _content(part) if part is not None else ""
    body = _html_text(content) if part is not None and part.get_content_subtype() == "html" else content
    subject = str(msg.get("Subject") or "").strip()
    return _Mail(message_id, parent, sender, subject, body.strip(), sent, _automated(msg, sender))


def _messages(path: Path) -> Iterator[tuple[str, str, EmailMessage] | IngestError]:
    parser = BytesParser(policy=policy.default)
    if path.is_dir():
        for f in sorted(path.rglob("*.eml")):
            try:
                yield str(f), "message", parser.parsebytes(f.read_bytes())  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001 - any parse failure is this file's error, not the batch's
                yield IngestError(str(f), "message", f"unreadable: {exc}")
        return
    box = mailbox.mbox(str(path), factory=None, create=False)
    try:
        for i, key in enumerate(box.iterkeys(), start=1):
            try:
                yield str(path), f"message {i}", parser.parsebytes(box.get_bytes(key))  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001
                yield IngestError(str(path), f"message {i}", f"unreadable: {exc}")
    finally:
        box.close()


def read_email(path: Path, staff_domains: list[str] | None = None) -> Iterator[QuestionRecord | IngestError]:
    """Questions from an mbox file or a folder of .eml files."""
    staff = set(staff_domains or [])
    mails: dict[str, _Mail] = {}
    for item in _messages(path):
        if isinstance(item, IngestError):
            yield item
            continue
        file, label, msg = item
        try:
            m = _parse(msg, label)
        except (ValueError, TypeError, LookupError) as exc:
            yield IngestError(file, label, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - the stdlib header parsers raise anything on hostile headers
            yield IngestError(file, label, f"unreadable headers or body: {type(exc).__name__}: {exc}")
            continue
        mails.setdefault(m.message_id, m)

    def root(m: _Mail) -> str:
        seen = {m.message_id}
        while m.parent and m.parent in mails and m.parent not in seen:
            m = mails[m.parent]
            seen.add(m.message_id)
        return m.message_id

    threads: dict[str, list[_Mail]] = {}
    for m in mails.values():
        threads.setdefault(root(m), []).append(m)
    for thread_id, thread in threads.items():
        thread.sort(key=lambda m: m.sent)
        people = [m for m in thread if m.automated is None]
        customers = [m for m in people if email_domain(m.sender) not in staff]
        if not customers:
            # A thread only staff wrote in (an announcement) asks nothing; one where only machines answered
            # (an out-of-office, a bounce) is counted as skipped under its first automated message.
            machine = next((m for m in thread if m.automated), None)
            if machine is not None:
                yield _record(machine, thread_id, skip=machine.automated)
            continue
        first = customers[0]
        later = [m for m in people if m.sent >= first.sent and m is not first]
        yield _record(
            first,
            thread_id,
            staff_answer=next((m.body for m in later if email_domain(m.sender) in staff), None),
            follow_ups=[m.body for m in later if email_domain(m.sender) not in staff],
        )


def _record(
    m: _Mail,
    thread_id: str,
    staff_answer: str | None = None,
    follow_ups: list[str] | None = None,
    skip: str | None = None,
) -> QuestionRecord:
    subject = m.subject.removeprefix("Re: ").removeprefix("RE: ")
    return QuestionRecord(
        source=SOURCE,
        external_id=m.message_id,
        text=m.body,
        subject=subject or None,
        created_at=m.sent,
        hint=AccountHint(email_domain=email_domain(m.sender)),
        author=m.sender,
        channel="email",
        thread_id=thread_id,
        staff_answer=staff_answer,
        follow_ups=follow_ups or [],
        skip=skip,
    )
