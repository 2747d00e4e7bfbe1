"""Persisting normalized records: idempotent by (source, external_id), committed in batches.

A re-run adds nothing; an edited message updates its question and marks it for re-embedding. Committing every
batch means a crash loses at most the batch in flight, and the next run picks up from there (already stored
records are recognised as unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from docgap.models import Question
from ingest.accounts import AccountResolver
from ingest.normalize import author_hash, clean_text, is_noise
from ingest.records import IngestError, IngestResult, QuestionRecord

BATCH = 500


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


def with_subject(subject: str | None, body: str) -> str:
    """Subject line + body, unless the body already says it.

    Web-form subjects are often the body's first words cut off with "...", and saying it twice would weigh those
    words double in the embedding.
    """
    stem = " ".join((subject or "").rstrip(".… ").lower().split())
    if not stem or stem in " ".join(body.lower().split()):
        return body or (subject or "")
    return f"{subject}\n{body}" if body else subject or ""


def _flush(session: Session, resolver: AccountResolver, batch: list[QuestionRecord], result: IngestResult) -> None:
    existing: dict[tuple[str, str], Question] = {}
    for source in {r.source for r in batch}:
        ids = [r.external_id for r in batch if r.source == source]
        query = select(Question).where(Question.source == source, col(Question.external_id).in_(ids))
        existing.update({(q.source, q.external_id): q for q in session.exec(query).all()})
    for rec in batch:
        text = with_subject(rec.subject, clean_text(rec.text))
        if is_noise(text):
            result.skipped += 1
            continue
        fields = {
            "text": text,
            "account_hint": rec.hint.as_dict(),
            "author_hash": author_hash(rec.author),
            "channel": rec.channel,
            "thread_id": rec.thread_id,
            "created_at": rec.created_at,
            "priority": rec.priority,
            "staff_answer": clean_text(rec.staff_answer) if rec.staff_answer else None,
            "follow_ups": [clean_text(f) for f in rec.follow_ups if not is_noise(clean_text(f))],
        }
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
