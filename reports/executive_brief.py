"""The executive brief: the whole portfolio on one page, accounts ranked by risk weighted by ARR.

Risk is the sum of an account's open flags' severities (`reports.risk`: each flag's severity says how far past
its threshold its indicator is, 1.0 = at it, so severities of different kinds add up on one scale); the rank is
risk × ARR, the revenue a flag puts in question. An account whose ARR is unknown is weighed at the portfolio's
median ARR, so missing CRM data neither hides nor inflates it. Accounts without open flags follow, largest ARR
first. The week's priority actions are the flagged accounts' most pressing suggested actions, in rank order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from statistics import median

from sqlmodel import Session, col, func, select

from clustering.trends import data_end, load_account_trends
from core.models import Account, Question
from core.runtime import Runtime
from reports.account_brief import build_account_brief
from reports.actions import Action
from reports.risk import Flag, evidence_line, open_flags

RENEWAL_SOON_DAYS = 90
"""A renewal this close makes a flagged account's renewal call a priority action."""
ACTIONS_PER_ACCOUNT = 3
PRIORITY_ACTIONS = 10
URGENCY = {
    "rising": 0,
    "doc_ticket": 1,
    "gap": 1,
    "repeat": 2,
    "sentiment": 2,
    "findable": 3,
    "send_page": 3,
    "documented": 4,
}
"""Which of a flagged account's suggested actions come first in the week's list."""


@dataclass(frozen=True)
class FlagSummary:
    id: int
    kind: str
    title: str
    severity: float
    raised_at: datetime
    line: str
    """The evidence in one line: the flag's summary and how many questions over which weeks."""
    question_ids: list[int]
    weeks: list[date]
    links: list[str]


@dataclass(frozen=True)
class PortfolioRow:
    rank: int
    account_id: int
    account: str
    owner: str | None
    segment: str | None
    arr: float | None
    renewal_date: date | None
    days_to_renewal: int | None
    questions_90_days: int
    weekly: list[int]
    """Non-critical questions per week over the trailing 13 weeks (the velocity indicator)."""
    rising: bool
    risk: float
    weighted_risk: float
    """risk × ARR (the portfolio's median ARR when the account's is unknown)."""
    flags: list[FlagSummary]


@dataclass(frozen=True)
class PriorityAction:
    account_id: int
    account: str
    action: Action


@dataclass
class ExecutiveBrief:
    as_of: date
    """The last day of data the brief reads."""
    generated_at: datetime
    accounts: list[PortfolioRow]
    total_arr: float
    flagged_accounts: int
    open_flags: int
    arr_under_flags: float
    """ARR of the accounts with at least one open flag."""
    arr_renewing_soon_under_flags: float
    """…of which renews within `RENEWAL_SOON_DAYS`."""
    actions: list[PriorityAction]
    summary: str = ""
    mode: str = "offline"
    """The summary is a template over the figures (no LLM call for the portfolio)."""
    notes: list[str] = field(default_factory=list)


def _flag_summary(f: Flag) -> FlagSummary:
    e = f.evidence
    return FlagSummary(f.id, f.kind, f.title, f.severity, f.raised_at, evidence_line(f), list(e.question_ids),
                       list(e.weeks), list(e.links))  # fmt: skip


def _rows(runtime: Runtime, end: datetime) -> list[PortfolioRow]:
    """Every account with its flags and trend; days to renewal count from the data's end, like everything else."""
    with Session(runtime.engine) as session:
        accounts = list(session.exec(select(Account).order_by(col(Account.name))).all())
        recent = dict(session.exec(
            select(Question.account_id, func.count()).where(Question.created_at >= end - timedelta(days=90),
                                                            Question.created_at < end).group_by(Question.account_id)
        ).all())  # fmt: skip
    flags: dict[int, list[Flag]] = {}
    for f in open_flags(runtime):
        flags.setdefault(f.account_id, []).append(f)
    trends = {t.account_id: t for t in load_account_trends(runtime, end)}
    known = [a.arr for a in accounts if a.arr]
    typical = median(known) if known else 1.0
    rows = []
    for a in accounts:
        mine = flags.get(a.id or 0, [])
        risk = round(float(sum(f.severity for f in mine)), 3)
        trend = trends.get(a.id or 0)
        rows.append(PortfolioRow(
            0, a.id or 0, a.name, a.owner, a.segment, a.arr, a.renewal_date,
            (a.renewal_date - end.date()).days if a.renewal_date else None, recent.get(a.id, 0),
            trend.weekly if trend else [], bool(trend and trend.rising), risk, round(risk * float(a.arr or typical), 2),
            [_flag_summary(f) for f in mine],
        ))  # fmt: skip
    rows.sort(key=lambda r: (-r.weighted_risk, -r.risk, -(r.arr or 0), r.account))
    return [replace(r, rank=i + 1) for i, r in enumerate(rows)]


