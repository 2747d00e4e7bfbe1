"""Doc retrieval quality and speed: dense only, lexical (BM25) only, and the two fused, side by side in one run.

Labelled set: for every BANKING77 intent that `demo/intents.json` marks "documented" (a help-center page answers
it), a fixed-seed sample of its training questions, labelled with that page. The demo help center is indexed into
a temporary data dir with the packaged MiniLM model (no network).

What counts as a hit: the label is a page, so any passage of that page is a hit. The primary tables read each
method's passage ranking as the ranking of the pages it reaches (first passage of each page), the same for every
method: recall@k then asks "is the right page among the first k pages offered", and a page's second passage does
not push another page out of the top k. The passage-level table (top k passages, duplicates of a page included,
what `search` returns) follows for reference.

Fused variants: reciprocal rank fusion (plain and weighted) and score fusion (cosine plus a weighted, normalised
BM25 score). Their settings are tuned on half the intents (every other one, sorted by name) and reported on the
other half, so the held-out numbers are not fitted to the questions they are measured on; the last line says
whether the default fusion (`DOCGAP_RETRIEVAL_FUSION`) beats both single methods on every held-out figure.

Run from the repository root: `python -m bench.retrieval [--per-intent 30] [--seed 13]` (as a module, so that
scripts in bench/ cannot shadow the project's packages). 30 questions per intent (1,470 in all) keep one query's
flip at 0.14 points of a held-out figure; with 10 the halves disagreed on which variant wins.
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

from core.models import Chunk, Document
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import DOC_CHUNKS
from demo import DEMO_DIR, HELPCENTER_DIR
from retrieval.confidence import answer_threshold, confidence, measure
from retrieval.index import (
    FUSION_DEPTH,
    LEXICAL_WEIGHT,
    RRF_K,
    RRF_LEXICAL_WEIGHT,
    _passages,
    reciprocal_rank_fusion,
    retrieve,
    search,
)
from retrieval.lexical import lexical_search
from usecases.pipeline import import_docs

CUTOFFS = (1, 5, 10)
CANDIDATES = 50
"""Depth of each side's ranking fetched once per query; RRF variants are computed from these offline."""
FIGURES = (*(f"R@{c}" for c in CUTOFFS), "MRR")


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


def metrics(
    rankings: Sequence[Sequence[int]], queries: Sequence[Query], page_of: dict[int, str], by_page: bool = False
) -> dict[str, float]:
    """Recall@k (a chunk of the right page in the top k) and MRR of the first such chunk (0 if absent).

    Rankings are cut at the last cutoff (10). With `by_page`, each ranking is first read as the pages it reaches,
    in order (a page's later passages dropped), so it is cut at its tenth distinct page.
    """
    ranks = []
    for ranking, q in zip(rankings, queries, strict=True):
        pages = [page_of.get(cid) for cid in ranking]
        if by_page:
            pages = list(dict.fromkeys(pages))
        ranks.append(next((r for r, page in enumerate(pages[: max(CUTOFFS)], start=1) if page == q.page), None))
    n = len(ranks) or 1
    out = {f"R@{c}": sum(1 for r in ranks if r is not None and r <= c) / n for c in CUTOFFS}
    out["MRR"] = sum(1 / r for r in ranks if r is not None) / n
    return out


def fuse(dense: Sequence[int], lexical: Sequence[int], f: Fusion) -> list[int]:
    return reciprocal_rank_fusion([dense[: f.depth], lexical[: f.depth]], [1.0, f.lexical_weight], f.k)


