"""The per-process caches on the answer path return what an uncached answer would, and notice changes."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, col, select

from core.embedding import SentenceTransformerEmbedder
from core.models import Chunk, Topic
from core.runtime import Runtime
from retrieval.centroids import CentroidCache
from retrieval.embed_cache import EmbeddingCache, QueryBatcher
from tests.conftest import make_runtime


class Counting:
    """The real model, counting the texts it is asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner, self.name, self.dimension, self.embedded = inner, inner.name, inner.dimension, 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.inner.embed(texts)


def test_embedding_cache_embeds_each_text_once_and_matches_the_model(embedder: SentenceTransformerEmbedder) -> None:
    counting, cache = Counting(embedder), EmbeddingCache(max_entries=3)
    texts = ["Cards arrive in 3 to 5 days.", "Change your PIN at any ATM.", "Cards arrive in 3 to 5 days."]
    first = cache.embed(counting, texts)
    assert counting.embedded == 2 and first.shape == (3, embedder.dimension)
    assert np.allclose(first, embedder.embed(texts), atol=1e-5)
    cache.embed(counting, texts[:2])
    assert counting.embedded == 2, "cached texts are not embedded again"
    cache.embed(counting, ["a", "b"])
    assert len(cache) == 3, "the cache stays bounded"
    assert cache.embed(counting, []).shape == (0, embedder.dimension)


def test_centroid_cache_follows_topic_changes(demo_runtime: Runtime, tmp_path: Path) -> None:
    shutil.copytree(demo_runtime.settings.data_dir, tmp_path / "data")
    rt = make_runtime(tmp_path / "data", demo_runtime.embedder)
    with Session(rt.engine) as s:
        topic = s.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).first()
        assert topic is not None
    cache, vec = CentroidCache(), np.asarray(topic.centroid, dtype=np.float32)
    assert cache.nearest(rt, vec, 0.5) == (topic.id, topic.label)
    with Session(rt.engine) as s:
        row = s.get(Topic, topic.id)
        assert row is not None
        row.label = "renamed by a writer"
        s.commit()
    assert cache.nearest(rt, vec, 0.5) == (topic.id, "renamed by a writer"), "labels are read fresh"
    with Session(rt.engine) as s:
        row = s.get(Topic, topic.id)
        assert row is not None
        row.active = False
        s.commit()
    assert cache.nearest(rt, vec, 0.5)[0] != topic.id, "a retired topic is no longer matched"


def test_centroid_cache_without_topics(fresh_runtime: Runtime) -> None:
    assert CentroidCache().nearest(fresh_runtime, np.ones(384, dtype=np.float32), 0.5) == (None, None)


class Slow(Counting):
    """The real model, recording each call's size; the first call lingers so concurrent callers queue behind it."""

    def __init__(self, inner: SentenceTransformerEmbedder, fail_on: str | None = None) -> None:
        super().__init__(inner)
        self.calls: list[int] = []
        self.fail_on = fail_on

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if len(self.calls) == 1:
            time.sleep(0.3)
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return super().embed(texts)


def test_concurrent_questions_share_calls_and_get_their_own_vectors(embedder: SentenceTransformerEmbedder) -> None:
    questions = [f"How do I change the PIN of card number {i}?" for i in range(16)]
    model, batcher = Slow(embedder), QueryBatcher(max_batch=8)
    with ThreadPoolExecutor(16) as pool:
        vectors = list(pool.map(lambda q: batcher.embed(model, q), questions))
    alone = embedder.embed(questions)
    for q, v, w in zip(questions, vectors, alone, strict=True):
        assert np.allclose(v, w, atol=1e-5), f"{q!r} got another text's vector"
    assert model.embedded == 16 and max(model.calls) <= 8
    assert len(model.calls) < 16, f"no coalescing: {model.calls}"


def test_a_failed_batch_fails_its_callers_and_the_next_one_works(embedder: SentenceTransformerEmbedder) -> None:
    model, batcher = Slow(embedder, fail_on="boom"), QueryBatcher()
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.embed, model, "first")
        time.sleep(0.05)  # "boom" and "ok" queue behind the lingering first call, and share the next one
        failing = [pool.submit(batcher.embed, model, t) for t in ("boom", "ok")]
        assert first.result().shape == (embedder.dimension,)
        for f in failing:
            with pytest.raises(RuntimeError, match="model failed"):
                f.result()
    assert model.calls == [1, 2]
    assert np.allclose(batcher.embed(model, "ok"), embedder.embed(["ok"])[0], atol=1e-5)


def test_the_served_sentence_cache_takes_in_docs_imported_while_it_runs(fresh_runtime: Runtime, tmp_path: Path) -> None:
    """Docs come in through another process while the server runs; their sentences are embedded without a request."""
    import threading
    import uuid

    from retrieval.answer import keep_sentence_cache_warm
    from retrieval.embed_cache import SENTENCES
    from retrieval.sentences import sentences
    from usecases.pipeline import import_docs

    marker = uuid.uuid4().hex[:8]  # the cache is per process: sentences no other test has embedded
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "limits.md").write_text(
        f"# Transfer limits {marker}\n\nEach workspace {marker} may send up to 40 transfers a day. Limits reset at "
        f"midnight in the workspace's time zone.\n\nAsk support to raise the limit for workspace {marker}.\n"
    )
    stop = threading.Event()
    warmer = threading.Thread(target=keep_sentence_cache_warm, args=(fresh_runtime, stop, 0.2), daemon=True)
    warmer.start()
    try:
        time.sleep(0.5)  # warmed once with no docs
        assert import_docs(fresh_runtime, docs, "handbook").ok
        with Session(fresh_runtime.engine) as session:
            wanted = {(fresh_runtime.embedder.name, s) for t in session.exec(select(Chunk.text)).all()
                      for _, s in sentences(t)}  # fmt: skip
        assert wanted and any(marker in s for _, s in wanted)
        deadline = time.monotonic() + 30
        while not wanted <= set(SENTENCES._vectors):
            assert time.monotonic() < deadline, "the imported docs' sentences were not embedded within 30 s"
            time.sleep(0.2)
    finally:
        stop.set()
        warmer.join(timeout=30)
    assert not warmer.is_alive()
