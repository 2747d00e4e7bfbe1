"""Retrieval quality and speed: dense only, lexical (BM25) only, and the two fused, on the demo help center.

Labelled set: for every BANKING77 intent that `demo/intents.json` marks "documented", a fixed-seed sample of its
training questions; a hit is any chunk of that intent's page. The demo help center is indexed into a temporary
data dir with the packaged MiniLM model (no network).

Fused variants: reciprocal rank fusion (plain and weighted) and score fusion (cosine plus a weighted, normalised
BM25 score, what `retrieval.index.search` does by default). Fusion settings are tuned on half the intents (every
other one, sorted by name) and reported on the other half, so the reported numbers are not fitted to the questions
they are measured on; all queries are reported too.

Run from the repository root: `python -m bench.hybrid_retrieval [--per-intent 10] [--seed 13]` (as a module, so
that scripts in bench/ cannot shadow the project's packages).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlmodel import Session, col, select

from demo import DEMO_DIR, HELPCENTER_DIR
from docgap.models import Chunk, Document
from docgap.pipeline import import_docs
from docgap.runtime import Runtime
from docgap.settings import Settings
from docgap.vectors import DOC_CHUNKS
from retrieval.answer import confidence_from_score
from retrieval.index import FUSION_DEPTH, LEXICAL_WEIGHT, RRF_K, _passages, reciprocal_rank_fusion, search
from retrieval.lexical import lexical_search

CUTOFFS = (1, 5, 10)
CANDIDATES = 50
"""Depth of each side's ranking fetched once per query; fusion variants are computed from these offline."""


@dataclass(frozen=True)
class Query:
    text: str
    intent: str
    page: str


@dataclass(frozen=True)
class Fusion:
    name: str
    depth: int
    lexical_weight: float
    k: int = RRF_K


def labelled_queries(per_intent: int, seed: int) -> list[Query]:
    """A fixed-seed sample of training questions for every documented intent."""
    intents = json.loads((DEMO_DIR / "intents.json").read_text())["intents"]
    pages = {name: v["page"] for name, v in intents.items() if v["status"] == "documented"}
    by_intent: dict[str, list[str]] = defaultdict(list)
    with (DEMO_DIR / "banking77" / "train.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["category"] in pages:
                by_intent[row["category"]].append(row["text"].strip())
    rng = random.Random(seed)
    return [
        Query(text, intent, pages[intent])
        for intent in sorted(by_intent)
        for text in rng.sample(by_intent[intent], min(per_intent, len(by_intent[intent])))
    ]


def chunk_pages(runtime: Runtime) -> dict[int, str]:
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Chunk.id, Document.url).join(Document, col(Chunk.document_id) == col(Document.id))
        ).all()
    return {int(i or 0): url for i, url in rows}


def metrics(rankings: Sequence[Sequence[int]], queries: Sequence[Query], page_of: dict[int, str]) -> dict[str, float]:
    """Recall@k (a chunk of the right page in the top k) and MRR of the first such chunk (0 if absent)."""
    ranks = []
    for ranking, q in zip(rankings, queries, strict=True):
        rank = next((r for r, cid in enumerate(ranking, start=1) if page_of.get(cid) == q.page), None)
        ranks.append(rank)
    n = len(ranks) or 1
    out = {f"R@{c}": sum(1 for r in ranks if r is not None and r <= c) / n for c in CUTOFFS}
    out["MRR"] = sum(1 / r for r in ranks if r is not None) / n
    return out


def fuse(dense: Sequence[int], lexical: Sequence[int], f: Fusion) -> list[int]:
    return reciprocal_rank_fusion([dense[: f.depth], lexical[: f.depth]], [1.0, f.lexical_weight], f.k)[:10]


def tune(dense: list[list[int]], lexical: list[list[int]], queries: list[Query], page_of: dict[int, str]) -> Fusion:
    """The fusion setting with the best MRR (then R@5) on the given (tuning) queries."""
    grid = [
        Fusion(f"d{d} w{w} k{k}", d, w, k)
        for d in (10, 20, 30, 50)
        for w in (0.25, 0.5, 0.75, 1.0, 1.5)
        for k in (20, 60)
    ]

    def score(f: Fusion) -> tuple[float, float]:
        m = metrics([fuse(d, lx, f) for d, lx in zip(dense, lexical, strict=True)], queries, page_of)
        return m["MRR"], m["R@5"]

    return max(grid, key=score)


def print_table(title: str, rows: dict[str, dict[str, float]], n: int) -> None:
    print(f"\n{title} ({n} queries)")
    print(f"{'method':<40}" + "".join(f"{c:>8}" for c in [*(f"R@{c}" for c in CUTOFFS), "MRR"]))
    for name, m in rows.items():
        print(f"{name:<40}" + "".join(f"{m[c]:>8.3f}" for c in [*(f"R@{c}" for c in CUTOFFS), "MRR"]))


