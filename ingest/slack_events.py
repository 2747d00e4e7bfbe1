"""Slack Events API: verify a request, then turn `message` events into questions, answers and edits.

The web layer (`api/routers/webhooks.py`) only passes the raw request here. A top-level customer message becomes a
question with the same id the export importer gives it (`{channel}:{ts}`), so importing an export after (or
before) receiving events never duplicates. A thread reply from a staff user (`DOCGAP_SLACK_STAFF_USER_IDS`; events
carry a user id, not an email) becomes the staff answer if the question has none; other replies are follow-ups. An
edit of a question's message updates its text (and re-embeds it). Deletions are ignored: the question was asked,
and that is what gap analysis counts. Messages are judged like the export's (kind "chat"): chatter is dropped, and
top-level bot posts, system messages (joins, topic changes) and staff announcements are counted as skipped.

Every handled event id is stored in the same commit as its effect, so Slack's retries change nothing. The payload is
signed but still checked: one nested absurdly deep, or with a list or an object where Slack sends text (a `subtype`,
a `user`, a `ts` …), is `rejected` with the reason, never half-applied and never a server error.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.models import Question, WebhookEvent
from core.runtime import Runtime
from ingest.normalize import clean_text
from ingest.records import AccountHint, QuestionRecord, ShapeError, check_shape, text_field
from ingest.redact import redact
from ingest.slack import SOURCE, message_kind
from ingest.store import is_chatter, store_batch, with_subject
from ingest.timeparse import parse_timestamp

__all__ = ["MAX_SKEW_SECONDS", "EventOutcome", "handle_payload", "verify_signature"]

MAX_SKEW_SECONDS = 300
"""Slack's replay window: a signed request older (or newer) than five minutes is refused."""
_TEXT_FIELDS = ("type", "subtype", "channel", "user", "ts", "thread_ts", "text", "team", "user_team")
"""The fields of an event (and of an edit's `message`) that are read as text."""


def verify_signature(secret: str, timestamp: str | None, body: bytes, signature: str | None, now: datetime) -> bool:
    """True when `signature` is Slack's `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` and the timestamp is fresh."""
    if not secret or not timestamp or not signature:
        return False
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now.replace(tzinfo=UTC).timestamp() - sent) > MAX_SKEW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


@dataclass(frozen=True)
class EventOutcome:
    """What an event did: `question`, `answer`, `follow_up`, `edit`, `duplicate`, `ignored` or `rejected` (with why)."""

    action: str
    detail: str = ""
    question_id: int | None = None


def handle_payload(runtime: Runtime, payload: dict[str, Any]) -> EventOutcome:
    """Apply one verified `event_callback` payload exactly once (by `event_id`).

    A malformed event with an id is remembered like an ignored one, so a retry of it is a `duplicate`.
    """
    try:
        check_shape(payload)
    except ShapeError as exc:
        return EventOutcome("rejected", f"malformed payload: {exc}")
    if payload.get("type") != "event_callback":
        return EventOutcome("ignored", f"payload type {payload.get('type')!r}")
    event = payload.get("event")
    try:
        event_id = text_field(payload.get("event_id"), "event_id") or ""
    except TypeError as exc:
        return EventOutcome("rejected", f"malformed payload: {exc}")
    if not isinstance(event, dict) or not event_id:
        return EventOutcome("ignored", "no event or event_id")
    with Session(runtime.engine) as session:
        if session.get(WebhookEvent, (SOURCE, event_id)) is not None:
            return EventOutcome("duplicate", event_id)
    mark = _marker(event_id, runtime.clock())
    try:
        event = _typed(event)
    except TypeError as exc:
        return _ignore(runtime, mark, f"malformed event: {exc}", action="rejected")
    try:
        return _dispatch(runtime, event, set(_split(runtime.settings.slack_staff_user_ids)), mark)
    except IntegrityError:
        with Session(runtime.engine) as session:
            if session.get(WebhookEvent, (SOURCE, event_id)) is None:
                raise
        return EventOutcome("duplicate", event_id)  # a concurrent retry of the same event committed first


