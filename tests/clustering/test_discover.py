import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from clustering.discover import (
    Discoverer,
    _knn_by_cells,
    _parsimonious,
    attach_radius,
    knn,
    nearest_centroid,
    radii,
    scaled_knn_graph,
)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _blobs(n_blobs: int, n: int, spread: float, dim: int = 64, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs on the unit sphere; `spread` sets how far members sit from their centre (and each other)."""
    rng = np.random.default_rng(seed)
    centers = _unit(rng.normal(size=(n_blobs, dim)))
    truth = rng.integers(0, n_blobs, n)
    return _unit(centers[truth] + rng.normal(scale=spread, size=(n, dim))), truth


def _found(labels: np.ndarray) -> int:
    return len(set(labels[labels >= 0].tolist()))


def test_finds_many_tight_and_few_loose_topics_without_being_told() -> None:
    """The same settings find 60 tight topics and 8 loose ones: no cut tied to one similarity scale."""
    for n_blobs, spread in ((60, 0.06), (8, 0.16)):
        vectors, truth = _blobs(n_blobs, 1200, spread)
        sims = vectors @ vectors.T
        same = truth[:, None] == truth[None, :]
        within = float(sims[same & ~np.eye(len(truth), dtype=bool)].mean())
        found = Discoverer().discover(vectors)
        assert 0.67 * n_blobs <= _found(found.labels) <= 1.5 * n_blobs, (n_blobs, _found(found.labels), within)
        assert normalized_mutual_info_score(truth, found.labels) >= 0.9
        assert np.mean(found.labels < 0) <= 0.1
    # The two sets' members sit at very different cosines from each other, so one fixed cut could not serve both.
    tight, _ = _blobs(60, 300, 0.06)
    loose, _ = _blobs(8, 300, 0.16)
    assert float(np.median(tight @ tight.T)) != float(np.median(loose @ loose.T))


def test_same_vectors_same_topics() -> None:
    vectors, _ = _blobs(30, 900, 0.1, seed=5)
    first, second = Discoverer().discover(vectors), Discoverer().discover(vectors)
    assert np.array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.centroids, second.centroids)


def test_no_question_left_out_is_inside_a_topics_radius() -> None:
    """What a run leaves out, the incremental rule (nearest topic, its radius) would not let in either."""
    vectors, _ = _blobs(25, 600, 0.1, seed=11)
    strays = _unit(np.random.default_rng(2).normal(size=(40, vectors.shape[1])))
    found = Discoverer().discover(np.vstack([vectors, strays]))
    everything = np.vstack([vectors, strays])
    out = np.flatnonzero(found.labels < 0)
    assert len(out), "random strays belong to no topic"
    radius = radii(found.similarity, found.labels, len(found.centroids))
    best, sim = nearest_centroid(everything[out], found.centroids)
    assert np.all(sim < radius[best])
    assert np.mean(found.labels[: len(vectors)] >= 0) >= 0.95


def test_attach_radius_is_a_low_quantile_of_the_members() -> None:
    sims = np.linspace(0.5, 0.95, 10)
    assert sims[0] <= attach_radius(sims) <= sims[2]
    assert attach_radius(np.array([])) == 1.0, "an empty topic takes no one"


def test_cell_search_finds_nearly_all_true_neighbours() -> None:
    vectors, _ = _blobs(50, 6000, 0.1, seed=4)
    exact, _ = knn(vectors, 10)
    approx, sims = _knn_by_cells(vectors, 10, 0)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.9
    assert np.all(np.diff(sims, axis=1) <= 1e-6), "nearest first"
    assert not np.any(approx == np.arange(len(vectors))[:, None]), "a question is not its own neighbour"


def test_large_input_chooses_on_a_sample_and_keeps_the_count() -> None:
    vectors, truth = _blobs(120, 12_000, 0.08, seed=8)
    discoverer = Discoverer()
    assert len(vectors) > discoverer.select_on
    found = discoverer.discover(vectors)
    assert 0.67 * 120 <= _found(found.labels) <= 1.5 * 120
    assert normalized_mutual_info_score(truth, found.labels) >= 0.9


def test_too_little_to_cluster() -> None:
    found = Discoverer().discover(_unit(np.random.default_rng(0).normal(size=(2, 8))))
    assert found.labels.tolist() == [-1, -1]
    assert found.centroids.shape == (0, 8)


def test_the_silhouette_from_cluster_sums_is_scikit_learns() -> None:
    """`cosine_silhouettes` replaces the O(n²) precomputed-distance silhouette; it must give the same values,
    singletons (0) and a cluster of one question beside big ones included."""
    from sklearn.metrics import silhouette_samples

    from clustering.discover import cosine_silhouettes

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(400, 24)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = rng.integers(0, 12, 400)
    labels[:3] = [40, 41, 42]
    distances = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    expected = silhouette_samples(distances, labels, metric="precomputed")
    got = cosine_silhouettes(vectors, labels)
    assert np.allclose(got, expected, atol=1e-5) and (got[:3] == 0).all()


def test_the_count_search_lands_near_the_target_on_the_whole_graph() -> None:
    vectors, _ = _blobs(120, 6_000, 0.08, seed=5)
    discoverer = Discoverer()
    graph = scaled_knn_graph(vectors, discoverer.neighbours)
    for target in (120, 240):  # both above what the lowest resolution finds
        _, labels = discoverer._match_count(graph, target)
        assert abs(_found(labels) - target) <= 0.05 * target, target


def test_stopping_the_ladder_once_it_has_fallen_changes_no_choice() -> None:
    vectors, _ = _blobs(20, 1_000, 0.25, seed=4)  # few broad topics: the silhouette falls past them
    stopping, full = Discoverer(), Discoverer(falling_stop=None)
    early, every = stopping._candidates(vectors), full._candidates(vectors)
    assert len(early) < len(every)
    assert np.array_equal(_parsimonious(early, 2).labels, _parsimonious(every, 2).labels)