def tune_rrf(dense: list[list[int]], lexical: list[list[int]], queries: list[Query], page_of: dict[int, str]) -> Fusion:
    """The RRF setting with the best page-level MRR (then R@5) on the given (tuning) queries."""
    grid = [
        Fusion(f"d{d} w{w} k{k}", d, w, k)
        for d in (10, 30, 50)
        for w in (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
        for k in (10, 20, 60)
    ]

    def score(f: Fusion) -> tuple[float, float]:
        m = metrics([fuse(d, lx, f) for d, lx in zip(dense, lexical, strict=True)], queries, page_of, by_page=True)
        return m["MRR"], m["R@5"]

    return max(grid, key=score)


def print_table(title: str, rows: dict[str, dict[str, float]], n: int) -> None:
    print(f"\n{title} ({n} queries)")
    print(f"{'method':<44}" + "".join(f"{c:>8}" for c in FIGURES))
    for name, m in rows.items():
        print(f"{name:<44}" + "".join(f"{m[c]:>8.3f}" for c in FIGURES))


def timing(runtime: Runtime, queries: list[Query], vectors: np.ndarray) -> dict[str, float]:
    """Queries per second of each method's `search` path (passages included), runs interleaved per query."""
    methods: dict[str, Callable[[Query, np.ndarray], object]] = {
        "dense": lambda q, v: search(runtime, v, 10),
        "lexical": lambda q, v: _passages(runtime, [(h.chunk_id, 0.0) for h in lexical_search(runtime, q.text, 10)]),
        "fused (score)": lambda q, v: search(runtime, v, 10, query_text=q.text, fusion="score"),
        "fused (RRF)": lambda q, v: search(runtime, v, 10, query_text=q.text, fusion="rrf"),
    }
    spent = dict.fromkeys(methods, 0.0)
    names = list(methods)
    for i, (q, v) in enumerate(zip(queries, vectors, strict=True)):
        turn = i % len(names)
        for name in names[turn:] + names[:turn]:
            t0 = time.perf_counter()
            methods[name](q, v)
            spent[name] += time.perf_counter() - t0
    return {name: len(queries) / s for name, s in spent.items()}


def live(runtime: Runtime, pairs: list[tuple[Query, np.ndarray]], **kwargs: object) -> list[list[int]]:
    """Chunk ids of `search(..., query_text=...)` top `CANDIDATES` for each query.

    Deep lists (each side's top `CANDIDATES` fused, not `FUSION_DEPTH`) so that they reach ten distinct pages; the
    top 10 passages differ from a `k=10` search only where a passage ranked 31-50 on both sides climbs into them.
    """
    return [[p.chunk_id for p in search(runtime, v, CANDIDATES, query_text=q.text, **kwargs)] for q, v in pairs]  # type: ignore[arg-type]


@dataclass
class Split:
    queries: list[Query]
    tune_idx: list[int]
    test_idx: list[int]

    @classmethod
    def by_intent(cls, queries: list[Query]) -> Split:
        """Every other intent (sorted by name) tunes; the rest are held out."""
        tune_half = set(sorted({q.intent for q in queries})[::2])
        tune = [i for i, q in enumerate(queries) if q.intent in tune_half]
        return cls(queries, tune, [i for i, q in enumerate(queries) if q.intent not in tune_half])

    def tuning(self, rankings: list[list[int]]) -> tuple[list[list[int]], list[Query]]:
        return [rankings[i] for i in self.tune_idx], [self.queries[i] for i in self.tune_idx]


def rankings_for(
    runtime: Runtime, split: Split, vectors: np.ndarray, dense: list[list[int]], lexical: list[list[int]]
) -> dict[str, list[list[int]]]:
    """Chunk ids per query, best first, for every method: single sides, RRF (plain, tuned, default), score fusion."""
    page_of = chunk_pages(runtime)
    queries = split.queries
    pairs = list(zip(queries, vectors, strict=True))
    tune_dense, tune_queries = split.tuning(dense)
    best = tune_rrf(tune_dense, split.tuning(lexical)[0], tune_queries, page_of)
    rrf_plain = Fusion(f"RRF, unweighted (d{FUSION_DEPTH} k{RRF_K})", FUSION_DEPTH, 1.0)
    rrf_tuned = Fusion(f"weighted RRF, tuned ({best.name})", best.depth, best.lexical_weight, best.k)
    out: dict[str, list[list[int]]] = {
        "dense only": dense,
        "lexical only (BM25)": lexical,
    }
    rrf_default = Fusion(
        f"weighted RRF, default (d{FUSION_DEPTH} w{RRF_LEXICAL_WEIGHT} k{RRF_K})", FUSION_DEPTH, RRF_LEXICAL_WEIGHT
    )
    for f in (rrf_plain, rrf_tuned, rrf_default):
        out[f.name] = [fuse(d, lx, f) for d, lx in zip(dense, lexical, strict=True)]
    searched = [[p.chunk_id for p in search(runtime, v, 10, query_text=q.text, fusion="rrf")] for q, v in pairs]
    agree = sum(a == b[:10] for a, b in zip(searched, out[rrf_default.name], strict=True))
    print(f"search(fusion='rrf') returns the offline default RRF's top 10 on {agree}/{len(pairs)} queries")
    by_weight = {w: live(runtime, pairs, fusion="score", lexical_weight=w) for w in (0.05, 0.1, 0.15, 0.2, 0.3)}

    def tuned(w: float) -> tuple[float, float]:
        m = metrics(*split.tuning(by_weight[w]), page_of, by_page=True)
        return m["MRR"], m["R@5"]

    best_w = max(by_weight, key=tuned)
    out[f"score fusion, tuned (w{best_w})"] = by_weight[best_w]
    out[f"score fusion, default (w{LEXICAL_WEIGHT})"] = live(runtime, pairs, fusion="score")
    return out


def verdict(rows: dict[str, dict[str, float]], fused: str) -> str:
    """Whether the `fused` row beats both single methods on every figure."""
    singles = ("dense only", "lexical only (BM25)")
    lost = [f"{f} vs {s}" for s in singles for f in FIGURES if rows[fused][f] <= rows[s][f]]
    return "yes" if not lost else "no (ties or loses: " + ", ".join(lost) + ")"


def report(
    runtime: Runtime, split: Split, vectors: np.ndarray, dense: list[list[int]], lexical: list[list[int]]
) -> None:
    page_of = chunk_pages(runtime)
    queries = split.queries
    rankings = rankings_for(runtime, split, vectors, dense, lexical)
    print(f"{len(page_of)} chunks from {len(set(page_of.values()))} pages; {len({q.intent for q in queries})} intents")
    print("tuning: RRF depth×weight×k grid and score-fusion weight, by page-level MRR on the tuning half only")
    halves = [("held-out half", split.test_idx), ("tuning half", split.tune_idx), ("all", list(range(len(queries))))]
    held_out: dict[str, dict[str, float]] = {}
    for title, idx in halves:
        qs = [queries[i] for i in idx]
        rows = {name: metrics([r[i] for i in idx], qs, page_of, by_page=True) for name, r in rankings.items()}
        held_out = held_out or rows
        print_table(f"page level, {title}", rows, len(qs))
    qs = [queries[i] for i in split.test_idx]
    passage_rows = {name: metrics([r[i] for i in split.test_idx], qs, page_of) for name, r in rankings.items()}
    print_table("passage level (top k passages as returned), held-out half", passage_rows, len(qs))
    default = runtime.settings.retrieval_fusion
    row = next(n for n in rankings if ("score fusion, default" if default == "score" else "weighted RRF, default") in n)
    print(f"\ndefault fusion ({default}) beats dense and lexical on every held-out page-level figure: ", end="")
    print(verdict(held_out, row))
    print(f"  … and on every held-out passage-level figure: {verdict(passage_rows, row)}")
    covered_rates(runtime, list(zip(queries, vectors, strict=True)))


def covered_rates(runtime: Runtime, pairs: list[tuple[Query, np.ndarray]]) -> None:
    """How often a documented question clears the answer confidence bar (the calibrated score, fused search)."""
    bar = answer_threshold(runtime)
    found = [(q, v, retrieve(runtime, v, 5, query_text=q.text)) for q, v in pairs]
    covered = sum(confidence(runtime, measure(runtime, q.text, v, f)) >= bar for q, v, f in found) / len(found)
    print(f"documented questions judged covered (answer confidence ≥ {bar:.3f}): {covered:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-intent", type=int, default=30)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    queries = labelled_queries(args.per_intent, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(data_dir=Path(tmp), _env_file=None))  # type: ignore[call-arg]
        import_docs(runtime, HELPCENTER_DIR, "helpcenter")
        runtime.embedder.embed(["warm up"])
        t0 = time.perf_counter()
        vectors = runtime.embedder.embed([q.text for q in queries])
        embed_qps = len(queries) / (time.perf_counter() - t0)
        dense = [[int(h.id) for h in runtime.vectors.query(DOC_CHUNKS, v, CANDIDATES)] for v in vectors]
        lexical = [[h.chunk_id for h in lexical_search(runtime, q.text, CANDIDATES)] for q in queries]
        report(runtime, Split.by_intent(queries), vectors, dense, lexical)
        qps = timing(runtime, queries, vectors)
    print(f"\nspeed (search only, query vectors precomputed; embedding runs at {embed_qps:.0f} queries/s batched):")
    for name, v in qps.items():
        print(f"  {name:<14} {v:8.0f} queries/s   ({v / qps['dense']:.2f}× dense)")


if __name__ == "__main__":
    main()
