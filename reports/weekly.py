"""The weekly recurring-question report.

What customers asked most last week and how that compares with the week before, what is new or growing, which
gaps matter most, which were closed, whether questions dropped after a page shipped (doc impact), and which
accounts are asking more and more about one thing.

The figures are computed here; the prose summary is written by the LLM when one is configured, otherwise by a
template, and the report says which.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, col, select

import prompts
from clustering.curation import DOCUMENTED
from clustering.trends import emerging_topics, load_account_trends, week_start
from core.llm import LLMError
from core.models import Account, Question, Report, Topic, TopicEvent
from core.runtime import Runtime
from reports.grounding import grounded
from reports.impact import RECENT_WEEKS, DocImpact, recent_impacts
from retrieval.answer import keep_links, strip_markup, tidy

TOP = 10
TRAILING_DAYS = 90
OPEN = ("new", "triaged", "in_progress")
"""The statuses of an open gap (documented and verified ones are closed, dismissed ones set aside)."""
MOVERS = 3
MOVER_MIN = 3
"""A topic rises or falls "most" only with at least this many questions in one of the two weeks (2 → 0 is noise)."""


@dataclass
class TopicLine:
    id: int
    label: str
    count: int
    previous: int
    accounts: int
    gap_kind: str | None
    coverage: float | None
    gap_score: float
    trend: str = ""
    """For new and growing topics: "new" or "growing"."""
    change_pct: int | None = None
    """This week against last week, in percent; None when there were none last week."""


@dataclass
class ClosedGap:
    """A topic a writer marked documented or verified during the week (its last status move that week)."""

    id: int
    label: str
    status: str
    on: str
    """The day of the move (ISO)."""
    documented_on: str | None
    """The day the page shipped, which a writer may date earlier than the move."""
    doc_url: str | None
    gap_kind: str | None
    """The kind of gap it was, as last judged (a re-analysis judges the new page)."""


@dataclass
class AccountSignal:
    """An account whose leading indicator fired (see `clustering.trends.account_trends`)."""

    account: str
    topics: list[tuple[int, str]]
    """The growing subject: its topics (id, label), busiest first."""
    focus_weekly: list[int]
    focus_growth: float
    last_30_days: int
    """All the account's non-critical questions in the last 30 days."""


@dataclass
class WeeklyReport:
    week_start: date
    week_end: date
    total: int
    previous_total: int
    top_topics: list[TopicLine]
    new_topics: list[TopicLine]
    top_gaps: list[TopicLine]
    busiest_accounts: list[tuple[str, int]]
    rising_accounts: list[AccountSignal]
    summary: str = ""
    mode: str = "offline"
    unassigned: int = 0
    notes: list[str] = field(default_factory=list)
    total_change_pct: int | None = None
    """This week's questions against last week's, in percent; None when there were none last week."""
    movers: list[TopicLine] = field(default_factory=list)
    """Week over week: the topics whose volume rose and fell most (at least `MOVER_MIN` questions in one week)."""
    gaps_closed: list[ClosedGap] = field(default_factory=list)
    doc_impact: list[DocImpact] = field(default_factory=list)
    """Topics documented in the last `RECENT_WEEKS` weeks before the week's end, latest first."""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["week_start"], d["week_end"] = self.week_start.isoformat(), self.week_end.isoformat()
        return d


def last_complete_week(now: datetime) -> date:
    return week_start(now) - timedelta(days=7)


