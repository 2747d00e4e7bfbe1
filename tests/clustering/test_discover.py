import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from clustering.discover import AgglomerativeDiscoverer, average_linkage_cut


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _small_input() -> np.ndarray:
    """Five topics, one too-small cluster, three stragglers near topics and four noise points."""
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(6, 16))
    sizes = [9, 8, 7, 6, 5, 3]
    pts = [c + rng.normal(scale=0.35, size=(s, 16)) for c, s in zip(centers, sizes, strict=True)]
    pts.append(centers[:3] + rng.normal(scale=0.8, size=(3, 16)))
    pts.append(rng.normal(size=(4, 16)))
    return _unit(np.vstack(pts))


# Computed with the one-stage discoverer before the two-stage path was added.
SMALL_LABELS = [1] * 9 + [3] * 8 + [0] * 7 + [4] * 6 + [2] * 5 + [-1] * 4 + [3, 0, -1, -1, 3, -1]
SMALL_SIMILARITY = [
    0.9602, 0.9235, 0.9383, 0.8849, 0.9269, 0.938, 0.8453, 0.9184, 0.9163, 0.964, 0.9832, 0.9253, 0.9687, 0.9612,
    0.9552, 0.9709, 0.9634, 0.9416, 0.9284, 0.9483, 0.9266, 0.9674, 0.9414, 0.9341, 0.9533, 0.962, 0.9701, 0.9763,
    0.9773, 0.9275, 0.9679, 0.9724, 0.9838, 0.9532, 0.9517, 0.0, 0.0, 0.0, 0.0, 0.8602, 0.6473, 0.0, 0.0, 0.5849, 0.0,
]  # fmt: skip


def _blobs(n_blobs: int, n: int, dim: int = 64, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated Gaussian blobs on the unit sphere (random directions ~1 apart in cosine distance)."""
    rng = np.random.default_rng(seed)
    centers = _unit(rng.normal(size=(n_blobs, dim)))
    truth = rng.integers(0, n_blobs, n)
    return _unit(centers[truth] + rng.normal(scale=0.05, size=(n, dim))), truth


def test_small_input_keeps_the_one_stage_result() -> None:
    found = AgglomerativeDiscoverer().discover(_small_input())
    assert found.labels.tolist() == SMALL_LABELS
    np.testing.assert_allclose(found.similarity, SMALL_SIMILARITY, atol=1e-4)
    assert found.centroids.shape == (5, 16)


def test_two_stage_recovers_blobs_deterministically() -> None:
    """Above `exact_up_to` the two-stage path runs (its speed is `python -m bench.clustering`'s business)."""
    vectors, truth = _blobs(300, 20_000)
    discoverer = AgglomerativeDiscoverer()
    first = discoverer.discover(vectors)
    second = discoverer.discover(vectors)
    assert len(vectors) > discoverer.exact_up_to
    assert normalized_mutual_info_score(truth, first.labels) >= 0.9
    assert np.array_equal(first.labels, second.labels)
    assert abs(len(first.centroids) - 300) <= 30
    assert np.mean(first.labels < 0) < 0.05


def test_linkage_cut_with_unit_weights_matches_sklearn() -> None:
    vectors, _ = _blobs(12, 300, dim=16, seed=5)
    vectors = _unit(vectors + np.random.default_rng(1).normal(scale=0.15, size=vectors.shape))
    ours = average_linkage_cut(vectors.astype(np.float64), np.ones(len(vectors)), 0.5)
    exact = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=0.5
    ).fit_predict(vectors)
    assert len(set(exact.tolist())) > 5
    assert adjusted_rand_score(exact, ours) == 1.0


def test_weights_act_like_repeated_points() -> None:
    """Weighting is what makes micro-clusters stand for their questions: a weight of w equals w copies."""
    rng = np.random.default_rng(2)
    vectors, _ = _blobs(6, 60, dim=8, seed=4)
    vectors = _unit(vectors + rng.normal(scale=0.3, size=vectors.shape))
    weights = rng.integers(1, 6, len(vectors))
    ours = average_linkage_cut(vectors * weights[:, None].astype(np.float64), weights.astype(float), 0.5)
    repeated = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=0.5
    ).fit_predict(np.repeat(vectors, weights, axis=0))
    first_copy = np.r_[0, np.cumsum(weights)[:-1]]
    assert adjusted_rand_score(repeated[first_copy], ours) == 1.0
    unweighted = average_linkage_cut(vectors.astype(np.float64), np.ones(len(vectors)), 0.5)
    assert adjusted_rand_score(unweighted, ours) < 1.0, "weights should change this cut, or the test proves nothing"
