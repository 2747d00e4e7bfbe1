"""Doc impact: did a topic's questions drop once the page that answers it shipped?

The weeks compared are whole Monday-to-Sunday weeks (as everywhere in the reports) on each side of the week the
page shipped; that week itself is split by the change and left out. Both sides have the same number of weeks, up
to `WINDOW_WEEKS`, as many as have fully passed since: one full week after is the least that says anything, so
before that the verdict is "too early to tell". Questions merged into another topic later count there, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from clustering.trends import week_start
from core.models import Question, Topic
from core.runtime import Runtime

WINDOW_WEEKS = 4
RECENT_WEEKS = 8
"""The weekly report follows pages shipped in the last eight weeks: four to settle, four to compare."""


@dataclass
class DocImpact:
    """One documented topic's weekly volume before and after its page shipped.

    Dates are ISO strings: the impact is stored with the weekly report, as JSON.
    """

    topic_id: int
    label: str
    documented_on: str
    doc_url: str | None
    before: list[tuple[str, int]] = field(default_factory=list)
    """Questions per full week before the shipping week, oldest first (the baseline)."""
    after: list[tuple[str, int]] = field(default_factory=list)
    """Questions per full week since, oldest first; as many weeks as `before` (none when too early)."""
    change_pct: int | None = None
    """After against before, in percent; None when too early or there was nothing before."""
    verdict: str = ""
    """The finding in a few words: "down 60% in the 4 weeks since", "too early to tell"."""
    sentence: str = ""
    """The verdict with the counts it rests on."""

    @property
    def weeks(self) -> int:
        return len(self.after)


def measure_impact(
    asked: Iterable[datetime], documented_at: datetime, now: datetime, window: int = WINDOW_WEEKS
) -> tuple[list[tuple[date, int]], list[tuple[date, int]]]:
    """Weekly counts (before, after) around `documented_at` over equal windows of full weeks that ended by `now`.

    With no full week after yet, `before` is the `window` weeks before alone (a baseline to watch against).
    """
    shipped = week_start(documented_at)
    first_after = shipped + timedelta(days=7)
    full_after = max(0, (week_start(now) - first_after).days // 7)
    n = min(window, full_after)
    before_weeks = [shipped - timedelta(days=7 * (k + 1)) for k in reversed(range(n or window))]
    after_weeks = [first_after + timedelta(days=7 * k) for k in range(n)]
    counts: dict[date, int] = {w: 0 for w in (*before_weeks, *after_weeks)}
    for t in asked:
        w = week_start(t)
        if w in counts:
            counts[w] += 1
    return [(w, counts[w]) for w in before_weeks], [(w, counts[w]) for w in after_weeks]


def describe(
    topic_id: int,
    label: str,
    documented_at: datetime,
    doc_url: str | None,
    before: list[tuple[date, int]],
    after: list[tuple[date, int]],
) -> DocImpact:
    """The impact in words, from the counts `measure_impact` gave."""
    out = DocImpact(topic_id, label, documented_at.date().isoformat(), doc_url,
                    [(w.isoformat(), n) for w, n in before], [(w.isoformat(), n) for w, n in after])  # fmt: skip
    b, a, n = sum(c for _, c in before), sum(c for _, c in after), len(after)
    if not n:
        first_end = week_start(documented_at) + timedelta(days=13)
        out.verdict = "too early to tell"
        out.sentence = (
            f"too early to tell: documented on {out.documented_on}, and the first full week since ends on "
            f"{first_end.isoformat()} ({b} questions in the {len(before)} weeks before)"
        )
        return out
    span = "the week" if n == 1 else f"the {n} weeks"
    counts = f"{_questions(b)} in {span} before, {a} in {span} since"
    if b == 0:
        out.verdict = f"up from none to {a} in {span} since" if a else f"unchanged, with none in {span} before or since"
        out.sentence = f"{out.verdict} ({counts})" if a else out.verdict
        return out
    out.change_pct = round(100 * (a - b) / b)
    pct = abs(out.change_pct)
    out.verdict = (
        f"down {pct}% in {span} since" if out.change_pct < 0
        else f"up {pct}% in {span} since" if out.change_pct > 0
        else f"unchanged in {span} since"
    )  # fmt: skip
    out.sentence = f"{out.verdict} ({counts})"
    return out


def _questions(n: int) -> str:
    return f"{n} question" if n == 1 else f"{n} questions"


def topic_impact(runtime: Runtime, topic_id: int, now: datetime | None = None) -> DocImpact | None:
    """The topic's doc impact as of `now` (default: the clock); None when no page is recorded as shipped."""
    with Session(runtime.engine) as session:
        t = session.get(Topic, topic_id)
        if t is None or t.documented_at is None:
            return None
        return _impact(session, t, now or runtime.clock())


def recent_impacts(runtime: Runtime, end: datetime, weeks: int = RECENT_WEEKS) -> list[DocImpact]:
    """Doc impact, as of `end`, of every active topic documented in the `weeks` before it, latest page first."""
    with Session(runtime.engine) as session:
        topics = session.exec(
            select(Topic)
            .where(
                col(Topic.active).is_(True),
                col(Topic.documented_at) >= end - timedelta(weeks=weeks),
                col(Topic.documented_at) < end,
            )
            .order_by(col(Topic.documented_at).desc(), col(Topic.id))
        ).all()
        return [_impact(session, t, end) for t in topics]


def _impact(session: Session, t: Topic, now: datetime) -> DocImpact:
    assert t.documented_at is not None and t.id is not None
    shipped = week_start(t.documented_at)
    since = datetime.combine(shipped - timedelta(weeks=WINDOW_WEEKS), time())
    until = datetime.combine(shipped + timedelta(weeks=WINDOW_WEEKS + 1), time())
    asked = session.exec(
        select(Question.created_at).where(
            Question.topic_id == t.id, Question.created_at >= since, Question.created_at < until
        )
    ).all()
    before, after = measure_impact(asked, t.documented_at, now)
    return describe(t.id, t.label, t.documented_at, t.documented_url, before, after)
