"""Question detection and language detection measured on the demo's labelled messages.

The demo's Slack channels carry BANKING77 questions and statements, questions in French, Spanish and German, and
chatter that asks nothing ("Thanks so much!", "FYI …", "Bonne journée"); `truth.csv` labels each. Prints
precision and recall of `is_question` (positive = asks, requests or reports a problem) and the accuracy of the
language detector on the non-English messages.

    python -m bench.question_detection
"""

from __future__ import annotations

import csv
import tempfile
import time
from datetime import date
from pathlib import Path

from demo.build import CHATTER, build
from ingest.detection import detect_languages, is_question


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), date(2026, 11, 23))
        rows = list(csv.DictReader((Path(tmp) / "truth.csv").open(encoding="utf-8")))
    started = time.perf_counter()
    predicted = [is_question(r["text"]) for r in rows]
    elapsed = time.perf_counter() - started
    actual = [r["intent"] != CHATTER for r in rows]
    tp = sum(p and a for p, a in zip(predicted, actual, strict=True))
    fp = sum(p and not a for p, a in zip(predicted, actual, strict=True))
    fn = sum(a and not p for p, a in zip(predicted, actual, strict=True))
    print(f"messages: {len(rows)} ({sum(actual)} questions, {len(rows) - sum(actual)} chatter)")
    print(f"question detection: precision {tp / (tp + fp):.4f}  recall {tp / (tp + fn):.4f}  ({fp} FP, {fn} FN)")
    print(f"  {len(rows) / elapsed:,.0f} messages/s")
    for p, a, r in zip(predicted, actual, rows, strict=True):
        if p != a:
            print(f"  {'FP' if p else 'FN'}: {r['text']}")
    foreign = [r for r in rows if r["language"] != "en" and r["intent"] != CHATTER]
    langs = detect_languages([r["text"] for r in foreign])
    right = sum(g == r["language"] for g, r in zip(langs, foreign, strict=True))
    print(f"language of non-English questions: {right}/{len(foreign)} right")
    english = [r["text"] for r in rows if r["language"] == "en" and r["intent"] != CHATTER][:500]
    en = detect_languages(english)
    print(f"language of English questions: {sum(g == 'en' for g in en)}/{len(en)} 'en', {en.count(None)} unsure")


if __name__ == "__main__":
    main()
