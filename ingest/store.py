"""Persisting normalized records: what is stored, what is skipped and why; idempotent by (source, external_id).

This module decides what becomes a question (`skip_reasons`), once for every source and path (files, syncs,
webhooks, `POST /v1/questions`). Requests (tickets, CSV/JSONL rows, email threads, API posts) are always stored;
only an empty text, an auto-reply or a bounce is skipped. Chat messages (Slack) also drop what the chat detector
recognises as chatter. Every skip is counted per reason in the result and kept as a `SkippedMessage` row in the
same commit, so `docgap sources` can show it and a person can check it.

A re-run adds nothing; an edited message updates its question and marks it for re-embedding. Committing every
batch means a crash loses at most the batch in flight, and the next run picks up from there (already stored
records are recognised as unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.models import Question, SkippedMessage
from ingest.accounts import AccountResolver
from ingest.detection import automated_kind, chatter_kinds, detect_languages
from ingest.normalize import author_hash, clean_text
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.redact import redact

BATCH = 500
MAX_TEXT_CHARS = 20_000
"""Longer messages are pasted logs or attachments, not questions: reported as errors, not stored."""
PREVIEW_CHARS = 200


def store_records(
    engine: Engine,
    items: Iterable[QuestionRecord | IngestError],
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Clean and upsert records; errors are collected, never raised, so the rest of the batch lands."""
    result = IngestResult()
    batch: list[QuestionRecord] = []
    with Session(engine, expire_on_commit=False) as session:
        resolver = AccountResolver(session)
        for item in items:
            if isinstance(item, IngestError):
                result.errors.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                _flush(session, resolver, batch, result)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            _flush(session, resolver, batch, result)
            if progress:
                progress(len(batch))
    return result


def store_batch(
    engine: Engine,
    items: Iterable[QuestionRecord | IngestError],
    in_same_commit: Callable[[Session], None],
) -> IngestResult:
    """Upsert one batch (a sync page, a webhook event) in a single commit together with `in_same_commit`'s rows.

    Live syncs write their cursor, and webhooks their seen event id, through `in_same_commit`: the bookkeeping and
    the questions land or fail together, so a crash never skips a page nor handles an event twice.
    """
    result = IngestResult()
    records: list[QuestionRecord] = []
    for item in items:
        if isinstance(item, IngestError):
            result.errors.append(item)
        else:
            records.append(item)
    with Session(engine, expire_on_commit=False) as session:
        in_same_commit(session)
        _flush(session, AccountResolver(session), records, result)
    return result


def with_subject(subject: str | None, body: str) -> str:
    """Subject line + body, unless the body already says it.

    Web-form subjects are often the body's first words cut off with "...", and saying it twice would weigh those
    words double in the embedding.
    """
    stem = " ".join((subject or "").rstrip(".… ").lower().split())
    if not stem or stem in " ".join(body.lower().split()):
        return body or (subject or "")
    return f"{subject}\n{body}" if body else subject or ""


def skip_reasons(records: list[QuestionRecord]) -> list[str | None]:
    """Why each record is not a question, or None to store it: the one place that decides, for every source.

    A request is skipped only when nothing is left of it (subject included) or a machine wrote it; a chat message
    also when the chat detector recognises chatter (judged in one batch). A reader's verdict from metadata (a bot
    id, a Slack subtype, an email header) comes first.
    """
    reasons: list[str | None] = []
    chat: list[int] = []
    for i, rec in enumerate(records):
        body = clean_text(rec.text)
        text = with_subject(rec.subject, body)
        if rec.skip:
            reasons.append(rec.skip)
        elif not text.strip():
            reasons.append("empty")
        else:
            reasons.append(automated_kind(rec.subject, body))
            if reasons[-1] is None and rec.kind == "chat":
                chat.append(i)
    texts = [with_subject(records[i].subject, clean_text(records[i].text)) for i in chat]
    for i, kind in zip(chat, chatter_kinds(texts), strict=True):
        reasons[i] = kind
    return reasons


def is_chatter(text: str) -> bool:
    """A follow-up or reply that adds nothing to the question ("thanks!", "+1", "works now")."""
    return not text.strip() or chatter_kinds([text])[0] is not None


def _too_long(rec: QuestionRecord, result: IngestResult) -> bool:
    if len(rec.text) <= MAX_TEXT_CHARS:
        return False
    message = f"message of {len(rec.text):,} characters exceeds {MAX_TEXT_CHARS:,}"
    result.errors.append(IngestError(rec.source, rec.external_id, message))
    return True


