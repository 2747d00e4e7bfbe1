"""Topic discovery quality and speed on BANKING77, against BERTopic and k-means told the true k; then scale.

All contenders get the same MiniLM embeddings of the 10,003 BANKING77 training questions (77 intents), embedded
once with the packaged model and cached in the temp dir:
- ours: `AgglomerativeDiscoverer()` with its defaults, not told k (10k questions takes its two-stage path);
- ours, exact: the one-stage agglomerative path forced, for reference;
- ours, unweighted: the two-stage path with the micro-cluster centroids clustered unweighted (sklearn), to show
  whether weighting by micro-cluster size matters;
- BERTopic: its default pipeline (UMAP + HDBSCAN + c-TF-IDF) given the embeddings, `embedding_model=None`
  (nothing is downloaded); UMAP's numba code is compiled in a warm-up call before timing;
- k-means told k=77.
Contenders run interleaved (A B C … A B C …) `--repeats` times and medians are reported, because these shared CPUs
slow down under sustained load. Unassigned questions (ours -1, BERTopic outliers) count as one extra cluster for
NMI/ARI and as wrong for accuracy (Hungarian matching of clusters to intents).

Scale: our method on 10k / 50k / 200k synthetic questions (BANKING77 embeddings resampled with small Gaussian noise,
re-normalised), each in a fresh process, reporting wall time and peak memory two ways: the resident-set peak
growth during `discover` (VmHWM after resetting it, minus VmRSS before; Linux /proc) and the tracemalloc peak
(numpy allocations).

Run from the repository root: `python -m bench.clustering [--repeats 3] [--scale 10000,50000,200000]` (as a
module: a script named clustering.py would shadow the `clustering` package). Needs the `bench` extra (bertopic).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import statistics
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from clustering.discover import AgglomerativeDiscoverer, _group_sums
from demo import DEMO_DIR

TRAIN_CSV = DEMO_DIR / "banking77" / "train.csv"
NOISE = 0.01
"""Per-dimension standard deviation of the noise added to resampled embeddings (≈0.2 in norm for 384 dims)."""


@dataclass
class Run:
    labels: np.ndarray
    seconds: float


def load_banking77(cache_dir: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Texts, intents and MiniLM embeddings (embedded once, cached as .npy in `cache_dir`)."""
    rows = list(csv.DictReader(TRAIN_CSV.open(encoding="utf-8")))
    texts, intents = [r["text"] for r in rows], [r["category"] for r in rows]
    cache = cache_dir / "banking77-minilm.npy"
    if not cache.exists():
        from docgap.embedding import SentenceTransformerEmbedder

        np.save(cache, SentenceTransformerEmbedder("all-MiniLM-L6-v2").embed(texts))
    return texts, intents, np.load(cache)


