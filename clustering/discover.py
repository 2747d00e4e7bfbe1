"""Topic discovery that adapts to the data instead of a fixed similarity cut.

Questions are nodes of a k-nearest-neighbour graph whose edge weights are scaled per question, as UMAP does
(each question's nearest neighbour weighs 1, farther ones decay by that question's own spread of distances), so
the graph looks the same whether a data set's questions sit at cosine 0.8 or 0.4 from their paraphrases. Louvain
communities of that graph are found over a ladder of modularity resolutions, from a few broad groups to many
narrow ones; each candidate is sharpened by a few spherical k-means steps and scored by its silhouette (cosine,
on a fixed sample). The winner is the coarsest candidate whose silhouette is within one standard error of the
best (the one-SE rule, the error taken from the same questions' paired silhouettes): curves are often flat over a
wide range, where the highest point is noise. Nothing is told how many topics there are, and no threshold depends
on the embedding model's similarity scale. Above `select_on` questions the number of topics is chosen that way on
several samples, their geometric mean taken, and the full graph is cut into as many (modularity's scale moves with
graph size; the number of subjects asked about does not).

A cluster smaller than `min_size` is not a topic. Its questions join the nearest topic when they fall inside
that topic's own radius (`attach_radius`: as close to the centroid as its farthest member), which
is also the rule for new questions in incremental runs, so a finished run is a fixed point: nothing left out
would be let in by running again.

Louvain (scikit-network, BSD) is deterministic for a given seed, so the same vectors always give the same topics.
Above `EXACT_NEIGHBOURS_UP_TO` questions the neighbours are searched only in nearby k-means cells (an inverted
file), which keeps 200,000 questions within a couple of minutes and bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score
from sknetwork.clustering import Louvain

CHUNK = 4096
"""Rows per block when comparing questions with each other or with centroids (memory O(chunk × n))."""
RESOLUTIONS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 32.0, 40.0, 48.0, 64.0)
"""Modularity resolutions tried, broad to narrow; ~x1.25 steps, since silhouette differences are small."""
EXACT_NEIGHBOURS_UP_TO = 5_000
"""Largest n whose neighbours are found by brute force. Above it the inverted file finds 81-96% of the exact
neighbours on the `bench.quality` sets (StackOverflow's diffuse titles the least) in a sixth of the time, with
NMI within ±0.02 of the exact graph's: Louvain's result depends on the graph's dense regions, not on every edge."""
FALLING_SE = 3.0
"""How many paired standard errors below the best a candidate's silhouette must be to count as fallen."""
OUTLIER_MADS = 6.0
"""How many robust deviations below its cluster's median similarity make a member a stray (4: ~0.003% of a normal)."""
ATTACH_QUANTILE = 0.0
"""A question joins a topic when it is at least as close to the centroid as the topic's farthest member (strays
were removed first, so the farthest member is still a real one)."""


@dataclass(frozen=True)
class Discovery:
    labels: np.ndarray
    """Cluster index per question, -1 for unassigned."""
    centroids: np.ndarray
    """L2-normalised centroid per cluster index."""
    similarity: np.ndarray
    """Cosine similarity of each question to its cluster's centroid (0 when unassigned)."""
    resolution: float = 0.0
    """The modularity resolution chosen (0 when there was too little to cluster)."""


class Discoverer:
    """Louvain communities of the scaled kNN graph, at the resolution with the best silhouette.

    Args:
        min_size: smallest cluster that counts as a topic (2: a question asked twice is recurring).
        neighbours: k of the kNN graph; 10 held on 300 to 20,000 questions (`bench.quality`).
        resolutions: the modularity resolutions tried.
        refine_steps: spherical k-means steps applied to each Louvain partition (they move the questions that
            a community took in through one stray edge).
        silhouette_sample: questions the silhouette is computed on (O(sample²)); seeded, so deterministic.
        select_on: above this many questions the granularity is chosen on seeded samples of this size, and the
            full graph is cut into as many topics (see `discover`).
        samples: how many such samples (the geometric mean of their choices is taken).
        falling_stop: the ladder stops after this many candidates in a row whose silhouette is `FALLING_SE`
            standard errors below the best so far (None: never). The one-SE rule cannot pick one of them, and a
            silhouette that has clearly fallen (StackOverflow's 20 broad tags past 30 topics) was not seen to
            climb back to the best: the same choices on every `bench.quality` sample, with half the ladder there.
        random_state: seeds Louvain, the silhouette sample and the k-means cells.
    """

    def __init__(
        self,
        min_size: int = 2,
        neighbours: int = 10,
        resolutions: tuple[float, ...] = RESOLUTIONS,
        refine_steps: int = 3,
        silhouette_sample: int = 2000,
        select_on: int = 1000,
        samples: int = 7,
        falling_stop: int | None = 3,
        random_state: int = 0,
    ) -> None:
        self.min_size = min_size
        self.neighbours = neighbours
        self.resolutions = resolutions
        self.refine_steps = refine_steps
        self.silhouette_sample = silhouette_sample
        self.select_on = select_on
        self.samples = samples
        self.falling_stop = falling_stop
        self.random_state = random_state

    def discover(self, vectors: np.ndarray, previous: np.ndarray | None = None) -> Discovery:
        """Topics of `vectors`; with `previous` (a topic index per vector, -1 none) the partition most like it.

        A full re-cluster passes the topics writers already work on: among the candidate partitions it takes the
        one that agrees most with them (adjusted Rand index over the questions that had a topic) instead of the
        best silhouette, so the granularity writers know is kept, and unchanged data gives back the same topics.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n = len(vectors)
        if n < max(self.min_size, 3):
            return Discovery(np.full(n, -1), np.zeros((0, vectors.shape[1] if n else 0), np.float32), np.zeros(n))
        if previous is not None and not (np.asarray(previous) >= 0).any():
            previous = None
        rng = np.random.default_rng(self.random_state)
        if n <= self.select_on:
            chosen = self._select(vectors, previous)
        else:
            target = self._target_count(vectors, rng)
            if target is None:
                return Discovery(np.full(n, -1), np.zeros((0, vectors.shape[1]), np.float32), np.zeros(n))
            graph = scaled_knn_graph(vectors, self.neighbours, self.random_state)
            chosen = self._match_count(graph, target)
            if previous is not None:
                had = len(np.unique(previous[previous >= 0]))
                kept = self._match_count(graph, had)
                chosen = max((chosen, kept), key=lambda c: _agreement(previous, c[1]))
        if chosen is None:
            return Discovery(np.full(n, -1), np.zeros((0, vectors.shape[1]), np.float32), np.zeros(n))
        resolution, labels = chosen
        return self._finish(vectors, refine(vectors, labels, self.refine_steps), resolution)

    def _select(self, vectors: np.ndarray, previous: np.ndarray | None = None) -> tuple[float, np.ndarray] | None:
        """(resolution, partition): the agreement with `previous` when given, else the one-standard-error choice."""
        tried = self._candidates(vectors, previous)
        if not tried:
            return self._one_topic(vectors)
        best = max(tried, key=lambda t: t.score) if previous is not None else _parsimonious(tried, self.min_size)
        return best.resolution, best.labels

    def _one_topic(self, vectors: np.ndarray) -> tuple[float, np.ndarray] | None:
        """All of `vectors` as one topic, when the broadest resolution finds one community.

        A silhouette needs two clusters, so a handful of questions that are all alike (six ways to ask how to
        change a PIN) had no candidate to score and made no topic at all, until unlike questions arrived.
        """
        graph = scaled_knn_graph(vectors, min(self.neighbours, len(vectors) - 1), self.random_state)
        resolution = self.resolutions[0]
        raw = louvain(graph, resolution, self.random_state)
        return (resolution, np.zeros(len(vectors), dtype=raw.dtype)) if raw.max() == 0 else None

    def _candidates(self, vectors: np.ndarray, previous: np.ndarray | None = None) -> list[_Candidate]:
        """One refined partition per resolution on the ladder, until most are singletons, each with its score."""
        n = len(vectors)
        graph = scaled_knn_graph(vectors, min(self.neighbours, n - 1), self.random_state)
        sample = np.sort(np.random.default_rng(self.random_state).permutation(n)[: self.silhouette_sample])
        out: list[_Candidate] = []
        falling = 0
        for resolution in self.resolutions:
            if self.falling_stop is not None and falling >= self.falling_stop:
                break  # past the peak: the one-SE rule picks no finer candidate than these
            raw = louvain(graph, resolution, self.random_state)
            if raw.max() + 1 >= n / 2:
                break  # mostly singletons from here on: nothing recurs
            labels = refine(vectors, raw, self.refine_steps)
            if len(np.unique(labels[sample])) < 2:
                continue
            if previous is not None:
                out.append(_Candidate(resolution, _agreement(previous, labels), labels))
            else:
                per_question = cosine_silhouettes(vectors[sample], labels[sample])
                out.append(_Candidate(resolution, float(per_question.mean()), labels, per_question))
                falling = falling + 1 if _clearly_worse(out[-1], max(out, key=lambda c: c.score)) else 0
        return out

    def _target_count(self, vectors: np.ndarray, rng: np.random.Generator) -> int | None:
        """How many topics: the geometric mean of the one-standard-error choices on `samples` seeded samples.

        One sample's silhouette curve is too flat and too jagged to trust (on BANKING77 its best point ranged from
        54 to 217 topics over samples), and the choices are often bimodal (BANKING77: 55-66 or 124-134, a coarse
        and a paraphrase-level plateau). Their median then jumps between the two modes when one sample's choice
        flips, which rounding alone can do (another BLAS kernel moved BANKING77-10k from 66 to 96 topics); the mean
        of their logarithms moves by a seventh of the flip, and the count stays on the scale the choices agree on.
        """
        counts: list[int] = []
        for _ in range(self.samples):
            sample = np.sort(rng.permutation(len(vectors))[: self.select_on])
            tried = self._candidates(vectors[sample])
            if tried:
                counts.append(_topics_in(_parsimonious(tried, self.min_size).labels, self.min_size))
        return round(float(np.exp(np.mean(np.log(counts))))) if counts else None

    def _match_count(self, graph: sparse.csr_matrix, target: int, steps: int = 8) -> tuple[float, np.ndarray]:
        """The resolution whose partition of the whole `graph` has closest to `target` topics.

        Louvain's community count grows about as a power of the resolution, so the search interpolates in log-log
        space between the two resolutions that bracket the target (regula falsi), falling back to bisection when
        the interpolation lands near a bracket's end, and stops within 2% of the target (counts move in steps, so
        the exact one may not exist): 2-4 Louvain runs on the full graph instead of bisection's 8.
        """
        lo, hi = np.log(self.resolutions[0]), np.log(self.resolutions[-1] * 4)
        tried: list[tuple[int, float, np.ndarray]] = []

        def run(x: float) -> int:
            labels = louvain(graph, float(np.exp(x)), self.random_state)
            count = _topics_in(labels, self.min_size)
            tried.append((abs(count - target), float(np.exp(x)), labels))
            return count

        goal, near = np.log(max(target, 1)), max(1, target // 50)  # the target itself is an estimate, ±15%
        low_count = run(lo)
        if low_count < target:
            high_count: int | None = None
            x = lo + (goal - np.log(max(low_count, 1))) / 0.7  # a first guess of the power: 0.5-0.9 measured
            for _ in range(steps - 1):
                x = float(np.clip(x, lo, hi))
                count = run(x)
                if abs(count - target) <= near:
                    break
                if count < target:
                    lo, low_count = x, count
                else:
                    hi, high_count = x, count
                if high_count is None:
                    x = lo + 2 * (goal - np.log(max(low_count, 1))) / 0.7  # overshoot until bracketed
                    continue
                span = np.log(high_count) - np.log(max(low_count, 1))
                x = lo + (hi - lo) * (goal - np.log(max(low_count, 1))) / span if span > 0 else (lo + hi) / 2
                if not lo + 0.1 * (hi - lo) < x < hi - 0.1 * (hi - lo):
                    x = (lo + hi) / 2
        _, resolution, labels = min(tried, key=lambda t: (t[0], t[1]))
        return round(resolution, 3), labels

    def _finish(self, vectors: np.ndarray, raw: np.ndarray, resolution: float) -> Discovery:
        """Strays and clusters below `min_size` leave; their questions join the nearest topic inside its radius.

        A stray is a member far below its cluster's own typical similarity (more than `OUTLIER_MADS` robust
        deviations under the median): the kNN graph links every question to something, however unlike it is.
        """
        k = int(raw.max()) + 1
        raw = raw.copy()
        sims = own_similarity(vectors, centroids_of(vectors, raw, k), raw)
        raw[sims < _outlier_floor(sims, raw, k)[raw]] = -1
        ids, counts = np.unique(raw[raw >= 0], return_counts=True)
        keep = ids[counts >= self.min_size]
        lookup = np.full(k + 1, -1)
        lookup[keep] = np.arange(len(keep))
        labels = lookup[raw]
        labels, centroids = settle(vectors, labels, len(keep))
        return Discovery(labels, centroids, own_similarity(vectors, centroids, labels), resolution)


@dataclass(frozen=True)
class _Candidate:
    resolution: float
    score: float
    """Mean silhouette, or the agreement with the previous topics."""
    labels: np.ndarray
    per_question: np.ndarray | None = None
    """Each sampled question's own silhouette (for the standard error of a difference between candidates)."""


