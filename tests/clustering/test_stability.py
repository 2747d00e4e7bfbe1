"""Topic identity over time, on private copies of the analysed demo (real SQLite, Chroma and MiniLM vectors).

The issue's figures: re-running keeps every id; adding 10% new data keeps ≥95% of old questions in their topic
ids; a merged topic stays merged (and a split one stays split) through a full re-cluster.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from sqlmodel import Session, col, select

from clustering.curation import CurationError, lineage, merge_topics, split_topic
from clustering.service import assign_new, recluster
from core.models import Question, Topic
from core.runtime import Runtime

pytestmark = pytest.mark.backends


def _assignment(rt: Runtime) -> dict[int, int | None]:
    with Session(rt.engine) as s:
        return {q.id: q.topic_id for q in s.exec(select(Question).where(col(Question.embedded).is_(True))).all()}  # type: ignore[misc]


def _active(rt: Runtime) -> dict[int, Topic]:
    with Session(rt.engine) as s:
        return {t.id: t for t in s.exec(select(Topic).where(col(Topic.active).is_(True))).all()}  # type: ignore[misc]


def _hold_back_newest(rt: Runtime, share: float) -> list[int]:
    """Un-embed the newest `share` of questions so the demo looks as it did before they arrived."""
    with Session(rt.engine) as s:
        qs = s.exec(  # ties by id: the same held-back set on every database
            select(Question)
            .where(col(Question.embedded).is_(True))
            .order_by(col(Question.created_at), col(Question.id))
        ).all()
        newest = qs[int(len(qs) * (1 - share)) :]
        for q in newest:
            q.embedded, q.topic_id, q.topic_similarity = False, None, None
        s.commit()
        return [q.id for q in newest]  # type: ignore[misc]


def _release(rt: Runtime, ids: list[int]) -> None:
    """The held-back questions arrive (their vectors are still in Chroma: only the flag hid them)."""
    with Session(rt.engine) as s:
        for q in s.exec(select(Question).where(col(Question.id).in_(ids))).all():
            q.embedded = True
        s.commit()


def _kept_share(before: dict[int, int | None], after: dict[int, int | None]) -> float:
    had = [q for q, t in before.items() if t is not None]
    return sum(after[q] == before[q] for q in had) / len(had)


def test_ten_percent_new_questions_keep_old_questions_in_their_topics(demo_copy: Runtime) -> None:
    held = _hold_back_newest(demo_copy, 0.10)
    recluster(demo_copy)
    before = _assignment(demo_copy)
    topics_before = set(_active(demo_copy))
    _release(demo_copy, held)

    inc = assign_new(demo_copy)
    after_inc = _assignment(demo_copy)
    assert inc.mode == "incremental" and inc.assigned > 0.7 * len(held)
    assert _kept_share(before, after_inc) == 1.0, "incremental assignment must never move an old question"
    joined = sum(after_inc[q] is not None for q in held) / len(held)
    assert joined >= 0.8, f"only {joined:.0%} of new questions found a topic"

    full = recluster(demo_copy)
    after_full = _assignment(demo_copy)
    kept = _kept_share(before, after_full)
    print(f"10% new data: incremental kept 100%, full re-cluster kept {kept:.1%} (joined {joined:.0%})")
    assert kept >= 0.95, f"a full re-cluster with 10% more data moved {1 - kept:.1%} of old questions"
    assert len(topics_before & set(_active(demo_copy))) >= 0.9 * len(topics_before)
    assert full.mode == "full"


def test_incremental_run_with_nothing_new_moves_nothing(demo_copy: Runtime) -> None:
    before = _assignment(demo_copy)
    first = assign_new(demo_copy)  # only the leftovers of the last run are looked at again
    after = _assignment(demo_copy)
    assert _kept_share(before, after) == 1.0
    newly = [q for q, t in before.items() if t is None and after[q] is not None]
    born = set(after.values()) - set(before.values())
    assert first.assigned == sum(1 for q in newly if after[q] not in born)
    assert first.new_topics == len(born - {None})
    second = assign_new(demo_copy)
    assert _assignment(demo_copy) == after and second.assigned == 0 and second.new_topics == 0


def test_a_merged_topic_stays_merged_through_a_full_recluster(demo_copy: Runtime) -> None:
    topics = sorted(_active(demo_copy).values(), key=lambda t: -t.size)
    a, b, into = topics[2], topics[5], topics[0]
    moved = [q for q, t in _assignment(demo_copy).items() if t in (a.id, b.id)]
    merged = merge_topics(demo_copy, [a.id, b.id], into=into.id)  # type: ignore[list-item,arg-type]
    assert merged.size == into.size + a.size + b.size

    recluster(demo_copy)
    after = _assignment(demo_copy)
    share = sum(after[q] == into.id for q in moved) / len(moved)
    print(f"merge: {share:.1%} of the merged questions still in the merged topic after a full re-cluster")
    assert share >= 0.9, f"only {share:.0%} of the merged questions stayed in the merged topic"
    with Session(demo_copy.engine) as s:
        for gone in (a.id, b.id):
            t = s.get(Topic, gone)
            assert t is not None and not t.active and t.merged_into == into.id
    kinds = Counter((e.kind, e.actor) for e in lineage(demo_copy, into.id))  # type: ignore[arg-type]
    assert kinds[("merge", "writer")] == 2


def test_a_split_topic_stays_split_through_a_full_recluster(demo_copy: Runtime) -> None:
    big = max(_active(demo_copy).values(), key=lambda t: t.size)
    new = split_topic(demo_copy, big.id, label="Card delivery abroad")  # type: ignore[arg-type]
    assert new.split_from == big.id and 0 < new.size < big.size and new.label == "Card delivery abroad"
    before = _assignment(demo_copy)
    family = [q for q, t in before.items() if t in (big.id, new.id)]

    recluster(demo_copy)
    after = _assignment(demo_copy)
    topics = _active(demo_copy)
    assert big.id in topics and new.id in topics
    stayed = sum(after[q] == before[q] for q in family) / len(family)
    print(f"split: {stayed:.1%} of the split family kept its side after a full re-cluster")
    assert stayed >= 0.9, f"only {stayed:.0%} of the split family kept its side"
    assert topics[new.id].label == "Card delivery abroad"
    assert [e.kind for e in lineage(demo_copy, new.id)] == ["split"]


def test_split_by_question_ids_and_bad_requests(demo_copy: Runtime) -> None:
    t = max(_active(demo_copy).values(), key=lambda t: t.size)
    members = [q for q, tid in _assignment(demo_copy).items() if tid == t.id]
    new = split_topic(demo_copy, t.id, question_ids=members[:3])  # type: ignore[arg-type]
    assert new.size == 3 and set(q for q, tid in _assignment(demo_copy).items() if tid == new.id) == set(members[:3])
    for bad in ([], members[3:], [10**9]):
        try:
            split_topic(demo_copy, t.id, question_ids=bad)  # type: ignore[arg-type]
        except CurationError:
            continue
        raise AssertionError(f"split with {bad[:3]}… should have been refused")
    try:
        merge_topics(demo_copy, [t.id], into=t.id)  # type: ignore[list-item,arg-type]
    except CurationError as exc:
        assert "other topic" in str(exc)
    else:
        raise AssertionError("merging a topic into itself should be refused")


@pytest.mark.xfail(
    os.environ.get("DOCGAP_TEST_STACK") == "servers",
    reason="on PostgreSQL with a Chroma server the second --full run of dcad49a's discovery moves 5 questions "
    "between two topics (SQLite: none); seeking the writers' own count exactly did not change it; open in issue 9",
    strict=False,
)
def test_one_run_is_a_fixed_point(demo_copy: Runtime) -> None:
    """`docgap cluster` twice, or `--full` twice, on unchanged data changes no assignment, unassigned included."""
    first = recluster(demo_copy)
    after_full = _assignment(demo_copy)
    left_out = [q for q, t in after_full.items() if t is None]
    assert first.mode == "full" and left_out, "the demo leaves a few questions in no topic"

    again = assign_new(demo_copy)
    assert _assignment(demo_copy) == after_full
    assert (again.assigned, again.new_topics) == (0, 0)

    full_again = recluster(demo_copy)
    assert _assignment(demo_copy) == after_full
    assert (full_again.new_topics, full_again.retired_topics) == (0, 0)
    assert assign_new(demo_copy).assigned == 0 and _assignment(demo_copy) == after_full
    with Session(demo_copy.engine) as s:
        reasons = s.exec(select(Question.unassigned_reason).where(col(Question.topic_id).is_(None))).all()
    assert len(reasons) == len(left_out) and all(reasons), "every question in no topic says why"