def timing(runtime: Runtime, queries: list[Query], vectors: np.ndarray, rounds: int = 2) -> dict[str, float]:
    """Queries per second of each method's `search` path (passages included), runs interleaved per query."""
    methods: dict[str, Callable[[Query, np.ndarray], object]] = {
        "dense": lambda q, v: search(runtime, v, 10),
        "lexical": lambda q, v: _passages(runtime, [(h.chunk_id, 0.0) for h in lexical_search(runtime, q.text, 10)]),
        "fused (score)": lambda q, v: search(runtime, v, 10, query_text=q.text),
        "fused (RRF)": lambda q, v: search(runtime, v, 10, query_text=q.text, fusion="rrf"),
    }
    spent = dict.fromkeys(methods, 0.0)
    names = list(methods)
    for r in range(rounds):
        for i, (q, v) in enumerate(zip(queries, vectors, strict=True)):
            turn = (i + r) % len(names)
            for name in names[turn:] + names[:turn]:
                t0 = time.perf_counter()
                methods[name](q, v)
                spent[name] += time.perf_counter() - t0
    return {name: rounds * len(queries) / s for name, s in spent.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-intent", type=int, default=10)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    queries = labelled_queries(args.per_intent, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(data_dir=Path(tmp), _env_file=None))  # type: ignore[call-arg]
        import_docs(runtime, HELPCENTER_DIR, "helpcenter")
        page_of = chunk_pages(runtime)
        runtime.embedder.embed(["warm up"])
        t0 = time.perf_counter()
        vectors = runtime.embedder.embed([q.text for q in queries])
        embed_qps = len(queries) / (time.perf_counter() - t0)
        dense = [[int(h.id) for h in runtime.vectors.query(DOC_CHUNKS, v, CANDIDATES)] for v in vectors]
        lexical = [[h.chunk_id for h in lexical_search(runtime, q.text, CANDIDATES)] for q in queries]
        report(runtime, queries, vectors, dense, lexical, page_of)
        qps = timing(runtime, queries, vectors)
    print(f"\nspeed (search only, query vectors precomputed; embedding runs at {embed_qps:.0f} queries/s batched):")
    for name, v in qps.items():
        print(f"  {name:<14} {v:8.0f} queries/s   ({v / qps['dense']:.2f}× dense)")


def live(runtime: Runtime, pairs: list[tuple[Query, np.ndarray]], **kwargs: object) -> list[list[int]]:
    """Chunk ids of `search(..., query_text=...)` top 10 for each query."""
    return [[p.chunk_id for p in search(runtime, v, 10, query_text=q.text, **kwargs)] for q, v in pairs]  # type: ignore[arg-type]


def report(
    runtime: Runtime,
    queries: list[Query],
    vectors: np.ndarray,
    dense: list[list[int]],
    lexical: list[list[int]],
    page_of: dict[int, str],
) -> None:
    intents = sorted({q.intent for q in queries})
    tune_half = set(intents[::2])
    tune_idx = [i for i, q in enumerate(queries) if q.intent in tune_half]
    test_idx = [i for i, q in enumerate(queries) if q.intent not in tune_half]
    pairs = list(zip(queries, vectors, strict=True))
    rrf_best = tune(
        [dense[i] for i in tune_idx], [lexical[i] for i in tune_idx], [queries[i] for i in tune_idx], page_of
    )
    rrf_default = Fusion(f"RRF (d{FUSION_DEPTH} k{RRF_K})", FUSION_DEPTH, 1.0)
    rrf_tuned = Fusion(f"weighted RRF, tuned ({rrf_best.name})", rrf_best.depth, rrf_best.lexical_weight, rrf_best.k)
    rankings: dict[str, list[list[int]]] = {
        "dense only": [d[:10] for d in dense],
        "lexical only (BM25)": [lx[:10] for lx in lexical],
    }
    for f in (rrf_default, rrf_tuned):
        rankings[f.name] = [fuse(d, lx, f) for d, lx in zip(dense, lexical, strict=True)]
    by_weight = {w: live(runtime, pairs, lexical_weight=w) for w in (0.05, 0.1, 0.15, 0.2, 0.3)}
    tune_qs = [queries[i] for i in tune_idx]

    def tuned_score(w: float) -> tuple[float, float]:
        m = metrics([by_weight[w][i] for i in tune_idx], tune_qs, page_of)
        return m["MRR"], m["R@5"]

    best_w = max(by_weight, key=tuned_score)
    rankings[f"score fusion, default (w{LEXICAL_WEIGHT})"] = live(runtime, pairs)
    rankings[f"score fusion, tuned (w{best_w})"] = by_weight[best_w]
    print(f"{len(page_of)} chunks from {len(set(page_of.values()))} pages; {len(intents)} documented intents")
    print("tuning: RRF grid depth×weight×k and score-fusion weight, chosen by MRR on the tuning half only")
    halves = [("held-out half of the intents", test_idx), ("tuning half", tune_idx), ("all", list(range(len(queries))))]
    for title, idx in halves:
        qs = [queries[i] for i in idx]
        print_table(title, {name: metrics([r[i] for i in idx], qs, page_of) for name, r in rankings.items()}, len(qs))
    agree = sum(a == b for a, b in zip(live(runtime, pairs, fusion="rrf"), rankings[rrf_default.name], strict=True))
    print(f"\nsearch(fusion='rrf') agrees with the offline RRF on {agree}/{len(queries)} queries")
    covered = runtime.settings.answer_min_confidence
    for name, kwargs in (("dense", None), ("score fusion", {}), ("RRF", {"fusion": "rrf"})):
        top = [search(runtime, v, 5, query_text=None if kwargs is None else q.text, **(kwargs or {})) for q, v in pairs]
        rate = sum(confidence_from_score(p[0].score) >= covered for p in top if p) / len(top)
        best = sum(confidence_from_score(max(x.score for x in p)) >= covered for p in top if p) / len(top)
        print(f"documented questions judged covered, {name}: {rate:.3f} from the top-1 cosine (answer.py today),")
        print(f"    {best:.3f} from the best cosine of the top 5")


if __name__ == "__main__":
    main()
