"""Evaluate the demo: how topics line up with the planted intents, and which planted gaps were flagged.

Run after `docgap demo --no-serve` with the same `DOCGAP_DATA_DIR`:
    python -m bench.demo_gaps
Prints topic count, clustering NMI/ARI against the BANKING77 intents, and per planted intent status whether its
topic(s) were flagged as a gap.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sqlmodel import Session, select

from core.models import Question, Topic
from core.runtime import Runtime
from core.settings import Settings
from demo import DEMO_DIR


def main() -> None:
    settings = Settings()
    rt = Runtime(settings)
    truth_rows = list(csv.DictReader((settings.data_dir / "demo-sources" / "truth.csv").open(encoding="utf-8")))
    status = {k: v["status"] for k, v in json.loads((DEMO_DIR / "intents.json").read_text())["intents"].items()}
    intent_of: dict[tuple[str, str], str] = {(r["source"], r["external_id"]): r["intent"] for r in truth_rows}
    with Session(rt.engine) as s:
        qs = s.exec(select(Question)).all()
        topics = {t.id: t for t in s.exec(select(Topic).where(Topic.active == True)).all()}  # noqa: E712
    pairs = [(intent_of.get((q.source, q.external_id)), q.topic_id) for q in qs]
    pairs = [(i, t) for i, t in pairs if i]
    nmi = normalized_mutual_info_score([i for i, _ in pairs], [t or -1 for _, t in pairs])
    ari = adjusted_rand_score([i for i, _ in pairs], [t or -1 for _, t in pairs])
    print(f"questions matched to truth: {len(pairs)}/{len(qs)}; topics: {len(topics)}; NMI {nmi:.3f} ARI {ari:.3f}")
    kinds = Counter(t.gap_kind or "covered" for t in topics.values())
    print("topic kinds:", dict(kinds))
    # Topic's majority intent → status; the intent's fate = the kind of the topic holding most of its questions.
    by_intent: dict[str, Counter] = defaultdict(Counter)
    for i, t in pairs:
        by_intent[i][t] += 1
    table = defaultdict(list)
    for intent, c in sorted(by_intent.items()):
        tid, _n = c.most_common(1)[0]
        t = topics.get(tid)
        kind = (t.gap_kind or "covered") if t else "unassigned"
        cov = f"{t.coverage:.2f}" if t and t.coverage is not None else "-"
        table[status.get(intent, "chatter")].append((intent, kind, cov, tid))
    for st in ("undocumented", "partial", "documented"):
        rows = table[st]
        flagged = sum(1 for r in rows if r[1] in ("missing", "partial"))
        print(f"\n{st}: {flagged}/{len(rows)} flagged as gaps")
        for r in rows:
            print(f"  {r[0]:<50} {r[1]:<10} cov {r[2]} topic {r[3]}")


if __name__ == "__main__":
    main()
