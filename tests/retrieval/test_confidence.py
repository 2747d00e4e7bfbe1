"""Answer confidence: signals from a real index, the calibrated score, and where its profile comes from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.abstention import auroc
from core.embedding import SentenceTransformerEmbedder
from core.profiles import Calibration, ModelProfile, load_profile, save_profile, user_profile_path
from core.runtime import Runtime
from demo import HELPCENTER_DIR
from retrieval.answer import answer_question
from retrieval.confidence import NO_SIGNALS, answer_threshold, confidence, key_terms, measure, profile
from retrieval.index import retrieve
from retrieval.lexical import lexical_index
from tests.conftest import make_runtime
from usecases.pipeline import import_docs

QUESTION = "I got a refund from a shop but it is not in my account yet"
GOLD = "payments/refunds.md"


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """The help center's card pages, copied so a test can take one away."""
    root = tmp_path_factory.mktemp("cards-docs")
    shutil.copytree(HELPCENTER_DIR / "cards", root / "cards")
    shutil.copytree(HELPCENTER_DIR / "payments", root / "payments")
    return root


def _ask(rt: Runtime, question: str) -> tuple[float, dict[str, float]]:
    qvec = rt.embedder.embed([question])[0]
    found = retrieve(rt, qvec, 5, query_text=question)
    signals = measure(rt, question, qvec, found)
    return confidence(rt, signals), signals.as_dict()


def test_removing_the_answering_page_lowers_confidence_below_the_bar(
    cards: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Leave-gold-out in miniature, through the real indexer: the same question, with and without its page."""
    docs = tmp_path / "docs"
    shutil.copytree(cards, docs)
    rt = make_runtime(tmp_path / "data", embedder)
    assert import_docs(rt, docs, "docs").ok
    present, with_gold = _ask(rt, QUESTION)
    (docs / GOLD).unlink()
    assert import_docs(rt, docs, "docs").ok
    removed, without_gold = _ask(rt, QUESTION)
    assert present >= answer_threshold(rt) > removed, (with_gold, without_gold)
    assert present - removed > 0.2, "not a hair either side of the bar"
    assert with_gold["sentence"] > without_gold["sentence"], "the answering sentence went with its page"


def test_a_question_about_what_the_docs_never_name_scores_low(cards: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(tmp_path / "data", embedder)
    assert import_docs(rt, cards, "docs").ok
    index = lexical_index(rt)
    assert key_terms(index, "How do I set up Bixby voice commands?") == ["set", "bixbi", "voic", "command"]
    bixby, signals = _ask(rt, "How do I set up Bixby voice commands on my TV?")
    assert signals["terms"] < 0.5, "the rarest words, which no passage has, weigh the most"
    assert bixby < answer_threshold(rt)
    answer = answer_question(rt, "How do I set up Bixby voice commands on my TV?", record=False)
    assert not answer.covered and answer.confidence == bixby


def test_nothing_indexed_gives_no_signals(fresh_runtime: Runtime) -> None:
    qvec = fresh_runtime.embedder.embed(["anything"])[0]
    assert measure(fresh_runtime, "anything", qvec, retrieve(fresh_runtime, qvec, 5, query_text="anything")) == (
        NO_SIGNALS
    )


def test_the_calibration_is_a_logistic_model_over_standardised_signals() -> None:
    cal = Calibration(("a", "b"), (1.0, 0.0), (2.0, 1.0), (1.5, -0.5), 0.0)
    assert cal.probability({"a": 1.0, "b": 0.0}) == pytest.approx(0.5)
    assert cal.probability({"a": 3.0, "b": 0.0}) == pytest.approx(1 / (1 + 2.718281828**-1.5), rel=1e-6)
    assert cal.probability({"a": 1.0, "b": 2.0}) < 0.5 < cal.probability({"a": 2.0, "b": 0.0})
    assert cal.probability({"a": 1e9, "b": 0.0}) == pytest.approx(1.0), "no overflow far out"


def test_packaged_profiles_and_a_borrowed_one(tmp_path: Path) -> None:
    minilm = load_profile("all-MiniLM-L6-v2")
    assert minilm.source == "packaged" and minilm.model == "all-MiniLM-L6-v2"
    assert 0 < minilm.coverage_missing <= minilm.coverage_covered < 1 and 0 < minilm.answer_min_confidence < 1
    assert set(minilm.calibration.features) <= set(NO_SIGNALS.as_dict())
    usem3 = load_profile("usem3")
    assert usem3.source == "packaged" and usem3.model == "universal-sentence-encoder-multilingual-3"
    assert usem3.calibration != minilm.calibration, "each model has its own calibration"
    other = load_profile(str(tmp_path / "my-model"), tmp_path)
    assert other.source.startswith("borrowed from all-MiniLM-L6-v2") and "bench.abstention --fit" in other.source
    assert other.calibration == minilm.calibration


def test_a_calibration_written_to_the_data_dir_wins(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    rt = make_runtime(tmp_path / "data", embedder)
    mine = ModelProfile(
        "all-MiniLM-L6-v2", Calibration(("cosine",), (0.5,), (0.1,), (2.0,), 0.0), 0.3, 0.4, 0.2, ["mine"]
    )
    save_profile(mine, user_profile_path(rt.settings.data_dir, embedder.name))
    loaded = profile(rt)
    assert loaded.calibration == mine.calibration and loaded.answer_min_confidence == 0.3
    assert loaded.source.endswith("all-MiniLM-L6-v2.json")
    assert answer_threshold(rt) == 0.3
    assert answer_threshold(make_runtime(tmp_path / "data", embedder, answer_min_confidence=0.7)) == 0.7, (
        "DOCGAP_ANSWER_MIN_CONFIDENCE overrides the profile"
    )


def test_auroc_counts_ties_as_half() -> None:
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False]) == 0.5
    assert auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False]) == pytest.approx(0.875)
