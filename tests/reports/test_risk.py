"""Risk flags: on the demo (the planted rising account), their life cycle (raised, kept, cleared, raised again),
and each indicator on small hand-built data where the expected answer is known."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from core.models import Account, ChatTurn, Question, RiskFlag, Topic
from core.runtime import Runtime
from core.settings import Settings
from reports.indicators import (
    REPEAT_MIN_REPEATS,
    SENTIMENT_MIN_RECENT,
    binomial_tail,
    find_all,
    load_snapshot,
)
from reports.risk import KINDS, evaluate_flags, flag_history, open_flags
from reports.sentiment import weekly_sentiment

NOW = datetime(2026, 11, 24, 9, 0)


def test_demo_flags_brightline_velocity_with_its_own_questions(demo_copy: Runtime) -> None:
    changes = evaluate_flags(demo_copy)
    with Session(demo_copy.engine) as session:
        names = {a.id: a.name for a in session.exec(select(Account)).all()}
        owner = dict(session.exec(select(Question.id, Question.account_id)).all())
    velocity = [f for f in changes.raised if f.kind == "velocity"]
    brightline = [f for f in velocity if f.account == "Brightline Logistics"]
    assert len(brightline) == 1, [(f.account, f.kind) for f in changes.raised]
    flag = brightline[0]
    others = [f.account for f in velocity if f is not flag]
    assert len(others) <= 2, f"velocity should single out the rising account, also flagged: {others}"
    assert flag.evidence.question_ids and all(owner[i] == flag.account_id for i in flag.evidence.question_ids)
    assert names[flag.account_id] == "Brightline Logistics" and flag.title == KINDS["velocity"]
    assert flag.severity >= 1.0 and flag.raised_at == demo_copy.clock() and flag.cleared_at is None
    assert f"/accounts/{flag.account_id}/timeline" in flag.evidence.links
    assert any(link.startswith("/topics/") for link in flag.evidence.links)
    assert flag.evidence.weeks and all(w.weekday() == 0 for w in flag.evidence.weeks)
    assert flag.summary and "\n" not in flag.summary
    for f in changes.raised:
        assert all(owner[i] == f.account_id for i in f.evidence.question_ids), f
    with Session(demo_copy.engine) as session:
        asked_by: dict[str, set[int | None]] = {}
        for text, account_id in session.exec(select(Question.text, Question.account_id)).all():
            asked_by.setdefault(" ".join(text.split()), set()).add(account_id)
    for f in changes.raised:  # a flag quotes topics by title; a title that is a question is the account's own
        for quoted in re.findall(r"“([^”]+)”", f.summary + " " + f.evidence.text):
            owners = asked_by.get(quoted)
            assert owners is None or f.account_id in owners, f"{f.account}'s flag quotes another account: {quoted!r}"
    assert [f.id for f in open_flags(demo_copy)] == [f.id for f in changes.open]
    assert [f.severity for f in changes.open] == sorted((f.severity for f in changes.open), reverse=True)

    again = evaluate_flags(demo_copy)
    assert again.raised == [] and again.cleared == []
    assert {f.id for f in again.open} == {f.id for f in changes.open}
    assert [f.id for f in open_flags(demo_copy, flag.account_id)] == [
        f.id for f in changes.open if f.account_id == flag.account_id
    ]


def test_flag_clears_when_time_moves_on_and_a_new_episode_is_a_new_row(demo_copy: Runtime) -> None:
    raised = evaluate_flags(demo_copy)
    flag = next(f for f in raised.raised if f.kind == "velocity" and f.account == "Brightline Logistics")
    later = NOW + timedelta(weeks=20)
    # Time passes and questions keep arriving from another account; Brightline asks nothing more.
    with Session(demo_copy.engine) as session:
        other = session.exec(select(Account).where(Account.name != "Brightline Logistics")).first()
        assert other is not None
        session.add(
            Question(
                source="api",
                external_id="later-1",
                account_id=other.id,
                created_at=later - timedelta(hours=1),
                text="How do I export statements?",
                language="en",
            )
        )
        session.commit()
    demo_copy.clock = lambda: later
    cleared = evaluate_flags(demo_copy)
    assert flag.id in {f.id for f in cleared.cleared}
    assert flag.id not in {f.id for f in open_flags(demo_copy)}
    history = {f.id: f for f in flag_history(demo_copy, flag.account_id)}
    assert history[flag.id].cleared_at == later and history[flag.id].raised_at == flag.raised_at

    # Back at the original moment the condition holds again: a new episode, a new row; the old one stays cleared.
    demo_copy.clock = lambda: NOW
    again = evaluate_flags(demo_copy)
    new = next(f for f in again.raised if f.kind == "velocity" and f.account_id == flag.account_id)
    assert new.id != flag.id and new.cleared_at is None
    history = flag_history(demo_copy, flag.account_id)
    assert {flag.id, new.id} <= {f.id for f in history}
    with Session(demo_copy.engine) as session:
        rows = session.exec(select(RiskFlag).where(RiskFlag.account_id == flag.account_id,
                                                   RiskFlag.kind == "velocity")).all()  # fmt: skip
    assert sum(r.cleared_at is None for r in rows) == 1


# --- small hand-built data ---------------------------------------------------------------------------------------


@pytest.fixture()
def tiny(tmp_path: Path) -> Runtime:
    """An empty instance (no embedder: the indicators read only the database)."""
    return Runtime(Settings(data_dir=tmp_path / "data", _env_file=None), clock=lambda: NOW)  # type: ignore[call-arg]


def _accounts(rt: Runtime, *names: str) -> list[int]:
    with Session(rt.engine) as session:
        rows = [Account(name=n) for n in names]
        session.add_all(rows)
        session.commit()
        return [r.id for r in rows]  # type: ignore[misc]


def _topic(rt: Runtime, label: str, gap_kind: str | None = None, status: str = "new") -> int:
    with Session(rt.engine) as session:
        t = Topic(label=label, gap_kind=gap_kind, status=status)
        session.add(t)
        session.commit()
        return t.id  # type: ignore[return-value]


_n = iter(range(10**6))


def _ask(rt: Runtime, account: int, days_ago: float, text: str = "How do I do this?", **fields: object) -> int:
    with Session(rt.engine) as session:
        q = Question(source=str(fields.pop("source", "zendesk")), external_id=f"q{next(_n)}", account_id=account,
                     created_at=NOW - timedelta(days=days_ago), text=text,
                     language=fields.pop("language", "en"), **fields)  # type: ignore[arg-type]  # fmt: skip
        session.add(q)
        session.commit()
        return q.id  # type: ignore[return-value]


def _kinds(rt: Runtime) -> dict[tuple[int, str], object]:
    return {(f.account_id, f.kind): f for f in find_all(load_snapshot(rt))}


def test_sentiment_drop_fires_on_a_real_drop_and_skips_other_languages(tiny: Runtime) -> None:
    sour, steady = _accounts(tiny, "Sour Ltd", "Steady Ltd")
    calm = "How do I change the billing address? Thanks, that would be great."
    angry = "This is terrible, the transfer failed again and I am furious. Awful, unacceptable service."
    for i in range(20):
        for acct in (sour, steady):
            _ask(tiny, acct, 30 + i * 2.5, calm)  # the eight weeks before: calm
    for i in range(SENTIMENT_MIN_RECENT + 2):
        _ask(tiny, sour, 1 + i * 2, angry)
        _ask(tiny, steady, 1 + i * 2, calm)
        _ask(tiny, sour, 1 + i * 2, "C'est terrible, affreux, je suis furieux.", language="fr")
    found = _kinds(tiny)
    assert (sour, "sentiment_drop") in found and (steady, "sentiment_drop") not in found
    text = found[(sour, "sentiment_drop")].evidence.text  # type: ignore[attr-defined]
    assert f"{SENTIMENT_MIN_RECENT + 2} questions in other languages not scored" in text
    weeks = weekly_sentiment(tiny, sour, (NOW - timedelta(weeks=12)).date(), NOW.date())
    assert all(w.weekday() == 0 for w, _, _ in weeks)
    scored = sum(n for _, _, n in weeks)
    assert scored == 20 + SENTIMENT_MIN_RECENT + 2  # French questions are not scored
    with_data = [(w, mean) for w, mean, n in weeks if n]
    assert with_data[0][1] > 0 > with_data[-1][1]


def test_sentiment_needs_enough_questions(tiny: Runtime) -> None:
    (acct,) = _accounts(tiny, "Small Ltd")
    for i in range(20):
        _ask(tiny, acct, 30 + i * 2.5, "Great, thanks, that is wonderful.")
    for i in range(SENTIMENT_MIN_RECENT - 1):
        _ask(tiny, acct, 1 + i * 2, "Terrible, awful, I hate this.")
    assert (acct, "sentiment_drop") not in _kinds(tiny)


def test_repeat_requesters_against_the_other_accounts(tiny: Runtime) -> None:
    repeaters, *others = _accounts(tiny, "Repeat Ltd", "A Ltd", "B Ltd", "C Ltd")
    topics = [_topic(tiny, f"topic {i}") for i in range(12)]
    # Two people at Repeat Ltd ask one topic again and again in four weeks, in one Slack channel.
    for k in range(3):
        for person in ("p1", "p2"):
            _ask(tiny, repeaters, 2 + k * 6, topic_id=topics[0], author_hash=person, channel="C1", source="slack")
    for i, t in enumerate(topics[1:5]):
        _ask(tiny, repeaters, 3 + i, topic_id=t, author_hash="p3")
    # The other accounts ask as much, each person about different topics.
    for acct in others:
        for i, t in enumerate(topics[:10]):
            _ask(tiny, acct, 1 + i * 2, topic_id=t, author_hash=f"{acct}-{i % 3}")
    found = _kinds(tiny)
    assert set(found) == {(repeaters, "repeat_requesters")}
    ev = found[(repeaters, "repeat_requesters")].evidence  # type: ignore[attr-defined]
    assert "2 people" in ev.text and "Slack channel C1" in ev.text and f"/topics/{topics[0]}" in ev.links
    assert len(ev.question_ids) == 6


def test_one_persons_habit_is_not_a_repeat_flag(tiny: Runtime) -> None:
    acct, other = _accounts(tiny, "Habit Ltd", "Other Ltd")
    t = _topic(tiny, "topic")
    for k in range(REPEAT_MIN_REPEATS + 3):
        _ask(tiny, acct, 1 + k, topic_id=t, author_hash="same-person")
    for k in range(10):
        _ask(tiny, other, 1 + k, topic_id=_topic(tiny, f"o{k}"), author_hash=f"o{k}")
    assert (acct, "repeat_requesters") not in _kinds(tiny)


def test_unanswered_share_counts_gap_topics_no_topic_and_uncovered_chat(tiny: Runtime) -> None:
    stuck, *others = _accounts(tiny, "Stuck Ltd", "A Ltd", "B Ltd")
    gap, covered = _topic(tiny, "gap", gap_kind="missing"), _topic(tiny, "covered")
    done = _topic(tiny, "documented now", gap_kind="missing", status="documented")
    for i in range(6):
        _ask(tiny, stuck, 1 + i, topic_id=gap)
        _ask(tiny, stuck, 1 + i, topic_id=None, unassigned_reason="noise")
        _ask(tiny, stuck, 1 + i, topic_id=done)  # a writer documented it: not open any more
    with Session(tiny.engine) as session:
        for i in range(3):
            session.add(ChatTurn(asked_at=NOW - timedelta(days=i + 1), question="q", account_id=stuck, answer="a",
                                 confidence=0.1, covered=False, mode="offline"))  # fmt: skip
        session.commit()
    for acct in others:
        for i in range(20):
            _ask(tiny, acct, 1 + i, topic_id=gap if i < 2 else covered)
    found = _kinds(tiny)
    assert set(found) == {(stuck, "unanswered")}
    ev = found[(stuck, "unanswered")].evidence  # type: ignore[attr-defined]
    assert "15 of 21 questions" in ev.text and "3 chat answers" in ev.text and f"/topics/{gap}" in ev.links


def test_binomial_tail_matches_the_direct_sum() -> None:
    for k, n, p in [(0, 5, 0.3), (3, 10, 0.2), (9, 59, 0.032), (12, 21, 0.36), (1, 1, 0.5)]:
        direct = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
        assert binomial_tail(k, n, p) == pytest.approx(direct, rel=1e-9)
    assert binomial_tail(3, 10, 0.0) == 0.0 and binomial_tail(0, 10, 0.0) == 1.0
    assert 0 < binomial_tail(900, 2000, 0.4) < 1e-3
