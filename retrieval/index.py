"""The doc index: documents and chunks in SQL, their vectors in the `doc_chunks` collection, and hybrid search.

Search fuses the dense (vector) ranking with a lexical BM25 ranking (`retrieval.lexical`); how is the setting
`DOCGAP_RETRIEVAL_FUSION` (see `search`, and `bench/retrieval.py` for the measurements behind the defaults).

Re-indexing a source only re-chunks and re-embeds pages whose content hash changed, and removes pages that
disappeared from it, so running `ingest docs` again after an edit is cheap and leaves no stale passages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sqlmodel import Session, col, select

from core.models import Chunk, Document
from core.runtime import Runtime
from core.vectors import DOC_CHUNKS, Hit
from ingest.docs import DocumentRecord
from ingest.records import IngestError, IngestResult
from retrieval.chunking import chunk_document
from retrieval.lexical import LexicalHit, forget_lexical_index, lexical_search

FUSION_DEPTH = 30
"""How many passages each side (dense, lexical) contributes to fusion."""
RRF_K = 20
"""Reciprocal-rank-fusion constant (60 in Cormack et al.): it damps how much the very top ranks dominate; 20, and
the weight below, won on the tuning half of the demo intents (`bench/retrieval.py`)."""
RRF_LEXICAL_WEIGHT = 0.5
"""The BM25 ranking's weight in RRF (the dense ranking's is 1): BM25 alone is much weaker than dense here."""
LEXICAL_WEIGHT = 0.15
"""Cosine points a passage gains for the query's best BM25 score; tuned on half the demo intents (bench)."""
Fusion = Literal["score", "rrf", "dense"]


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    title: str
    url: str
    section: str
    text: str
    score: float
    document_id: int = 0


@dataclass(frozen=True)
class DenseHit:
    chunk_id: int
    document_id: int
    cosine: float


@dataclass(frozen=True)
class Retrieval:
    """What one search found: the fused passages, and both sides' rankings that answer confidence reads."""

    passages: list[Passage]
    dense: list[DenseHit]
    """The dense side's candidates, best first (empty when the search had no vector side to report)."""
    lexical: list[LexicalHit]
    """BM25's candidates, best first (empty without query text)."""


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
                seen.add(item.file)  # a page that failed this time keeps its passages until it leaves the source
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
                for i, c in enumerate(chunk_document(item))
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
    if result.added or result.updated:
        forget_lexical_index(runtime)
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


def search(
    runtime: Runtime,
    vector: np.ndarray,
    k: int = 5,
    query_text: str | None = None,
    depth: int = FUSION_DEPTH,
    lexical_weight: float | None = None,
    fusion: Fusion | None = None,
) -> list[Passage]:
    """The `k` best passages for a query, best first (`retrieve` with only its passages)."""
    return retrieve(runtime, vector, k, query_text, depth, lexical_weight, fusion).passages


