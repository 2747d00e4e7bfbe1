"""Topic discovery without being told how many topics there are.

Average-linkage agglomerative clustering on cosine distance, cut at a fixed distance: the number of topics
follows from how far apart questions are, not from a k chosen up front. Clusters smaller than `min_size` are
not topics; their questions are then attached to the nearest topic if close enough, else left unassigned (-1).

Exact agglomerative clustering needs the n×n distance matrix (O(n²) memory), so above `exact_up_to` questions
discovery runs in two stages: MiniBatchKMeans compresses the questions into micro-clusters, and the same
average-linkage cut runs on those, weighted by their sizes. For unit vectors the average cosine distance between
two groups is `1 - mean_a · mean_b` (unnormalised means), so weighted average linkage over micro-clusters is
*exactly* average linkage over their questions, under the one constraint that a micro-cluster is never split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans

CHUNK = 8192
"""Rows per block when comparing questions with centroids, so memory stays O(chunk × k), not O(n × k)."""


@dataclass(frozen=True)
class Discovery:
    labels: np.ndarray
    """Cluster index per question, -1 for unassigned."""
    centroids: np.ndarray
    """L2-normalised centroid per cluster index."""
    similarity: np.ndarray
    """Cosine similarity of each question to its cluster's centroid (0 when unassigned)."""


