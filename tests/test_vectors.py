from pathlib import Path

import numpy as np
import pytest

from core.vectors import IndexMismatchError, VectorStore


def test_model_mismatch_is_an_error_that_says_reindex(tmp_path: Path) -> None:
    store = VectorStore.open("", tmp_path / "chroma", "model-a", 3)
    store.upsert("questions", ["1"], np.array([[1.0, 0.0, 0.0]]))
    other = VectorStore.open("", tmp_path / "chroma", "model-b", 3)
    with pytest.raises(IndexMismatchError, match="docgap reindex"):
        other.count("questions")


def test_chroma_never_embeds_text_itself(tmp_path: Path) -> None:
    store = VectorStore.open("", tmp_path / "chroma", "model-a", 3)
    col = store._collection("questions")
    with pytest.raises(Exception, match="docgap passes embeddings explicitly"):
        col.add(ids=["x"], documents=["text that Chroma would otherwise embed with a downloaded model"])
    store.upsert("questions", ["a", "b"], np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    hits = store.query("questions", np.array([0.9, 0.1, 0.0]), k=2)
    assert [h.id for h in hits] == ["a", "b"] and hits[0].similarity > 0.9
    assert np.allclose(store.get_vectors("questions", ["b", "a"]), [[0, 1, 0], [1, 0, 0]])
