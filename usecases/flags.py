"""The risk flags as a list people read: open ones first, then the most recently cleared, each with its evidence.

Reading needs `Permission.READ` (account managers, docs writers and admins; API keys with `answers:read` or
`topics:write`). Every flag's evidence comes in one line (`reports.risk.evidence_line`) with links to what it rests
on: each question (to the topic it is in, where its full text is; the unassigned list when it is in none), each
week (to that week's archived report, when one was written), the topics the flag names, the account's brief and
its timeline. Links are site paths; a question the flag cites that was since deleted is listed without a link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from core.models import Question, Report
from core.runtime import Runtime
from reports.risk import KINDS, Flag, cleared_flags, evidence_line, open_flags
from usecases.permissions import Actor, Permission, require

STATES = ("open", "cleared", "all")
CLEARED_LIMIT = 50
"""How many cleared flags a list shows by default (the most recently cleared)."""
MAX_LIMIT = 500


@dataclass(frozen=True)
class FlagLink:
    text: str
    href: str
    """A site path ("/topics/4"); "" when there is nothing to link to (a week with no archived report)."""


@dataclass(frozen=True)
class FlagRow:
    id: int
    state: str
    """"open" or "cleared"."""
    account_id: int
    account: str
    kind: str
    title: str
    severity: float
    raised_at: datetime
    cleared_at: datetime | None
    last_checked_at: datetime | None
    alerted_at: datetime | None
    line: str
    """The evidence in one line."""
    text: str
    """The evidence in full, as the account brief shows it."""
    question_ids: list[int]
    weeks: list[date]
    questions: list[FlagLink] = field(default_factory=list)
    week_links: list[FlagLink] = field(default_factory=list)
    topics: list[FlagLink] = field(default_factory=list)
    brief: FlagLink = FlagLink("", "")
    timeline: FlagLink = FlagLink("", "")


@dataclass(frozen=True)
class FlagList:
    state: str
    open: list[FlagRow]
    cleared: list[FlagRow]
    kinds: dict[str, str] = field(default_factory=lambda: dict(KINDS))

    @property
    def rows(self) -> list[FlagRow]:
        """Open flags (most severe first), then cleared ones (last cleared first)."""
        return [*self.open, *self.cleared]


def list_risk_flags(runtime: Runtime, actor: Actor, state: str = "open", limit: int = CLEARED_LIMIT) -> FlagList:
    """The stored flags in `state` ("open", "cleared" or "all"); at most `limit` cleared ones.

    The flags are as the last check left them (`docgap alerts check`, hourly while serving): listing changes nothing.
    """
    require(actor, Permission.READ)
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    opened = open_flags(runtime) if state in ("open", "all") else []
    cleared = cleared_flags(runtime, limit) if state in ("cleared", "all") else []
    topics, weeks = _lookups(runtime, [*opened, *cleared])
    return FlagList(state, [_row(f, topics, weeks) for f in opened], [_row(f, topics, weeks) for f in cleared])


def _lookups(runtime: Runtime, flags: list[Flag]) -> tuple[dict[int, int | None], set[date]]:
    """Each cited question's topic (absent: the question is gone), and the weeks that have an archived report."""
    ids = {i for f in flags for i in f.evidence.question_ids}
    weeks = {w for f in flags for w in f.evidence.weeks}
    with Session(runtime.engine) as session:
        rows = session.exec(select(Question.id, Question.topic_id).where(col(Question.id).in_(ids))).all()
        reports = select(Report.period_start).where(Report.kind == "weekly", col(Report.period_start).in_(weeks))
        archived = set(session.exec(reports).all())
    return {int(i): t for i, t in rows if i is not None}, archived


def _question_link(qid: int, topics: dict[int, int | None]) -> FlagLink:
    if qid not in topics:
        return FlagLink(f"#{qid}", "")
    topic = topics[qid]
    return FlagLink(f"#{qid}", f"/topics/{topic}" if topic else "/questions/unassigned")


def _week_link(week: date, archived: set[date]) -> FlagLink:
    return FlagLink(week.isoformat(), f"/reports/weekly/{week.isoformat()}" if week in archived else "")


def _row(f: Flag, topics: dict[int, int | None], archived: set[date]) -> FlagRow:
    e = f.evidence
    cited = [link for link in e.links if link.startswith("/topics/")]
    return FlagRow(
        id=f.id,
        state="open" if f.cleared_at is None else "cleared",
        account_id=f.account_id,
        account=f.account,
        kind=f.kind,
        title=f.title,
        severity=f.severity,
        raised_at=f.raised_at,
        cleared_at=f.cleared_at,
        last_checked_at=f.last_checked_at,
        alerted_at=f.alerted_at,
        line=evidence_line(f),
        text=e.text,
        question_ids=list(e.question_ids),
        weeks=list(e.weeks),
        questions=[_question_link(q, topics) for q in e.question_ids],
        week_links=[_week_link(w, archived) for w in e.weeks],
        topics=[FlagLink(f"topic #{link.removeprefix('/topics/')}", link) for link in cited],
        brief=FlagLink("account brief", f"/accounts/{f.account_id}/brief"),
        timeline=FlagLink("timeline", f"/accounts/{f.account_id}/timeline"),
    )
