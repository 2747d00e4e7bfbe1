"""Does gap detection notice docs that disappear? Remove help-center pages, re-analyse, score the flags.

    python -m bench.gaps                 # builds the demo in a temp dir (~1–3 min on 2 cores)
    python -m bench.gaps --keep /tmp/x   # keep the data dir to inspect it afterwards
    python -m bench.gaps --sweep         # also re-assess at other coverage thresholds (calibration curve)

The demo is built with five pages left out of the help center; the eight intents those pages documented are now
undocumented ("removed"). Each intent's fate is the kind of the topic that holds most of its questions (as in
`tests/clustering/test_topics.py`). Reported: recall on removed intents and on all gaps (removed + the demo's
planted undocumented intents), precision of the gap flags, and how many still-documented intents stayed
unflagged. Partly documented intents are shown but left out of precision and recall: either answer is defensible.
Precision is given twice: over every flag, and over content-gap flags only (missing / partial), because a
findability flag on a documented intent says the docs answer it, which is true there.

Coverage is judged by similarity unless an LLM is configured (`DOCGAP_LLM_BASE_URL` in the environment): then the
LLM judge decides, and the run says so. `--sweep` re-runs the assessment (not the clustering) with other
`covered` thresholds on the same topics; with an LLM configured it calls the judge once per topic per threshold.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from core.models import Question, Topic
from core.runtime import Runtime
from core.settings import Settings
from demo import DEMO_DIR, HELPCENTER_DIR
from demo.build import STAFF_DOMAIN, build, default_end
from ingest.slack import read_slack_export
from ingest.zendesk import read_zendesk
from retrieval.coverage import CoverageThresholds, assess_topics
from usecases.pipeline import analyse, import_accounts, import_docs, import_questions

REMOVED_PAGES = (
    "cards/card-delivery.md",
    "payments/refunds.md",
    "cards/lost-stolen-or-compromised-cards.md",
    "top-ups/automatic-top-ups.md",
    "payments/duplicate-charges.md",
)
"""Five pages documenting eight intents, none of them partly documented ones, from four sections."""
GROUPS = ("removed", "undocumented", "documented", "partial")
CONTENT_KINDS = ("missing", "partial")
SWEEP_STEPS = (-0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15)
"""`--sweep`: covered thresholds tried, as steps from the profile's (coverage is a calibrated probability)."""


def build_without_pages(data_dir: Path, removed: tuple[str, ...]) -> Runtime:
    """The whole demo pipeline over a help-center copy that lacks `removed` pages."""
    rt = Runtime(Settings(data_dir=data_dir, staff_domains=STAFF_DOMAIN, _env_file=None))  # type: ignore[call-arg]
    sources, docs = data_dir / "demo-sources", data_dir / "helpcenter"
    build(sources, default_end())
    shutil.copytree(HELPCENTER_DIR, docs)
    for page in removed:
        (docs / page).unlink()
    staff = rt.settings.staff_domain_list
    assert import_docs(rt, docs, "helpcenter").ok
    import_accounts(rt, sources / "accounts.csv")
    import_questions(rt, read_zendesk(sources / "zendesk" / "tickets.json", staff))
    import_questions(rt, read_slack_export(sources / "slack" / "fernpay-slack-export.zip", staff))
    analyse(rt)
    return rt


def intent_groups(removed: tuple[str, ...]) -> dict[str, str]:
    """Each intent's truth after the removal: removed / undocumented / documented / partial."""
    intents = json.loads((DEMO_DIR / "intents.json").read_text())["intents"]
    return {i: "removed" if v["page"] in removed else v["status"] for i, v in intents.items()}


def intent_fates(rt: Runtime) -> dict[str, str]:
    """Each intent's gap kind ("covered" when not flagged): that of the topic holding most of its questions."""
    return {i: h.kind for i, h in intent_holders(rt).items()}


@dataclass(frozen=True)
class Holder:
    """The topic holding most of an intent's questions, and how much of that topic the intent makes up."""

    topic_id: int | None
    kind: str
    coverage: float | None
    share_of_intent: float
    share_of_topic: float
    """Below ~0.5 the intent was merged into a topic led by other intents ("merged intents hide gaps")."""


def intent_holders(rt: Runtime) -> dict[str, Holder]:
    truth_csv = rt.settings.data_dir / "demo-sources" / "truth.csv"
    truth = {(r["source"], r["external_id"]): r["intent"] for r in csv.DictReader(truth_csv.open(encoding="utf-8"))}
    with Session(rt.engine) as s:
        topics = {t.id: t for t in s.exec(select(Topic).where(col(Topic.active).is_(True))).all()}
        questions = s.exec(select(Question.source, Question.external_id, Question.topic_id)).all()
    holders: dict[str, Counter[int | None]] = defaultdict(Counter)
    sizes: Counter[int | None] = Counter()
    for source, external_id, topic_id in questions:
        if (source, external_id) in truth:
            holders[truth[(source, external_id)]][topic_id] += 1
            sizes[topic_id] += 1
    out = {}
    for intent, c in holders.items():
        tid, n = c.most_common(1)[0]
        topic = topics.get(tid)  # type: ignore[arg-type]
        kind = (topic.gap_kind or "covered") if topic else "unassigned"
        cov = topic.coverage if topic else None
        out[intent] = Holder(tid, kind, cov, n / sum(c.values()), n / max(sizes[tid], 1))
    return out


