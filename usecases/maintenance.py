"""Re-embedding everything after the embedding model changed (the fix the index-mismatch error points to)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, func, select, update

from core.models import Chunk, Document, Question
from core.runtime import Runtime
from core.vectors import DOC_CHUNKS, QUESTIONS
from ingest.embed import embed_pending_questions
from retrieval.index import embedding_text

BATCH = 256


def reindex_all(runtime: Runtime, progress: Callable[[str, int | None], Callable[[int], None]]) -> tuple[int, int]:
    runtime.vectors.reset(QUESTIONS)
    runtime.vectors.reset(DOC_CHUNKS)
    with Session(runtime.engine) as session:
        session.exec(update(Question).values(embedded=False))  # type: ignore[call-overload]
        session.commit()
        n_chunks = int(session.exec(select(func.count()).select_from(Chunk)).one())
        n_questions = int(session.exec(select(func.count()).select_from(Question)).one())
        advance = progress("embedding passages", n_chunks)
        last = 0
        while True:
            rows = session.exec(
                select(Chunk, Document.title)
                .join(Document, col(Chunk.document_id) == col(Document.id))
                .where(col(Chunk.id) > last)
                .order_by(col(Chunk.id))
                .limit(BATCH)
            ).all()
            if not rows:
                break
            texts = [embedding_text(title, c.section, c.text) for c, title in rows]
            runtime.vectors.upsert(
                DOC_CHUNKS,
                [str(c.id) for c, _ in rows],
                runtime.embedder.embed(texts),
                [{"document_id": c.document_id} for c, _ in rows],
            )
            last = rows[-1][0].id or last
            advance(len(rows))
    embed_pending_questions(runtime, progress("embedding questions", n_questions))
    return n_questions, n_chunks