def build_weekly_report(runtime: Runtime, week: date | None = None) -> WeeklyReport:
    start = week_start(week) if week else last_complete_week(runtime.clock())
    end = start + timedelta(days=7)
    t0, t1 = datetime.combine(start, time()), datetime.combine(end, time())
    prev0 = t0 - timedelta(days=7)
    with Session(runtime.engine) as session:
        topics = {t.id: t for t in session.exec(select(Topic).where(col(Topic.active).is_(True))).all()}
        accounts = {a.id: a.name for a in session.exec(select(Account)).all()}
        rows = session.exec(
            select(Question.created_at, Question.topic_id, Question.account_id).where(
                Question.created_at >= t1 - timedelta(days=TRAILING_DAYS), Question.created_at < t1
            )
        ).all()
    this_week = [r for r in rows if r[0] >= t0]
    last_week = [r for r in rows if prev0 <= r[0] < t0]
    now_c = Counter(r[1] for r in this_week if r[1])
    prev_c = Counter(r[1] for r in last_week if r[1])
    accts: dict[int, set] = defaultdict(set)
    for r in this_week:
        if r[1] and r[2]:
            accts[r[1]].add(r[2])

    def line(tid: int) -> TopicLine:
        t = topics[tid]
        return TopicLine(
            tid,
            t.label,
            now_c.get(tid, 0),
            prev_c.get(tid, 0),
            len(accts.get(tid, ())),
            t.gap_kind,
            t.coverage,
            t.gap_score,
            change_pct=pct_change(now_c.get(tid, 0), prev_c.get(tid, 0)),
        )

    shown = {tid for tid, t in topics.items() if t.status != "dismissed"}
    top = [line(tid) for tid, _ in now_c.most_common() if tid in shown][:TOP]
    emerging = emerging_topics(
        [(r[1], r[0]) for r in rows if r[1]],
        {tid: (t.label, t.first_seen) for tid, t in topics.items() if t.status != "dismissed"},
        t1,
    )
    new = [replace(line(e.topic_id), trend=e.reason) for e in emerging]
    # A topic a writer marked documented or verified is no open gap, even before a re-analysis judges its new page.
    gaps = sorted((t for t in topics.values() if t.gap_kind and t.status in OPEN), key=lambda t: -t.gap_score)
    report = WeeklyReport(
        week_start=start,
        week_end=end - timedelta(days=1),
        total=len(this_week),
        previous_total=len(last_week),
        top_topics=top,
        new_topics=new[:TOP],
        top_gaps=[line(t.id) for t in gaps[:TOP] if t.id is not None],
        busiest_accounts=[(accounts[a], n) for a, n in Counter(r[2] for r in this_week if r[2]).most_common(5)],
        rising_accounts=_rising_accounts(runtime, topics, t1),
        unassigned=sum(1 for r in this_week if not r[1]),
        total_change_pct=pct_change(len(this_week), len(last_week)),
        movers=_movers([line(tid) for tid in set(now_c) | set(prev_c) if tid in shown]),
        gaps_closed=_gaps_closed(runtime, topics, t0, t1),
        doc_impact=recent_impacts(runtime, min(t1, runtime.clock()), RECENT_WEEKS),  # a week under way is not full
    )
    _write_summary(runtime, report)
    return report


def pct_change(now: int, before: int) -> int | None:
    """`now` against `before` in whole percent (None when there is nothing to compare with)."""
    return round(100 * (now - before) / before) if before else None


def _movers(lines: list[TopicLine]) -> list[TopicLine]:
    """The `MOVERS` biggest rises, then the `MOVERS` biggest falls, by the change in questions (ties: by id)."""
    moved = [t for t in lines if max(t.count, t.previous) >= MOVER_MIN and t.count != t.previous]
    rises = sorted((t for t in moved if t.count > t.previous), key=lambda t: (t.previous - t.count, t.id))
    falls = sorted((t for t in moved if t.count < t.previous), key=lambda t: (t.count - t.previous, t.id))
    return rises[:MOVERS] + falls[:MOVERS]


def _gaps_closed(runtime: Runtime, topics: dict[int, Topic], t0: datetime, t1: datetime) -> list[ClosedGap]:
    """Topics whose status moved to documented or verified during the week and stayed there by its end.

    Only writers' status moves are recorded as events; a gap that a re-analysis finds covered without a writer's
    move is not listed here (it leaves the gap table instead).
    """
    with Session(runtime.engine) as session:
        events = session.exec(
            select(TopicEvent)
            .where(TopicEvent.kind == "status", TopicEvent.at >= t0, TopicEvent.at < t1)
            .order_by(col(TopicEvent.at), col(TopicEvent.id))
        ).all()
    first: dict[int, str] = {}
    last: dict[int, TopicEvent] = {}
    for e in events:
        first.setdefault(e.topic_id, (e.detail or {}).get("from", ""))
        last[e.topic_id] = e
    out = []
    for tid, e in last.items():
        to = (e.detail or {}).get("to", "")
        if to not in DOCUMENTED or first[tid] == to or tid not in topics:
            continue
        t = topics[tid]
        shipped = t.documented_at.date().isoformat() if t.documented_at else None
        out.append(ClosedGap(tid, t.label, to, e.at.date().isoformat(), shipped, t.documented_url, t.gap_kind))
    return sorted(out, key=lambda g: (g.on, g.id))