def _parsimonious(tried: list[_Candidate], min_size: int) -> _Candidate:
    """The fewest topics whose silhouette is within one standard error of the best (Breiman's one-SE rule).

    A silhouette curve over resolutions is often flat across a wide range (BANKING77: 54 to 222 topics within
    0.01) and jagged by more than its differences, so its highest point lands anywhere on the plateau. The
    standard error of each candidate's gap to the best comes from the same questions' paired silhouettes; among
    the candidates indistinguishable from the best, the coarsest is the one that the data supports. A curve with a
    clear peak (CLINC150's narrow intents) keeps its peak.
    """
    best = max(tried, key=lambda c: c.score)
    assert best.per_question is not None
    near = []
    for c in tried:
        assert c.per_question is not None
        gap = best.per_question - c.per_question
        if gap.mean() <= gap.std() / np.sqrt(len(gap)):
            near.append(c)
    return min(near, key=lambda c: (_topics_in(c.labels, min_size), -c.score))


def _clearly_worse(candidate: _Candidate, best: _Candidate) -> bool:
    """Whether `candidate`'s silhouette is below the best's by more than `FALLING_SE` paired standard errors."""
    assert candidate.per_question is not None and best.per_question is not None
    gap = best.per_question - candidate.per_question
    return bool(gap.mean() > FALLING_SE * gap.std() / np.sqrt(len(gap)))


