import shutil
from pathlib import Path

import numpy as np
import pytest

from core.embedding import SentenceTransformerEmbedder
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import DOC_CHUNKS
from demo import HELPCENTER_DIR
from retrieval.index import reciprocal_rank_fusion, search
from retrieval.lexical import lexical_search
from tests.conftest import make_runtime
from usecases.pipeline import import_docs

# Only developers/api-overview.md uses this header name; the passage about it ("Limits and good practice") is
# about rate limits and retries, so its meaning is far from the two words a developer types.
EXACT_TERM = "Idempotency-Key"
EXACT_URL = "api-overview.md#limits-and-good-practice"


@pytest.fixture(scope="module")
def docs_runtime(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Runtime:
    """Two help-center sections indexed once for the read-only tests below."""
    tmp = tmp_path_factory.mktemp("hybrid")
    shutil.copytree(HELPCENTER_DIR / "developers", tmp / "docs" / "developers")
    shutil.copytree(HELPCENTER_DIR / "cards", tmp / "docs" / "cards")
    runtime = make_runtime(tmp / "data", embedder)
    assert import_docs(runtime, tmp / "docs", "docs").ok
    return runtime


def _urls(passages: list) -> list[str]:  # type: ignore[type-arg]
    return [p.url for p in passages]


def test_lexical_finds_an_exact_term_that_dense_ranks_lower(docs_runtime: Runtime) -> None:
    lexical = lexical_search(docs_runtime, EXACT_TERM, 5)
    vector = docs_runtime.embedder.embed([EXACT_TERM])[0]
    dense = search(docs_runtime, vector, k=5)
    fused = search(docs_runtime, vector, k=5, query_text=EXACT_TERM)
    lexical_top = search(docs_runtime, vector, k=50)  # dense ranking of everything, to find where it ranks the term
    dense_rank = next(i for i, u in enumerate(_urls(lexical_top)) if u.endswith(EXACT_URL))
    assert lexical, "BM25 matches the header name"
    top_chunk = next(p for p in fused if p.chunk_id == lexical[0].chunk_id)
    assert top_chunk.url.endswith(EXACT_URL)
    assert not any(u.endswith(EXACT_URL) for u in _urls(dense)), f"dense ranks it {dense_rank + 1}, outside the top 5"
    assert any(u.endswith(EXACT_URL) for u in _urls(fused[:3])), "fusion lifts the exact match near the top"


def test_fused_results_include_both_sides(docs_runtime: Runtime) -> None:
    query = "card.frozen event"
    vector = docs_runtime.embedder.embed([query])[0]
    dense_ids = {p.chunk_id for p in search(docs_runtime, vector, k=5)}
    lexical_ids = {h.chunk_id for h in lexical_search(docs_runtime, query, 5)}
    fused_ids = {p.chunk_id for p in search(docs_runtime, vector, k=5, query_text=query)}
    assert fused_ids & dense_ids, "the dense side's best passages stay"
    assert (fused_ids & lexical_ids) - dense_ids, "a passage only BM25 found enters the list"


@pytest.mark.parametrize("fusion", ["score", "rrf"])
def test_scores_are_the_dense_cosines(docs_runtime: Runtime, fusion: str) -> None:
    query = f"{EXACT_TERM} header for retries"
    vector = docs_runtime.embedder.embed([query])[0]
    fused = search(docs_runtime, vector, k=8, query_text=query, fusion=fusion)  # type: ignore[arg-type]
    stored = docs_runtime.vectors.get_vectors(DOC_CHUNKS, [str(p.chunk_id) for p in fused])
    expected = stored @ vector / (np.linalg.norm(stored, axis=1) * np.linalg.norm(vector))
    assert len(fused) == 8
    assert all(-1.0 <= p.score <= 1.0 for p in fused)
    assert [p.score for p in fused] == pytest.approx(expected.tolist(), abs=1e-3)
    dense_scores = {p.chunk_id: p.score for p in search(docs_runtime, vector, k=8)}
    assert all(p.score == dense_scores[p.chunk_id] for p in fused if p.chunk_id in dense_scores)


def test_without_query_text_search_is_dense_only(docs_runtime: Runtime) -> None:
    vector = docs_runtime.embedder.embed([EXACT_TERM])[0]
    hits = docs_runtime.vectors.query(DOC_CHUNKS, vector, 5)
    assert [p.chunk_id for p in search(docs_runtime, vector, k=5)] == [int(h.id) for h in hits]


def test_lexical_index_follows_reindexing(tmp_path: Path, fresh_runtime: Runtime) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(HELPCENTER_DIR / "developers", docs)
    import_docs(fresh_runtime, docs)
    assert lexical_search(fresh_runtime, "Fernpay-Signature", 3), "index built on first search"
    # webhooks.md sorts last, so its chunks hold the highest ids; SQLite reuses those ids after the edit, and the
    # chunk count stays the same: only the content hash tells the index it is stale.
    page = docs / "webhooks.md"
    page.write_text(page.read_text().replace("Fernpay-Signature", "Fernpay-Seal").replace("signature", "seal"))
    import_docs(fresh_runtime, docs)
    assert not lexical_search(fresh_runtime, "signature", 3), "the stale chunk is gone"
    assert lexical_search(fresh_runtime, "Fernpay-Seal", 3)
    (docs / "api-overview.md").unlink()
    import_docs(fresh_runtime, docs)
    assert not lexical_search(fresh_runtime, EXACT_TERM, 3), "a removed page leaves the lexical index"


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    assert reciprocal_rank_fusion([[1, 2, 3], [3, 4]]) == [3, 1, 2, 4]
    assert reciprocal_rank_fusion([[1, 2], [2, 1]], weights=[1.0, 0.5])[0] == 1


def test_rrf_weight_scales_the_lexical_side(docs_runtime: Runtime) -> None:
    query = f"{EXACT_TERM} header for retries"
    vector = docs_runtime.embedder.embed([query])[0]
    dense = [p.chunk_id for p in search(docs_runtime, vector, k=5)]
    muted = [p.chunk_id for p in search(docs_runtime, vector, k=5, query_text=query, fusion="rrf", lexical_weight=0)]
    loud = [p.chunk_id for p in search(docs_runtime, vector, k=5, query_text=query, fusion="rrf", lexical_weight=100)]
    top_lexical = [h.chunk_id for h in lexical_search(docs_runtime, query, 5)]
    assert muted == dense, "with weight 0 the BM25 ranking adds nothing"
    assert loud[:3] == top_lexical[:3], "with a large weight BM25 decides the top"


def test_fusion_setting_is_the_default(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    runtime = make_runtime(tmp_path / "data", embedder, retrieval_fusion="dense")
    import_docs(runtime, HELPCENTER_DIR / "developers", "docs")
    vector = runtime.embedder.embed([EXACT_TERM])[0]
    dense = [p.chunk_id for p in search(runtime, vector, k=5)]
    assert [p.chunk_id for p in search(runtime, vector, k=5, query_text=EXACT_TERM)] == dense
    fused = [p.chunk_id for p in search(runtime, vector, k=5, query_text=EXACT_TERM, fusion="rrf")]
    assert fused != dense, "an explicit fusion overrides the setting"
    assert Settings(_env_file=None).retrieval_fusion == "rrf"  # type: ignore[call-arg]