def _rising_accounts(runtime: Runtime, topics: dict, end: datetime) -> list[AccountSignal]:  # type: ignore[type-arg]
    """Accounts whose leading indicator fired as of the end of the reported week, fastest-growing subject first."""
    out = []
    for t in load_account_trends(runtime, end):
        if not t.rising:
            continue
        labels = [(tid, topics[tid].label) for tid in t.focus_topics if tid in topics]
        sizes = {tid: topics[tid].size for tid, _ in labels}
        labels.sort(key=lambda p: -sizes[p[0]])
        out.append(AccountSignal(t.account, labels, t.focus_weekly, t.focus_growth, t.last_30_days))
    return out[:5]


def _write_summary(runtime: Runtime, report: WeeklyReport) -> None:
    if runtime.llm is not None:
        try:
            # Plain sentences over our own figures: a link or markup in them was asked for by someone's text.
            written = runtime.llm.chat(prompts.messages("weekly_summary", report=report))
            report.summary = _grounded_summary(runtime, report, tidy(keep_links(strip_markup(written), set())[0]))
            report.mode = "llm"
            return
        except LLMError as exc:
            report.notes.append(f"LLM unavailable ({exc}); summary written offline.")
    report.summary = prompts.render("weekly_summary.offline", report=report)
    report.mode = "offline"


def _grounded_summary(runtime: Runtime, report: WeeklyReport, text: str) -> str:
    """The summary's sentences that stay inside the report's figures (`reports.grounding`, as the briefs do).

    A sentence quoting something that is not one of its topic labels, or naming an account the report does not
    show, is dropped: it came from someone's text, not from the figures.
    """
    shown_topics = (*report.top_topics, *report.new_topics, *report.top_gaps, *report.movers, *report.gaps_closed,
                    *report.doc_impact)  # fmt: skip
    labels = [t.label for t in shown_topics] + [label for s in report.rising_accounts for _, label in s.topics]
    shown = [name for name, _ in report.busiest_accounts] + [s.account for s in report.rising_accounts]
    with Session(runtime.engine) as session:
        accounts = session.exec(select(Account.name)).all()
    return grounded(text, labels, shown, accounts)


def render_markdown(report: WeeklyReport) -> str:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("weekly.md.j2").render(r=_as_markdown_text(report)).strip() + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_text(text: str) -> str:
    """Text shown literally in Markdown: no link, image, autolink, HTML or table cell can come out of it."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _as_markdown_text(report: WeeklyReport) -> WeeklyReport:
    """The report with its labels and account names escaped for Markdown (they are customer or operator text)."""

    def lines(ts: list[TopicLine]) -> list[TopicLine]:
        return [replace(t, label=md_text(t.label)) for t in ts]

    return replace(
        report,
        summary=md_text(report.summary),
        top_topics=lines(report.top_topics),
        new_topics=lines(report.new_topics),
        top_gaps=lines(report.top_gaps),
        movers=lines(report.movers),
        gaps_closed=[replace(g, label=md_text(g.label), doc_url=_md_url(g.doc_url)) for g in report.gaps_closed],
        doc_impact=[replace(d, label=md_text(d.label), doc_url=_md_url(d.doc_url)) for d in report.doc_impact],
        busiest_accounts=[(md_text(name), n) for name, n in report.busiest_accounts],
        rising_accounts=[
            replace(s, account=md_text(s.account), topics=[(i, md_text(label)) for i, label in s.topics])
            for s in report.rising_accounts
        ],
    )


def _md_url(url: str | None) -> str | None:
    """A page address shown as text (a writer typed it; it is not made a link)."""
    return md_text(url) if url else None


def save_report(runtime: Runtime, report: WeeklyReport) -> Report:
    """Archive the report (one per week: re-running replaces that week's)."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        row = session.exec(
            select(Report).where(Report.kind == "weekly", Report.period_start == report.week_start)
        ).first()
        row = row or Report(
            kind="weekly", period_start=report.week_start, created_at=runtime.clock(), mode="", markdown=""
        )
        row.created_at, row.mode = runtime.clock(), report.mode
        row.markdown, row.data = render_markdown(report), report.to_dict()
        session.add(row)
        session.commit()
        return row