def louvain(graph: sparse.csr_matrix, resolution: float, random_state: int) -> np.ndarray:
    """Louvain communities of `graph` at `resolution`, labels only.

    The membership probabilities and the aggregate graph that scikit-network also computes by default are never
    read here, and cost a sixth of each call.
    """
    model = Louvain(resolution=resolution, random_state=random_state, return_probs=False, return_aggregate=False)
    return model.fit_predict(graph)


def cosine_silhouettes(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each question's silhouette under cosine distance, from per-cluster sums instead of all pairs.

    For unit vectors the mean distance from x to a cluster C is 1 − x·ΣC/|C| (its own cluster: x left out of the
    sum and the count), so the silhouette costs O(n·k) dot products instead of O(n²): the same values as
    scikit-learn's `silhouette_samples` on the precomputed cosine distances, and the ladder's largest cost gone.
    A question alone in its cluster scores 0, as there.
    """
    ids, labels = np.unique(labels, return_inverse=True)
    k = len(ids)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = _group_sums(vectors, labels, k)
    x = vectors.astype(np.float64)
    to_cluster = x @ sums.T
    rows = np.arange(len(x))
    own = to_cluster[rows, labels] - np.einsum("ij,ij->i", x, x)
    alone = counts[labels] <= 1
    a = 1.0 - own / np.maximum(counts[labels] - 1, 1)
    mean_other = 1.0 - to_cluster / counts
    mean_other[rows, labels] = np.inf
    b = mean_other.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    return np.where(alone, 0.0, s)


def _outlier_floor(similarity: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per cluster: median − `OUTLIER_MADS` × scaled MAD of its members' similarity (−inf for tiny clusters)."""
    floor = np.full(k + 1, -np.inf)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    for c in range(k):
        lo, hi = np.searchsorted(sorted_labels, [c, c + 1])
        if hi - lo >= 3:
            s = similarity[order[lo:hi]]
            median = float(np.median(s))
            floor[c] = median - OUTLIER_MADS * 1.4826 * float(np.median(np.abs(s - median)))
    return floor


def _agreement(previous: np.ndarray, labels: np.ndarray) -> float:
    had = previous >= 0
    return float(adjusted_rand_score(previous[had], labels[had]))


def _topics_in(labels: np.ndarray, min_size: int) -> int:
    return int(np.sum(np.bincount(labels) >= min_size))


def settle(vectors: np.ndarray, labels: np.ndarray, k: int, rounds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Let unassigned questions join topics whose radius they fall in, until none does; (labels, centroids).

    Joining moves a centroid and its radius, which can let in another question, so this repeats until nothing
    changes: then the incremental rule (`attach_radius` against the stored centroids) admits no one either.
    """
    labels = labels.copy()
    centroids = centroids_of(vectors, labels, k)
    for _ in range(rounds):
        out = np.flatnonzero(labels < 0)
        if not k or not len(out):
            break
        radius = radii(own_similarity(vectors, centroids, labels), labels, k)
        best, best_sim = nearest_centroid(vectors[out], centroids)
        join = best_sim >= radius[best]
        if not join.any():
            break
        labels[out[join]] = best[join]
        centroids = centroids_of(vectors, labels, k)
    return labels, centroids


def attach_radius(member_similarities: np.ndarray, quantile: float = ATTACH_QUANTILE) -> float:
    """How close to a topic's centroid a newcomer must be: its members' own `quantile` similarity."""
    if not len(member_similarities):
        return 1.0
    return float(np.quantile(np.asarray(member_similarities, dtype=np.float64), quantile))


def radii(similarity: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """`attach_radius` of every cluster 0..k-1."""
    out = np.ones(k, dtype=np.float64)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    for c in range(k):
        lo, hi = np.searchsorted(sorted_labels, [c, c + 1])
        out[c] = attach_radius(similarity[order[lo:hi]])
    return out


def refine(vectors: np.ndarray, labels: np.ndarray, steps: int) -> np.ndarray:
    """A few spherical k-means steps from the given partition; labels renumbered 0..k-1 (emptied ones vanish)."""
    labels = np.unique(labels, return_inverse=True)[1]
    for _ in range(steps):
        centroids = centroids_of(vectors, labels, int(labels.max()) + 1)
        moved, _ = nearest_centroid(vectors, centroids)
        if np.array_equal(moved, labels):
            break
        labels = np.unique(moved, return_inverse=True)[1]
    return labels


def scaled_knn_graph(vectors: np.ndarray, k: int, random_state: int = 0) -> sparse.csr_matrix:
    """Symmetric kNN graph with UMAP-style local scaling, combined as a fuzzy union (a + aᵀ − a∘aᵀ).

    An edge i→j weighs exp(−(d_ij − ρ_i)/σ_i), ρ_i being i's distance to its nearest neighbour and σ_i the mean
    excess of its k distances over ρ_i: every question's nearest neighbour weighs 1 whatever the data's density.
    """
    n = len(vectors)
    idx, sims = knn(vectors, k, random_state)
    d = 1.0 - sims
    rho = d[:, :1]
    sigma = np.maximum(d.mean(axis=1, keepdims=True) - rho, 1e-3)
    w = np.exp(-(d - rho) / sigma).astype(np.float32)
    a = sparse.csr_matrix((w.ravel(), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    return (a + a.T - a.multiply(a.T)).tocsr()


def knn(vectors: np.ndarray, k: int, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosines) of each vector's k nearest others, nearest first; exact up to `EXACT_NEIGHBOURS_UP_TO`."""
    if len(vectors) <= EXACT_NEIGHBOURS_UP_TO:
        return _knn_among(vectors, vectors, np.arange(len(vectors)), k)
    return _knn_by_cells(vectors, k, random_state)


def _knn_among(queries: np.ndarray, pool: np.ndarray, pool_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force kNN of `queries` within `pool`, whose first rows are the queries themselves (skipped)."""
    k = min(k, len(pool) - 1)
    idx = np.empty((len(queries), k), dtype=np.int64)
    out = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), CHUNK):
        sims = queries[start : start + CHUNK] @ pool.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = -np.inf
        part = np.argpartition(sims, len(pool) - k, axis=1)[:, -k:]
        top = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        idx[start : start + CHUNK] = pool_ids[np.take_along_axis(part, order, axis=1)]
        out[start : start + CHUNK] = np.take_along_axis(top, order, axis=1)
    return idx, out


def _knn_by_cells(vectors: np.ndarray, k: int, random_state: int, probes: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Approximate kNN: k-means cells (√n of them), each cell's questions searched in its `probes` nearest cells."""
    n = len(vectors)
    m = int(np.sqrt(n))
    cells = MiniBatchKMeans(
        n_clusters=m, init="random", batch_size=4096, n_init=1, max_iter=5, random_state=random_state
    ).fit(vectors)
    members = [np.flatnonzero(cells.labels_ == c) for c in range(m)]
    centres = cells.cluster_centers_ / np.maximum(np.linalg.norm(cells.cluster_centers_, axis=1, keepdims=True), 1e-9)
    affinity = centres @ centres.T
    np.fill_diagonal(affinity, np.inf)  # a cell's own questions come first in its pool
    near = np.argsort(-affinity, axis=1)[:, :probes]
    idx = np.empty((n, k), dtype=np.int64)
    out = np.empty((n, k), dtype=np.float32)
    for c in range(m):
        own = members[c]
        if not len(own):
            continue
        pool_ids = np.concatenate([members[j] for j in near[c]])
        idx[own], out[own] = _knn_among(vectors[own], vectors[pool_ids], pool_ids, k)
    return idx, out


def _group_sums(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-label sums of the vectors (labels -1 ignored), in float64, a block of rows at a time (no n-sized copy)."""
    out = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    for start in range(0, len(vectors), CHUNK):
        own = labels[start : start + CHUNK]
        keep = np.flatnonzero(own >= 0)
        block = vectors[start : start + CHUNK][keep].astype(np.float64)
        members = sparse.csr_matrix((np.ones(len(keep)), (own[keep], np.arange(len(keep)))), shape=(k, len(keep)))
        out += members @ block
    return out


def centroids_of(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sums = _group_sums(vectors, labels, k)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def nearest_centroid(vectors: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and similarity to the nearest centroid for each vector, a block of rows at a time."""
    best = np.empty(len(vectors), dtype=np.int64)
    best_sim = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), CHUNK):
        sims = vectors[start : start + CHUNK] @ centroids.T
        best[start : start + CHUNK] = sims.argmax(axis=1)
        best_sim[start : start + CHUNK] = sims.max(axis=1)
    return best, best_sim


def own_similarity(vectors: np.ndarray, centroids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    out = np.zeros(len(vectors), dtype=np.float32)
    if not len(centroids):
        return out
    for start in range(0, len(vectors), CHUNK):
        block, own = vectors[start : start + CHUNK], labels[start : start + CHUNK]
        sims = np.einsum("ij,ij->i", block, centroids[np.maximum(own, 0)])
        out[start : start + CHUNK] = np.where(own >= 0, sims, 0.0)
    return out
