"""Persisting normalized records: idempotent by (source, external_id), committed in batches.

A re-run adds nothing; an edited message updates its question and marks it for re-embedding. Committing every
batch means a crash loses at most the batch in flight, and the next run picks up from there (already stored
records are recognised as unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from docgap.models import Question
from ingest.accounts import AccountResolver
from ingest.detection import detect_languages, is_question
from ingest.normalize import author_hash, clean_text, is_noise
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.redact import redact

BATCH = 500
MAX_TEXT_CHARS = 20_000
"""Longer messages are pasted logs or attachments, not questions: reported as errors, not stored."""


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


def _prepare(rec: QuestionRecord, result: IngestResult) -> dict[str, Any] | None:
    """The stored fields of a record: cleaned, checked to be a question, PII redacted; None to skip it."""
    if len(rec.text) > MAX_TEXT_CHARS:
        result.errors.append(
            IngestError(
                rec.source, rec.external_id, f"message of {len(rec.text):,} characters exceeds {MAX_TEXT_CHARS:,}"
            )
        )
        return None
    text = with_subject(rec.subject, clean_text(rec.text))
    if is_noise(text) or not is_question(text):
        result.skipped += 1
        return None
    body = redact(text)
    staff = redact(clean_text(rec.staff_answer)[:MAX_TEXT_CHARS]).text if rec.staff_answer else None
    follow_ups = [clean_text(f[:MAX_TEXT_CHARS]) for f in rec.follow_ups]
    return {
        "text": body.text,
        "redactions": body.counts,
        "account_hint": rec.hint.as_dict(),
        "author_hash": author_hash(rec.author),
        "channel": rec.channel,
        "thread_id": rec.thread_id,
        "created_at": rec.created_at,
        "priority": rec.priority,
        "staff_answer": staff,
        "follow_ups": [redact(f).text for f in follow_ups if not is_noise(f)],
    }


def _flush(session: Session, resolver: AccountResolver, batch: list[QuestionRecord], result: IngestResult) -> None:
    existing: dict[tuple[str, str], Question] = {}
    for source in {r.source for r in batch}:
        ids = [r.external_id for r in batch if r.source == source]
        query = select(Question).where(Question.source == source, col(Question.external_id).in_(ids))
        existing.update({(q.source, q.external_id): q for q in session.exec(query).all()})
    prepared = [(rec, fields) for rec in batch if (fields := _prepare(rec, result)) is not None]
    for (_, fields), language in zip(prepared, detect_languages([f["text"] for _, f in prepared]), strict=True):
        fields["language"] = language
    for rec, fields in prepared:
        q = existing.get((rec.source, rec.external_id))
        if q is None:
            q = Question(source=rec.source, external_id=rec.external_id, **fields)
            q.account_id = resolver.resolve(rec.hint)
            session.add(q)
            existing[(rec.source, rec.external_id)] = q
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