def ours(_texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return AgglomerativeDiscoverer().discover(vectors).labels


def ours_exact(_texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return AgglomerativeDiscoverer(exact_up_to=len(vectors)).discover(vectors).labels


class _UnweightedTwoStage(AgglomerativeDiscoverer):
    """The two-stage path, but sklearn's unweighted average linkage over normalised micro-cluster centroids."""

    def _two_stage(self, vectors: np.ndarray) -> np.ndarray:
        from sklearn.cluster import MiniBatchKMeans

        m = min(len(vectors) // self.points_per_micro_cluster, self.max_micro_clusters)
        micro = (
            MiniBatchKMeans(n_clusters=m, init="random", batch_size=4096, n_init=1, max_iter=3, random_state=0)
            .fit(vectors)
            .labels_
        )
        sums = _group_sums(vectors, micro, m)
        used = np.flatnonzero(sums.any(axis=1))
        groups = np.full(m, -1)
        groups[used] = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=self.distance_threshold
        ).fit_predict(sums[used])
        return groups[micro]


def ours_unweighted(_texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return _UnweightedTwoStage().discover(vectors).labels


def bertopic(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    from bertopic import BERTopic

    topics, _ = BERTopic(embedding_model=None, verbose=False).fit_transform(texts, embeddings=vectors)
    return np.asarray(topics)


def kmeans_true_k(_texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return KMeans(n_clusters=77, random_state=0).fit_predict(vectors)


CONTENDERS: dict[str, Callable[[list[str], np.ndarray], np.ndarray]] = {
    "ours": ours,
    "ours, exact (1 stage)": ours_exact,
    "ours, unweighted 2nd stage": ours_unweighted,
    "BERTopic (UMAP+HDBSCAN)": bertopic,
    "k-means, told k=77": kmeans_true_k,
}


def hungarian_accuracy(truth: list[str], labels: np.ndarray) -> float:
    """Best one-to-one matching of clusters to intents; unassigned (-1) questions always count as wrong."""
    classes = {c: i for i, c in enumerate(sorted(set(truth)))}
    y = np.array([classes[c] for c in truth])
    assigned = labels >= 0
    clusters = np.unique(labels[assigned], return_inverse=True)[1]
    table = np.zeros((clusters.max() + 1 if len(clusters) else 0, len(classes)))
    np.add.at(table, (clusters, y[assigned]), 1)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(truth))


def warm_up_umap(vectors: np.ndarray) -> None:
    """Compile UMAP's numba code once, so BERTopic's timings measure clustering, not the JIT."""
    from umap import UMAP

    UMAP(n_neighbors=15, n_components=5, metric="cosine").fit(vectors[:500])


def compare(texts: list[str], truth: list[str], vectors: np.ndarray, repeats: int) -> None:
    runs: dict[str, list[Run]] = {name: [] for name in CONTENDERS}
    for _ in range(repeats):
        for name, fn in CONTENDERS.items():
            start = time.perf_counter()
            labels = fn(texts, vectors)
            runs[name].append(Run(labels, time.perf_counter() - start))
    base = statistics.median(r.seconds for r in runs["ours"])
    print(
        f"\nBANKING77 train: {len(truth)} questions, {len(set(truth))} intents; medians of {repeats} interleaved runs"
    )
    header = (
        f"{'method':28s} {'NMI':>6s} {'ARI':>6s} {'acc':>6s} {'topics':>6s} {'unassigned':>10s} {'time s':>7s} "
        f"{'×ours':>6s}"
    )
    print(header)
    print("-" * len(header))
    for name, rs in runs.items():
        nmi = statistics.median(normalized_mutual_info_score(truth, r.labels) for r in rs)
        ari = statistics.median(adjusted_rand_score(truth, r.labels) for r in rs)
        acc = statistics.median(hungarian_accuracy(truth, r.labels) for r in rs)
        topics = statistics.median(len(set(r.labels.tolist()) - {-1}) for r in rs)
        unassigned = statistics.median(float(np.mean(r.labels < 0)) for r in rs)
        secs = statistics.median(r.seconds for r in rs)
        print(
            f"{name:28s} {nmi:6.3f} {ari:6.3f} {acc:6.3f} {topics:6.0f} {unassigned:10.3f} {secs:7.2f} "
            f"{secs / base:6.1f}"
        )


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator, block: int = 8192) -> np.ndarray:
    """Resampled rows plus noise, built a block at a time so the process peak before `discover` is ~the data."""
    x = base[rng.integers(0, len(base), n)]
    for start in range(0, n, block):
        rows = x[start : start + block]
        rows += NOISE * rng.standard_normal(rows.shape, dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return x


def _proc_status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux); getrusage's maxrss would carry the parent's peak across fork+exec."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        print("warning: cannot reset the peak RSS; the figure includes what the process used before discover")


def _scale_child(n: int, cache: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One scale point in a fresh process, so the memory figures are this run's alone."""
    x = synthetic(np.load(cache), n, np.random.default_rng(n))
    rss_before = _proc_status_kb("VmRSS")
    _reset_peak_rss()
    tracemalloc.start()
    start = time.perf_counter()
    found = AgglomerativeDiscoverer().discover(x)
    seconds = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = _proc_status_kb("VmHWM")
    queue.put(
        (seconds, (rss_peak - rss_before) / 1024, peak / 2**20, len(found.centroids), float(np.mean(found.labels < 0)))
    )


def scale(sizes: list[int], cache: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    print(
        f"\nscale: synthetic questions (BANKING77 embeddings + N(0, {NOISE}²) noise, re-normalised), fresh process each"
    )
    header = (
        f"{'n':>8s} {'time s':>7s} {'peak RSS Δ MB':>13s} {'tracemalloc MB':>15s} {'topics':>7s} {'unassigned':>10s}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        queue = ctx.Queue()
        proc = ctx.Process(target=_scale_child, args=(n, str(cache), queue))
        proc.start()
        seconds, rss_mb, traced_mb, topics, unassigned = queue.get()
        proc.join()
        flag = "" if n < 200_000 or seconds <= 120 else "  OVER the 120 s budget"
        print(f"{n:8d} {seconds:7.1f} {rss_mb:13.0f} {traced_mb:15.0f} {topics:7d} {unassigned:10.3f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", default="10000,50000,200000", help="comma-separated sizes, '' to skip")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "docgap-bench-clustering")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    warnings.filterwarnings("ignore")
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    texts, truth, vectors = load_banking77(args.cache_dir)
    warm_up_umap(vectors)
    compare(texts, truth, vectors, args.repeats)
    if args.scale:
        scale([int(s) for s in args.scale.split(",")], args.cache_dir / "banking77-minilm.npy")


if __name__ == "__main__":
    main()
