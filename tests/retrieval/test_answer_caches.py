"""The per-process caches on the answer path return what an uncached answer would, and notice changes."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlmodel import Session, col, select

from docgap.embedding import SentenceTransformerEmbedder
from docgap.models import Topic
from docgap.runtime import Runtime
from retrieval.centroids import CentroidCache
from retrieval.embed_cache import EmbeddingCache
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
