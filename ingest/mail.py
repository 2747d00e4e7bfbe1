"""Email: mbox files and folders of `.eml` messages, threaded by Message-ID / In-Reply-To / References.

A thread's first message from a customer is the question (subject + body); the first reply from a staff domain is
its staff answer; later customer messages are follow-ups. Quoted history and signatures are removed by the shared
cleaning, and the sender's domain maps the question to an account.
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
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise ValueError("no text body")
    content = part.get_content()
    body = _html_text(content) if part.get_content_subtype() == "html" else content
    return _Mail(message_id, parent, sender, str(msg.get("Subject") or "").strip(), body.strip(), sent)


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
        customers = [m for m in thread if email_domain(m.sender) not in staff]
        if not customers:
            continue  # a thread only staff wrote in (an announcement) asks nothing
        first = customers[0]
        later = [m for m in thread if m.sent >= first.sent and m is not first]
        subject = first.subject.removeprefix("Re: ").removeprefix("RE: ")
        yield QuestionRecord(
            source=SOURCE,
            external_id=first.message_id,
            text=first.body,
            subject=subject or None,
            created_at=first.sent,
            hint=AccountHint(email_domain=email_domain(first.sender)),
            author=first.sender,
            channel="email",
            thread_id=thread_id,
            staff_answer=next((m.body for m in later if email_domain(m.sender) in staff), None),
            follow_ups=[m.body for m in later if email_domain(m.sender) not in staff],
        )
