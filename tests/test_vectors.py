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


def test_vectors_come_back_in_the_order_asked_across_batches_and_a_missing_id_is_an_error(tmp_path: Path) -> None:
    store = VectorStore.open("", tmp_path / "chroma", "model-a", 4)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12_000, 4)).astype(np.float32)
    ids = [str(i) for i in range(len(vectors))]
    store.upsert("questions", ids, vectors)
    order = rng.permutation(len(ids))  # spans three batches of 5,000, each out of order
    asked = [ids[i] for i in order] + ["7", "7"]  # a repeated id is given at each place it is asked
    got = store.get_vectors("questions", asked)
    assert got.dtype == np.float32 and got.shape == (len(asked), 4)
    assert np.allclose(got[: len(order)], vectors[order]) and np.allclose(got[-2:], vectors[[7, 7]])
    with pytest.raises(KeyError, match=r"1 ids missing .*first: nope"):
        store.get_vectors("questions", ["3", "nope", "5"])