def _typed(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its text fields as text (ids sent as numbers become strings), an edit's `message` included.

    Raises TypeError naming a field that holds a list, an object or a boolean: Slack never sends one, and judging
    such an event would crash (a list is no set member) or store garbage as text.
    """

    def texts(d: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {**d, **{k: text_field(d[k], prefix + k) for k in _TEXT_FIELDS if k in d}}

    typed = texts(event, "")
    if isinstance(event.get("message"), dict):
        typed["message"] = texts(event["message"], "message.")
    return typed


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _marker(event_id: str, now: datetime) -> Callable[[Session], None]:
    def mark(session: Session) -> None:
        session.add(WebhookEvent(source=SOURCE, event_id=event_id, received_at=now))

    return mark


def _dispatch(
    runtime: Runtime, event: dict[str, Any], staff: set[str], mark: Callable[[Session], None]
) -> EventOutcome:
    """Route an event to its handler; each handler stores the event id in the commit that applies it."""
    subtype = event.get("subtype")
    if event.get("type") != "message":
        return _ignore(runtime, mark, f"event type {event.get('type')!r}")
    if subtype == "message_changed":
        return _edit(runtime, event, mark)
    kind = message_kind(event)
    if kind is None or not event.get("ts"):
        return _ignore(runtime, mark, f"subtype {subtype!r}")
    is_reply = bool(event.get("thread_ts")) and str(event["thread_ts"]) != str(event["ts"])
    if is_reply:
        if kind != "content":
            return _ignore(runtime, mark, f"{kind} reply")
        return _reply(runtime, event, staff, mark)
    try:
        parse_timestamp(event["ts"])
    except ValueError:
        return _ignore(runtime, mark, f"malformed ts {event['ts']!r}")
    if kind != "content":
        return _new_question(runtime, event, mark, skip=kind)
    if event.get("user") in staff:
        return _new_question(runtime, event, mark, skip="staff")
    return _new_question(runtime, event, mark)


def _ignore(runtime: Runtime, mark: Callable[[Session], None], why: str, action: str = "ignored") -> EventOutcome:
    """Remember an event that changes nothing (`ignored` or `rejected`), so its retries are recognised cheaply."""
    with Session(runtime.engine) as session:
        mark(session)
        session.commit()
    return EventOutcome(action, why)


def _external_id(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def _new_question(
    runtime: Runtime, event: dict[str, Any], mark: Callable[[Session], None], skip: str | None = None
) -> EventOutcome:
    """A top-level message: stored as a question, or counted as skipped (`skip`, or chatter) in the same commit."""
    channel, ts = str(event.get("channel") or ""), str(event["ts"])
    record = QuestionRecord(
        source=SOURCE,
        external_id=_external_id(channel, ts),
        text=str(event.get("text") or ""),
        created_at=parse_timestamp(ts),
        hint=AccountHint(slack_channel_id=channel or None, slack_team_id=event.get("user_team") or event.get("team")),
        author=event.get("user"),
        channel=channel or None,
        thread_id=ts,
        kind="chat",
        skip=skip,
    )
    result = store_batch(runtime.engine, [record], mark)
    if result.skipped:
        return EventOutcome("ignored", f"not a question ({', '.join(result.skipped_by)})")
    return EventOutcome("question", record.external_id, _question_id(runtime, record.external_id))


def _question_id(runtime: Runtime, external_id: str) -> int | None:
    with Session(runtime.engine) as session:
        q = _find(session, external_id)
        return q.id if q else None


def _find(session: Session, external_id: str) -> Question | None:
    return session.exec(select(Question).where(Question.source == SOURCE, Question.external_id == external_id)).first()


def _reply(runtime: Runtime, event: dict[str, Any], staff: set[str], mark: Callable[[Session], None]) -> EventOutcome:
    """A thread reply: the first staff reply answers the question; a customer's reply is a follow-up."""
    external_id = _external_id(str(event.get("channel") or ""), str(event["thread_ts"]))
    text = clean_text(str(event.get("text") or ""))
    with Session(runtime.engine) as session:
        mark(session)
        q = _find(session, external_id)
        if q is None:
            outcome = EventOutcome("ignored", f"reply in thread {external_id}, which is not a question")
        elif is_chatter(text):
            outcome = EventOutcome("ignored", "reply is not content (thanks, +1)", q.id)
        elif event.get("user") in staff:
            if q.staff_answer:
                outcome = EventOutcome("ignored", "question already has a staff answer", q.id)
            else:
                q.staff_answer = redact(text).text  # redacted like every stored text (`ingest.store`)
                outcome = EventOutcome("answer", external_id, q.id)
        else:
            q.follow_ups = [*q.follow_ups, redact(text).text]  # a new list, so the JSON column sees the change
            outcome = EventOutcome("follow_up", external_id, q.id)
        session.commit()
    return outcome


def _edit(runtime: Runtime, event: dict[str, Any], mark: Callable[[Session], None]) -> EventOutcome:
    """An edited question message updates the question's text and queues it for re-embedding."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    ts = str(message.get("ts") or "")
    external_id = _external_id(str(event.get("channel") or ""), ts)
    with Session(runtime.engine) as session:
        mark(session)
        q = _find(session, external_id) if ts else None
        text = with_subject(None, clean_text(str(message.get("text") or "")))
        redacted = redact(text)
        if q is None:
            outcome = EventOutcome("ignored", f"edit of {external_id or 'a message'}, which is not a question")
        elif is_chatter(text) or redacted.text == q.text:
            outcome = EventOutcome("ignored", "edit leaves no new question text", q.id)
        else:
            q.text, q.redactions, q.embedded = redacted.text, redacted.counts, False
            outcome = EventOutcome("edit", external_id, q.id)
        session.commit()
    return outcome
