"""Embedding stored questions into the `questions` collection, in batches, resumable.

A question is marked embedded only after its vector is in the store, so a crash leaves the rest marked pending
and the next run embeds exactly those (upserts make a repeated batch harmless).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, func, select

from core.models import Question
from core.runtime import Runtime
from core.vectors import QUESTIONS

BATCH = 2048
"""Large on purpose: the model sorts each call's texts by length, so bigger calls waste less on padding (with 256,
end-to-end import ran at ~0.6× raw encode throughput; the model itself is batched by `embedding_batch_size`)."""


def pending_count(runtime: Runtime) -> int:
    with Session(runtime.engine) as session:
        return int(session.exec(select(func.count()).where(col(Question.embedded).is_(False))).one())


def embed_pending_questions(runtime: Runtime, progress: Callable[[int], None] | None = None) -> int:
    done = 0
    with Session(runtime.engine) as session:
        while True:
            batch = session.exec(
                select(Question).where(col(Question.embedded).is_(False)).order_by(col(Question.id)).limit(BATCH)
            ).all()
            if not batch:
                return done
            vectors = runtime.embedder.embed([q.text for q in batch])
            runtime.vectors.upsert(
                QUESTIONS,
                [str(q.id) for q in batch],
                vectors,
                [{"account_id": q.account_id or 0, "source": q.source} for q in batch],
            )
            for q in batch:
                q.embedded = True
            session.commit()
            done += len(batch)
            if progress:
                progress(len(batch))
