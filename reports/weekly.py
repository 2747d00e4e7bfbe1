"""The weekly recurring-question report.

What customers asked most last week, what is new or growing, which gaps matter most, and which accounts are
asking more and more about one thing.

The figures are computed here; the prose summary is written by the LLM when one is configured, otherwise by a
template, and the report says which.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, col, select

import prompts
from clustering.trends import week_start
from docgap.llm import LLMError
from docgap.models import Account, Question, Report, Topic
from docgap.runtime import Runtime

TOP = 10
TRAILING_DAYS = 90


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


@dataclass
class AccountSignal:
    account: str
    topic_id: int
    topic: str
    last_30_days: int
    previous_60_days: int
    total_90_days: int


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
        )

    top = [line(tid) for tid, _ in now_c.most_common() if tid in topics and topics[tid].status != "dismissed"][:TOP]
    new = [
        line(tid)
        for tid, t in topics.items()
        if t.first_seen and t.first_seen >= t0 - timedelta(days=21) and now_c.get(tid, 0) > 0
    ]
    gaps = sorted((t for t in topics.values() if t.gap_kind and t.status != "dismissed"), key=lambda t: -t.gap_score)
    report = WeeklyReport(
        week_start=start,
        week_end=end - timedelta(days=1),
        total=len(this_week),
        previous_total=len(last_week),
        top_topics=top,
        new_topics=new[:TOP],
        top_gaps=[line(t.id) for t in gaps[:TOP] if t.id is not None],
        busiest_accounts=[(accounts[a], n) for a, n in Counter(r[2] for r in this_week if r[2]).most_common(5)],
        rising_accounts=_rising_accounts(rows, t1, topics, accounts),
        unassigned=sum(1 for r in this_week if not r[1]),
    )
    _write_summary(runtime, report)
    return report


def _rising_accounts(rows, t1: datetime, topics: dict, accounts: dict) -> list[AccountSignal]:  # type: ignore[no-untyped-def]
    """Account × topic pairs whose last 30 days outpace the 60 before: the seed's leading indicator."""
    recent: Counter[tuple[int, int]] = Counter()
    before: Counter[tuple[int, int]] = Counter()
    for created, tid, aid in rows:
        if not tid or not aid or tid not in topics:
            continue
        (recent if created >= t1 - timedelta(days=30) else before)[(aid, tid)] += 1
    out = []
    for (aid, tid), n in recent.items():
        b = before.get((aid, tid), 0)
        if n >= 4 and n >= 2 * (b / 2 + 1):  # at least double the previous monthly rate
            out.append(AccountSignal(accounts[aid], tid, topics[tid].label, n, b, n + b))
    return sorted(out, key=lambda s: -(s.last_30_days - s.previous_60_days / 2))[:5]


def _write_summary(runtime: Runtime, report: WeeklyReport) -> None:
    if runtime.llm is not None:
        try:
            report.summary = runtime.llm.chat(prompts.messages("weekly_summary", report=report))
            report.mode = "llm"
            return
        except LLMError as exc:
            report.notes.append(f"LLM unavailable ({exc}); summary written offline.")
    report.summary = prompts.render("weekly_summary.offline", report=report)
    report.mode = "offline"


def render_markdown(report: WeeklyReport) -> str:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("weekly.md.j2").render(r=report).strip() + "\n"


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