def retrieve(
    runtime: Runtime,
    vector: np.ndarray,
    k: int = 5,
    query_text: str | None = None,
    depth: int = FUSION_DEPTH,
    lexical_weight: float | None = None,
    fusion: Fusion | None = None,
) -> Retrieval:
    """The `k` best passages for a query, best first, with the dense and lexical candidates they were fused from.

    With `query_text`, the dense (Chroma) and lexical (BM25) top-`depth` candidates are merged as `fusion` says
    (default: the `retrieval_fusion` setting). "score" ranks each candidate by its cosine plus `lexical_weight`
    (default `LEXICAL_WEIGHT`) × its BM25 score relative to the query's best BM25 score, so a passage that shares
    the question's rare words can overtake one only slightly closer in meaning, and one found only by its words
    can enter the list. "rrf" (the default setting) is weighted reciprocal rank fusion (`lexical_weight` default
    `RRF_LEXICAL_WEIGHT`): BM25 on short colloquial questions is much weaker than the dense side, and unweighted
    RRF, which gives both an equal say, ranks worse than dense alone. On held-out demo intents weighted RRF is the
    one variant that beats both dense and BM25 on recall@1/5/10 and MRR; "score" has the better recall@1 and MRR
    but only ties dense on recall@5 (`bench/retrieval.py`). "dense" ignores the text.
    Without `query_text`: dense only (callers that hold vectors but no text, e.g. coverage over stored vectors).
    Either way `Passage.score` is the cosine similarity of the passage to `vector` (a passage found only lexically
    gets its cosine from its stored vector): answer confidence reads cosines beside the BM25 side.
    """
    fusion = fusion or runtime.settings.retrieval_fusion
    if not query_text or fusion == "dense":
        hits = _dense(runtime.vectors.query(DOC_CHUNKS, vector, k))
        return Retrieval(_passages(runtime, [(h.chunk_id, h.cosine) for h in hits]), hits, [])
    dense = runtime.vectors.query(DOC_CHUNKS, vector, max(k, depth))
    lexical = lexical_search(runtime, query_text, max(k, depth))
    cosines = {int(h.id): h.similarity for h in dense}
    cosines.update(_cosines(runtime, vector, [h.chunk_id for h in lexical if h.chunk_id not in cosines]))
    if fusion == "rrf":
        weight = RRF_LEXICAL_WEIGHT if lexical_weight is None else lexical_weight
        order = reciprocal_rank_fusion([[int(h.id) for h in dense], [h.chunk_id for h in lexical]], [1.0, weight])
    else:
        weight = LEXICAL_WEIGHT if lexical_weight is None else lexical_weight
        top_bm25 = lexical[0].score if lexical else 1.0
        bonus = {h.chunk_id: weight * h.score / top_bm25 for h in lexical}
        order = sorted(cosines, key=lambda i: -(cosines[i] + bonus.get(i, 0.0)))
    passages = _passages(runtime, [(i, cosines[i]) for i in order if i in cosines][:k])
    return Retrieval(passages, _dense(dense), lexical)


def _dense(hits: list[Hit]) -> list[DenseHit]:
    return [DenseHit(int(h.id), int(h.metadata.get("document_id") or 0), h.similarity) for h in hits]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[int]:
    """Ids ordered by the sum of weight / (k + rank) over the rankings they appear in (rank 1 = first).

    RRF needs no score calibration between BM25 and cosine, which live on unrelated scales (Cormack et al. 2009).
    Ties keep the order of first appearance, so the first ranking wins them.
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda i: -fused[i])


def _cosines(runtime: Runtime, vector: np.ndarray, chunk_ids: list[int]) -> dict[int, float]:
    """Cosine of `vector` to each chunk's stored vector; chunks without a vector (a crashed re-index) are left out."""
    if not chunk_ids:
        return {}
    ids = [str(i) for i in chunk_ids]
    try:
        stored = runtime.vectors.get_vectors(DOC_CHUNKS, ids)
    except KeyError:
        found = {}
        for i in ids:
            try:
                found[i] = runtime.vectors.get_vectors(DOC_CHUNKS, [i])[0]
            except KeyError:
                continue
        ids = list(found)
        stored = np.asarray([found[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)
    q = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(stored, axis=1) * (np.linalg.norm(q) or 1.0)
    sims = (stored @ q) / np.where(norms == 0, 1.0, norms)
    return {int(i): float(s) for i, s in zip(ids, sims, strict=True)}


def _passages(runtime: Runtime, scored: list[tuple[int, float]]) -> list[Passage]:
    """Passages for (chunk id, cosine) pairs, in the given order."""
    if not scored:
        return []
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Chunk, Document)
            .join(Document, col(Chunk.document_id) == col(Document.id))
            .where(col(Chunk.id).in_([i for i, _ in scored]))
        ).all()
    by_id = {c.id: (c, d) for c, d in rows}
    out = []
    for chunk_id, similarity in scored:
        if chunk_id not in by_id:
            continue  # vector without a row: a crashed re-index; `docgap reindex` repairs it
        c, d = by_id[chunk_id]
        url = f"{d.url}#{c.anchor}" if c.anchor else d.url
        out.append(Passage(c.id or 0, d.title, url, c.section, c.text, round(similarity, 4), d.id or 0))
    return out
