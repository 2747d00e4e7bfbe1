"""Lexical retrieval over doc chunks: BM25 (bm25s) on the same text the dense side embeds.

Dense vectors miss exact terms a customer types (a menu path, an error code, a product name that only one page
uses); BM25 finds them. The index lives in process memory, built from the `Chunk` table on first use. It works
on any SQL database (SQLite today, PostgreSQL later), unlike SQLite FTS5.

Why a fingerprint and not a version counter: the CLI may re-index docs while the server runs, so the only
truth both processes share is the database. We read a fingerprint (chunk count, min and max chunk id, and every
document's id and content hash); an edited page changes its hash, a removed or added page changes the document
set, so any change to the chunk set rebuilds the index. It is read at most once a second (`REVALIDATE_SECONDS`):
reading it before every search was a sixth of a busy server's GIL time and grows with the number of pages.
Re-indexing in this process drops the cached index at once (`forget`); another process's re-index shows within
a second.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import Stemmer
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from core.models import Chunk, Document
from core.runtime import Runtime

if TYPE_CHECKING:
    import bm25s

_WORD = re.compile(r"(?u)\b\w\w+\b")
# bm25s's English list (kept here so importing this module does not import bm25s and scipy).
_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split()
)
_CACHED_DATABASES = 8
REVALIDATE_SECONDS = 1.0
"""How long a cached index is trusted before the database fingerprint is read again."""


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: int
    score: float
    document_id: int = 0


class Analyzer:
    """Lower-case words of two or more characters, English stop words dropped, Snowball-stemmed.

    Stemming lets "activating cards" match "activate your card"; both the index and the queries go through it.
    """

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
        return list(self._stemmer.stemWords(words))


BM25_K1 = 1.5
"""bm25s's default k1: one query term's score never exceeds idf × (k1 + 1), which bounds a query's best score."""


class LexicalIndex:
    """BM25 over a fixed set of chunk texts; `search` returns chunk ids with a positive score, best first.

    It also answers what answer confidence asks of the words (`retrieval.confidence`): each passage's set of terms
    and each term's inverse document frequency, so "how many of the question's rare words does this passage hold"
    costs set look-ups, not a re-analysis of the passage.
    """

    def __init__(
        self,
        chunk_ids: Sequence[int],
        texts: Sequence[str],
        analyzer: Analyzer | None = None,
        document_ids: Sequence[int] | None = None,
    ) -> None:
        self._analyzer = analyzer or Analyzer()
        self._ids = np.asarray(chunk_ids, dtype=np.int64)
        self._documents = np.asarray(document_ids if document_ids is not None else [0] * len(self._ids), np.int64)
        self._bm25: bm25s.BM25 | None = None
        tokens = [self._analyzer(t) for t in texts]
        self._terms = {int(i): frozenset(ts) for i, ts in zip(self._ids, tokens, strict=True)}
        self._df: dict[str, int] = {}
        for ts in self._terms.values():
            for t in ts:
                self._df[t] = self._df.get(t, 0) + 1
        if len(self._ids):
            import bm25s  # here, not at import: it pulls in scipy, and most commands never search

            self._bm25 = bm25s.BM25(k1=BM25_K1)
            # An empty token list would leave a passage out of bm25s's matrix; a placeholder keeps rows aligned.
            self._bm25.index([ts or ["\x00"] for ts in tokens], show_progress=False)

    def analyze(self, text: str) -> list[str]:
        return self._analyzer(text)

    def idf(self, term: str) -> float:
        """BM25's (Lucene) inverse document frequency; a term no passage has gets the highest value there is."""
        n, df = len(self._ids), self._df.get(term, 0)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def terms(self, chunk_id: int) -> frozenset[str]:
        """The analysed terms of a passage (empty for a chunk this index does not hold)."""
        return self._terms.get(chunk_id, frozenset())

    def best_possible(self, query: str) -> float:
        """An upper bound of any passage's BM25 score for `query`: Σ idf × (k1 + 1) over its terms, known or not.

        Dividing the best score by it gives a per-query 0–1 figure; words no passage has count in the bound, so a
        question about something the docs never name scores low even when its other words match well.
        """
        return sum(self.idf(t) for t in self._analyzer(query)) * (BM25_K1 + 1)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, n: int) -> list[LexicalHit]:
        if self._bm25 is None or n <= 0:
            return []
        tokens = [t for t in self._analyzer(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        top = np.argsort(-scores, kind="stable")[:n]
        return [LexicalHit(int(self._ids[i]), float(scores[i]), int(self._documents[i])) for i in top if scores[i] > 0]


class _IndexCache:
    """One `LexicalIndex` per database URL, rebuilt when the database's chunk fingerprint changes."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[str, float, LexicalIndex]] = OrderedDict()
        """Per database: (fingerprint, monotonic time it was last confirmed, index)."""
        self._lock = threading.Lock()
        self._analyzer = Analyzer()

    def get(self, engine: Engine) -> LexicalIndex:
        key = _key(engine)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and time.monotonic() - entry[1] < REVALIDATE_SECONDS:
                self._entries.move_to_end(key)
                return entry[2]
        with Session(engine) as session:
            stamp = fingerprint(session)
            if entry is not None and entry[0] == stamp:
                index = entry[2]
            else:
                index = _build(session, self._analyzer)
        with self._lock:
            self._entries[key] = (stamp, time.monotonic(), index)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return index

    def forget(self, engine: Engine) -> None:
        with self._lock:
            self._entries.pop(_key(engine), None)


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def fingerprint(session: Session) -> str:
    """A digest that changes whenever the set of chunks (or a page's content) changes."""
    count, low, high = session.exec(select(func.count(col(Chunk.id)), func.min(Chunk.id), func.max(Chunk.id))).one()
    h = hashlib.sha256(f"{count}:{low}:{high}".encode())
    for doc_id, content_hash in session.exec(
        select(Document.id, Document.content_hash).order_by(col(Document.id))
    ).all():
        h.update(f"|{doc_id}:{content_hash}".encode())
    return h.hexdigest()


def _build(session: Session, analyzer: Analyzer) -> LexicalIndex:
    # Imported here: retrieval.index imports this module for fusion.
    from retrieval.index import embedding_text

    rows = session.exec(
        select(Chunk.id, Chunk.section, Chunk.text, Document.title, Chunk.document_id)
        .join(Document, col(Chunk.document_id) == col(Document.id))
        .order_by(col(Chunk.id))
    ).all()
    return LexicalIndex(
        [r[0] or 0 for r in rows],
        [embedding_text(title, section, text) for _, section, text, title, _ in rows],
        analyzer,
        [r[4] for r in rows],
    )


_CACHE = _IndexCache(_CACHED_DATABASES)


def lexical_index(runtime: Runtime) -> LexicalIndex:
    """The process's BM25 index of this runtime's doc chunks, current with the database."""
    return _CACHE.get(runtime.engine)


def forget_lexical_index(runtime: Runtime) -> None:
    """Drop this process's index of the runtime's docs: the next search rebuilds it (after a re-index here)."""
    _CACHE.forget(runtime.engine)


def lexical_search(runtime: Runtime, query: str, n: int) -> list[LexicalHit]:
    """Up to `n` chunks matching `query`'s words by BM25, best first (none when no word is in the docs)."""
    return lexical_index(runtime).search(query, n)