class AgglomerativeDiscoverer:
    """Average-linkage cut at `distance_threshold`; two-stage (micro-clusters first) above `exact_up_to` vectors.

    Args:
        distance_threshold: cosine distance at which the dendrogram is cut (MiniLM-calibrated).
        min_size: smallest cluster that counts as a topic.
        attach_similarity: how close a question from a dropped cluster must be to a topic's centroid to join it.
        exact_up_to: largest n clustered exactly; at 5,000 the condensed distance matrix is ~100 MB and takes ~2 s.
        points_per_micro_cluster: n / m for the first stage; 5 kept BANKING77 quality equal to the exact path.
        max_micro_clusters: caps the second stage's m×m matrix (4,000 → 128 MB) whatever n is.
        random_state: seeds MiniBatchKMeans, so the same vectors always give the same topics.
    """

    def __init__(
        self,
        distance_threshold: float = 0.5,
        min_size: int = 5,
        attach_similarity: float = 0.5,
        exact_up_to: int = 5000,
        points_per_micro_cluster: int = 5,
        max_micro_clusters: int = 4000,
        random_state: int = 0,
    ) -> None:
        self.distance_threshold = distance_threshold
        self.min_size = min_size
        self.attach_similarity = attach_similarity
        self.exact_up_to = exact_up_to
        self.points_per_micro_cluster = points_per_micro_cluster
        self.max_micro_clusters = max_micro_clusters
        self.random_state = random_state

    def discover(self, vectors: np.ndarray) -> Discovery:
        n = len(vectors)
        if n < self.min_size:
            return Discovery(np.full(n, -1), np.zeros((0, vectors.shape[1] if n else 0)), np.zeros(n))
        raw = self._exact(vectors) if n <= self.exact_up_to else self._two_stage(vectors)
        return self._finish(vectors, raw)

    def _exact(self, vectors: np.ndarray) -> np.ndarray:
        return AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=self.distance_threshold
        ).fit_predict(vectors)

    def _two_stage(self, vectors: np.ndarray) -> np.ndarray:
        """Micro-clusters by MiniBatchKMeans, then the weighted average-linkage cut over them."""
        vectors = np.asarray(vectors, dtype=np.float32)
        m = min(len(vectors) // self.points_per_micro_cluster, self.max_micro_clusters)
        # Random init: k-means++ over thousands of centres costs minutes, and the linkage stage re-merges anyway.
        kmeans = MiniBatchKMeans(
            n_clusters=m, init="random", batch_size=4096, n_init=1, max_iter=3, random_state=self.random_state
        ).fit(vectors)
        micro = kmeans.labels_
        weights = np.bincount(micro, minlength=m).astype(np.float64)
        sums = _group_sums(vectors, micro, m)
        used = weights > 0
        groups = np.full(m, -1)
        groups[used] = average_linkage_cut(sums[used], weights[used], self.distance_threshold)
        return groups[micro]

    def _finish(self, vectors: np.ndarray, raw: np.ndarray) -> Discovery:
        """Drop clusters below `min_size`, attach their questions to the nearest topic when close enough."""
        n = len(vectors)
        ids, counts = np.unique(raw, return_counts=True)
        keep = ids[counts >= self.min_size]
        lookup = np.full(int(ids.max()) + 1, -1)
        lookup[keep] = np.arange(len(keep))
        labels = lookup[raw]
        centroids = centroids_of(vectors, labels, len(keep))
        if not len(keep):
            return Discovery(labels, centroids, np.zeros(n))
        best, best_sim = nearest_centroid(vectors, centroids)
        attach = (labels == -1) & (best_sim >= self.attach_similarity)
        labels[attach] = best[attach]
        centroids = centroids_of(vectors, labels, len(keep))
        return Discovery(labels, centroids, own_similarity(vectors, centroids, labels))


def average_linkage_cut(sums: np.ndarray, weights: np.ndarray, threshold: float) -> np.ndarray:
    """Flat clusters of weighted average linkage on cosine distance, cut at `threshold`.

    Group i stands for `weights[i]` unit vectors summing to `sums[i]`; the average distance between groups is
    `1 - s_a·s_b / (w_a w_b)`, updated by Lance–Williams as groups merge. The nearest-neighbour-chain algorithm
    needs O(m²) time and one m×m matrix; since average linkage is reducible, a group whose nearest neighbour is
    farther than the threshold can never merge below it, so it is final and leaves the search.
    """
    m = len(weights)
    means = (sums / weights[:, None]).astype(np.float64)
    dist = means @ means.T
    np.subtract(1.0, dist, out=dist)
    np.fill_diagonal(dist, np.inf)
    w = weights.astype(np.float64).copy()
    parent = np.arange(m)
    open_ = np.ones(m, dtype=bool)
    chain: list[int] = []
    while True:
        if not chain:
            remaining = np.flatnonzero(open_)
            if len(remaining) < 2:
                break
            chain.append(int(remaining[0]))
        a = chain[-1]
        b = int(np.argmin(dist[a]))
        if len(chain) > 1 and dist[a, chain[-2]] <= dist[a, b]:
            b = chain[-2]
        if dist[a, b] > threshold:
            for c in chain:
                _close(dist, open_, c)
            chain.clear()
        elif len(chain) > 1 and b == chain[-2]:
            chain.pop()
            chain.pop()
            _merge(dist, w, parent, a, b)
        else:
            chain.append(b)
    roots = np.array([_root(parent, i) for i in range(m)])
    return np.unique(roots, return_inverse=True)[1]


def _merge(dist: np.ndarray, w: np.ndarray, parent: np.ndarray, a: int, b: int) -> None:
    """Merge group b into a: the Lance–Williams update for (weighted) average linkage."""
    row = (w[a] * dist[a] + w[b] * dist[b]) / (w[a] + w[b])
    row[a] = np.inf
    dist[a, :] = row
    dist[:, a] = row
    dist[b, :] = np.inf
    dist[:, b] = np.inf
    w[a] += w[b]
    parent[b] = a


def _close(dist: np.ndarray, open_: np.ndarray, c: int) -> None:
    dist[c, :] = np.inf
    dist[:, c] = np.inf
    open_[c] = False


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = int(parent[i])
    return i


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
    for start in range(0, len(vectors), CHUNK):
        block, own = vectors[start : start + CHUNK], labels[start : start + CHUNK]
        sims = np.einsum("ij,ij->i", block, centroids[np.maximum(own, 0)])
        out[start : start + CHUNK] = np.where(own >= 0, sims, 0.0)
    return out