def _renewal_action(r: PortfolioRow) -> Action | None:
    if r.days_to_renewal is None or not 0 <= r.days_to_renewal <= RENEWAL_SOON_DAYS:
        return None
    who = f" ({r.owner})" if r.owner else ""
    return Action("renewal", f"Renews in {r.days_to_renewal} days with {len(r.flags)} open flag"
                  f"{'s' if len(r.flags) != 1 else ''}: book the renewal call now{who}.",
                  href=f"/accounts/{r.account_id}/brief")  # fmt: skip


def _priority_actions(runtime: Runtime, rows: list[PortfolioRow], end: datetime) -> list[PriorityAction]:
    out: list[PriorityAction] = []
    for r in rows:
        if not r.flags or len(out) >= PRIORITY_ACTIONS:
            continue
        brief = build_account_brief(runtime, r.account_id, now=end, summary=False)
        ranked = sorted(brief.actions if brief else [], key=lambda a: URGENCY.get(a.kind, 5))
        renewal = _renewal_action(r)
        chosen = ([renewal] if renewal else []) + ranked[: ACTIONS_PER_ACCOUNT - bool(renewal)]
        out += [PriorityAction(r.account_id, r.account, a) for a in chosen]
    return out[:PRIORITY_ACTIONS]


def build_executive_brief(runtime: Runtime, now: datetime | None = None) -> ExecutiveBrief:
    """Every account ranked by risk × ARR, with its flags' evidence, the totals and the week's priority actions."""
    with Session(runtime.engine) as session:
        end = data_end(session, now or runtime.clock())
    rows = _rows(runtime, end)
    flagged = [r for r in rows if r.flags]
    brief = ExecutiveBrief(
        as_of=(end - timedelta(seconds=1)).date(),
        generated_at=runtime.clock(),
        accounts=rows,
        total_arr=float(sum(r.arr or 0 for r in rows)),
        flagged_accounts=len(flagged),
        open_flags=sum(len(r.flags) for r in rows),
        arr_under_flags=float(sum(r.arr or 0 for r in flagged)),
        arr_renewing_soon_under_flags=float(
            sum(
                r.arr or 0
                for r in flagged
                if r.days_to_renewal is not None and 0 <= r.days_to_renewal <= RENEWAL_SOON_DAYS
            )
        ),
        actions=_priority_actions(runtime, rows, end),
    )
    brief.summary = _summary(brief)
    return brief


def _summary(b: ExecutiveBrief) -> str:
    if not b.flagged_accounts:
        return f"No open risk flags across {len(b.accounts)} accounts (ARR {b.total_arr:,.0f})."
    top = b.accounts[0]
    share = b.arr_under_flags / b.total_arr if b.total_arr else 0.0
    have = "has" if b.flagged_accounts == 1 else "have"
    return (f"{b.flagged_accounts} of {len(b.accounts)} accounts {have} open risk flags ({b.open_flags} in all), "
            f"holding ARR {b.arr_under_flags:,.0f} ({share:.0%} of {b.total_arr:,.0f}); "
            f"{b.arr_renewing_soon_under_flags:,.0f} of it renews within {RENEWAL_SOON_DAYS} days. "
            f"Highest risk: {top.account} ({', '.join(f.title.lower() for f in top.flags)}).")  # fmt: skip