def _fields(rec: QuestionRecord) -> dict[str, Any]:
    """The stored fields of a question: cleaned, PII redacted; follow-ups are filtered later, in one batch."""
    body = redact(with_subject(rec.subject, clean_text(rec.text)))
    staff = redact(clean_text(rec.staff_answer)[:MAX_TEXT_CHARS]).text if rec.staff_answer else None
    follow_ups = [clean_text(f[:MAX_TEXT_CHARS]) for f in rec.follow_ups]
    return {
        "text": body.text,
        "redactions": body.counts,
        "account_hint": rec.hint.as_dict(),
        "author_hash": author_hash(rec.author),
        "channel": rec.channel,
        "team": redact(clean_text(rec.team)[:200]).text.strip() or None if rec.team else None,
        "thread_id": rec.thread_id,
        "created_at": rec.created_at,
        "priority": rec.priority,
        "staff_answer": staff,
        "follow_ups": [f for f in follow_ups if f.strip()],
    }


def _flush(session: Session, resolver: AccountResolver, batch: list[QuestionRecord], result: IngestResult) -> None:
    existing: dict[tuple[str, str], Question] = {}
    skipped_before: dict[tuple[str, str], SkippedMessage] = {}
    for source in {r.source for r in batch}:
        ids = [r.external_id for r in batch if r.source == source]
        query = select(Question).where(Question.source == source, col(Question.external_id).in_(ids))
        existing.update({(q.source, q.external_id): q for q in session.exec(query).all()})
        skips = select(SkippedMessage).where(SkippedMessage.source == source, col(SkippedMessage.external_id).in_(ids))
        skipped_before.update({(m.source, m.external_id): m for m in session.exec(skips).all()})
    batch = [rec for rec in batch if not _too_long(rec, result)]
    prepared: list[tuple[QuestionRecord, dict[str, Any]]] = []
    for rec, reason in zip(batch, skip_reasons(batch), strict=True):
        if reason is not None:
            _record_skip(session, rec, reason, existing, skipped_before, result)
        else:
            prepared.append((rec, _fields(rec)))
    follow_ups = [f for _, fields in prepared for f in fields["follow_ups"]]
    chatter = iter(chatter_kinds(follow_ups))
    for _, fields in prepared:
        # Follow-ups that add nothing ("thanks!", "works now") are dropped, the rest redacted like the question.
        fields["follow_ups"] = [redact(f).text for f in fields["follow_ups"] if next(chatter) is None]
    for (_, fields), language in zip(prepared, detect_languages([f["text"] for _, f in prepared]), strict=True):
        fields["language"] = language
    for rec, fields in prepared:
        key = (rec.source, rec.external_id)
        if (gone := skipped_before.pop(key, None)) is not None:
            session.delete(gone)  # skipped before, a question now (an edit): counted once, as a question
        q = existing.get(key)
        if q is None:
            q = Question(source=rec.source, external_id=rec.external_id, **fields)
            q.account_id = resolver.resolve(rec.hint)
            session.add(q)
            existing[key] = q
            result.added += 1
            continue
        changed = {k: v for k, v in fields.items() if getattr(q, k) != v}
        if not changed:
            result.unchanged += 1
            continue
        if "text" in changed:
            q.embedded = False
        for k, v in changed.items():
            setattr(q, k, v)
        if q.account_id is None:
            q.account_id = resolver.resolve(rec.hint)
        result.updated += 1
    session.commit()


def _record_skip(
    session: Session,
    rec: QuestionRecord,
    reason: str,
    existing: dict[tuple[str, str], Question],
    skipped_before: dict[tuple[str, str], SkippedMessage],
    result: IngestResult,
) -> None:
    """Count a skip and keep its row. A message already stored as a question stays stored: imports never delete."""
    key = (rec.source, rec.external_id)
    if key in existing:
        result.unchanged += 1
        return
    result.skip(reason)
    preview = redact(with_subject(rec.subject, clean_text(rec.text)) or rec.text).text[:PREVIEW_CHARS]
    row = skipped_before.get(key)
    if row is None:
        row = SkippedMessage(source=rec.source, external_id=rec.external_id, reason=reason, created_at=rec.created_at)
        session.add(row)
        skipped_before[key] = row
    row.reason, row.preview, row.created_at = reason, preview, rec.created_at