def score(groups: dict[str, str], fates: dict[str, str]) -> dict[str, float]:
    flagged = {i for i, f in fates.items() if f not in ("covered", "unassigned")}
    content = {i for i, f in fates.items() if f in CONTENT_KINDS}
    by = {g: [i for i in fates if groups.get(i) == g] for g in GROUPS}
    gaps = set(by["removed"]) | set(by["undocumented"])
    judged = gaps | set(by["documented"])
    flagged_judged, content_judged = flagged & judged, content & judged
    return {
        "recall_removed": len(flagged & set(by["removed"])) / max(len(by["removed"]), 1),
        "recall_all_gaps": len(flagged & gaps) / max(len(gaps), 1),
        "precision": len(flagged_judged & gaps) / max(len(flagged_judged), 1),
        "precision_content": len(content_judged & gaps) / max(len(content_judged), 1),
        "documented_unflagged": len(set(by["documented"]) - flagged) / max(len(by["documented"]), 1),
    }


def summary_line(s: dict[str, float]) -> str:
    return (
        f"recall on removed intents {s['recall_removed']:.0%} · recall on all gaps {s['recall_all_gaps']:.0%} · "
        f"precision of gap flags {s['precision']:.0%} (content-gap flags only: {s['precision_content']:.0%}) · "
        f"still-documented intents left unflagged {s['documented_unflagged']:.0%}"
    )


def print_report(groups: dict[str, str], holders: dict[str, Holder], seconds: float, judge: str) -> None:
    fates = {i: h.kind for i, h in holders.items()}
    print(f"removed pages: {', '.join(REMOVED_PAGES)}  (built and analysed in {seconds:.0f}s; coverage: {judge})\n")
    print(f"{'intent group':<14} {'n':>3} {'missing':>8} {'partial':>8} {'findab.':>8} {'covered':>8}")
    for g in GROUPS:
        kinds = Counter(fates[i] for i in fates if groups.get(i) == g)
        n = sum(kinds.values())
        row = [kinds.get(k, 0) for k in ("missing", "partial", "findability")]
        print(f"{g:<14} {n:>3} {row[0]:>8} {row[1]:>8} {row[2]:>8} {n - sum(row):>8}")
    print("\nremoved intents (fate · holding topic · its coverage · share of the topic that is this intent):")
    for i in sorted(i for i, g in groups.items() if g == "removed" and i in holders):
        print(f"  {i:<34} {_holder_row(holders[i])}")
    wrong = sorted(i for i, g in groups.items() if g == "documented" and fates.get(i, "covered") != "covered")
    print("documented intents flagged:")
    for i in wrong:
        print(f"  {i:<34} {_holder_row(holders[i])}")
    print("\n" + summary_line(score(groups, fates)))


def _holder_row(h: Holder) -> str:
    cov = f"{h.coverage:.2f}" if h.coverage is not None else "-"
    return f"{h.kind:<12} topic {h.topic_id!s:>4}  coverage {cov}  {h.share_of_topic:>4.0%} of the topic"


def sweep(rt: Runtime, groups: dict[str, str]) -> None:
    """Re-assess the same topics at other `covered` thresholds (missing stays) and score each: the trade-off."""
    base = CoverageThresholds.of(rt)
    print(f"\nsweep of the covered threshold (missing {base.missing:.2f}; clustering unchanged):")
    head = ("covered", "rec.removed", "rec.all", "precision", "prec.content", "doc.flagged")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, (8, 12, 8, 10, 13, 12), strict=True)))
    for covered in (round(min(max(base.covered + d, 0.0), 1.0), 3) for d in SWEEP_STEPS):
        assess_topics(rt, CoverageThresholds(covered=covered, missing=min(base.missing, covered)))
        s = score(groups, intent_fates(rt))
        print(
            f"{covered:>8.2f} {s['recall_removed']:>12.0%} {s['recall_all_gaps']:>8.0%} {s['precision']:>10.0%} "
            f"{s['precision_content']:>13.0%} {1 - s['documented_unflagged']:>12.0%}"
        )
    assess_topics(rt, base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="build into this (new) folder and keep it")
    parser.add_argument("--sweep", action="store_true", help="also score other coverage thresholds")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="docgap-bench-gaps-") as tmp:
        data_dir = args.keep or Path(tmp) / "data"
        rt = build_without_pages(data_dir, REMOVED_PAGES)
        judge = (
            f"LLM judge ({rt.settings.llm_model})" if rt.llm is not None else "retrieval confidence only (no LLM judge)"
        )
        groups = intent_groups(REMOVED_PAGES)
        print_report(groups, intent_holders(rt), time.monotonic() - started, judge)
        if args.sweep:
            sweep(rt, groups)


if __name__ == "__main__":
    main()
