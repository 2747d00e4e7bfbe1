"""The doc index: documents and chunks in SQL, their vectors in the `doc_chunks` collection.

Re-indexing a source only re-chunks and re-embeds pages whose content hash changed, and removes pages that
disappeared from it, so running `ingest docs` again after an edit is cheap and leaves no stale passages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from docgap.models import Chunk, Document
from docgap.runtime import Runtime
from docgap.vectors import DOC_CHUNKS
from ingest.docs import DocumentRecord
from ingest.records import IngestError, IngestResult
from retrieval.chunking import chunk_markdown


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    title: str
    url: str
    section: str
    text: str
    score: float


def index_documents(
    runtime: Runtime,
    source: str,
    items: Iterable[DocumentRecord | IngestError],
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    result = IngestResult()
    with Session(runtime.engine, expire_on_commit=False) as session:
        current = {d.url: d for d in session.exec(select(Document).where(Document.source == source)).all()}
        seen: set[str] = set()
        for item in items:
            if isinstance(item, IngestError):
                result.errors.append(item)
                continue
            seen.add(item.url)
            doc = current.get(item.url)
            if doc is not None and doc.content_hash == item.content_hash:
                result.unchanged += 1
                continue
            if doc is None:
                doc = Document(
                    source=source, url=item.url, title=item.title, content_hash="", updated_at=runtime.clock()
                )
                session.add(doc)
                session.flush()
                result.added += 1
            else:
                _drop_chunks(runtime, session, doc)
                result.updated += 1
            doc.title, doc.content_hash, doc.updated_at = item.title, item.content_hash, runtime.clock()
            chunks = [
                Chunk(document_id=doc.id, ordinal=i, section=c.section, anchor=c.anchor, text=c.text)  # type: ignore[arg-type]
                for i, c in enumerate(chunk_markdown(item.text))
            ]
            session.add_all(chunks)
            session.flush()
            vectors = runtime.embedder.embed([embedding_text(doc.title, c.section, c.text) for c in chunks])
            runtime.vectors.upsert(
                DOC_CHUNKS, [str(c.id) for c in chunks], vectors, [{"document_id": doc.id} for c in chunks]
            )
            session.commit()
            if progress:
                progress(1)
        for url, doc in current.items():
            if url not in seen:
                _drop_chunks(runtime, session, doc)
                session.delete(doc)
                result.updated += 1
        session.commit()
    return result


def embedding_text(title: str, section: str, text: str) -> str:
    """What is embedded for a passage: the page title and section give a short passage its subject."""
    return f"{title} — {section}\n{text}" if section else f"{title}\n{text}"


def _drop_chunks(runtime: Runtime, session: Session, doc: Document) -> None:
    old = session.exec(select(Chunk).where(Chunk.document_id == doc.id)).all()
    runtime.vectors.delete(DOC_CHUNKS, [str(c.id) for c in old])
    for c in old:
        session.delete(c)
    session.flush()


def search(runtime: Runtime, vector: np.ndarray, k: int = 5) -> list[Passage]:
    """The `k` passages closest to a query vector, best first."""
    hits = runtime.vectors.query(DOC_CHUNKS, vector, k)
    if not hits:
        return []
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Chunk, Document)
            .join(Document, col(Chunk.document_id) == col(Document.id))
            .where(col(Chunk.id).in_([int(h.id) for h in hits]))
        ).all()
    by_id = {c.id: (c, d) for c, d in rows}
    out = []
    for h in hits:
        if int(h.id) not in by_id:
            continue  # vector without a row: a crashed re-index; `docgap reindex` repairs it
        c, d = by_id[int(h.id)]
        url = f"{d.url}#{c.anchor}" if c.anchor else d.url
        out.append(Passage(c.id or 0, d.title, url, c.section, c.text, round(h.similarity, 4)))
    return out
