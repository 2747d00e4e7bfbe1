"""Risk flags on accounts, from leading indicators, stored with their evidence and the dates raised and cleared.

`evaluate_flags` computes the indicators (`reports.indicators`) as of now and reconciles them with the stored
flags: a condition that fires for an account with no open flag of that kind raises a new one; one that still
fires updates the open flag's severity and evidence; an open flag whose condition no longer holds is cleared.
A condition that fires again later raises a new flag (a new episode with its own dates). At most one flag per
(account, kind) is open at a time, enforced by a partial unique index as well as by the code.

Kinds and their thresholds are documented in the README ("Risk flags") and in `reports.indicators`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.models import Account, RiskFlag
from core.runtime import Runtime
from reports.indicators import Finding, find_all, load_snapshot

KINDS: dict[str, str] = {
    "velocity": "Question velocity rising",
    "repeat_requesters": "Same people asking again",
    "sentiment_drop": "Sentiment dropping",
    "unanswered": "Questions the docs do not answer",
}
"""Each flag kind and the title people see."""


@dataclass(frozen=True)
class FlagEvidence:
    text: str
    question_ids: list[int]
    weeks: list[date]
    links: list[str]
    """Relative page links (`/topics/12`, `/accounts/3/timeline`): prefix the public URL to share them."""


@dataclass(frozen=True)
class Flag:
    id: int
    account_id: int
    account: str
    kind: str
    title: str
    severity: float
    """How far past its threshold the indicator is (1.0 = at it): comparable across kinds."""
    raised_at: datetime
    cleared_at: datetime | None
    evidence: FlagEvidence
    summary: str = ""
    """One line, for lists and alerts."""
    last_checked_at: datetime | None = None
    alerted_at: datetime | None = None


@dataclass(frozen=True)
class FlagChanges:
    raised: list[Flag] = field(default_factory=list)
    cleared: list[Flag] = field(default_factory=list)
    open: list[Flag] = field(default_factory=list)
    """Every flag open after the check (including the newly raised), most severe first."""


def _evidence_json(f: Finding) -> dict:  # type: ignore[type-arg]
    e = f.evidence
    return {"text": e.text, "question_ids": e.question_ids, "weeks": [w.isoformat() for w in e.weeks],
            "links": e.links}  # fmt: skip


def _flag(row: RiskFlag, names: dict[int, str]) -> Flag:
    e = row.evidence or {}
    evidence = FlagEvidence(
        str(e.get("text", "")),
        [int(i) for i in e.get("question_ids", [])],
        [date.fromisoformat(w) for w in e.get("weeks", [])],
        [str(link) for link in e.get("links", [])],
    )
    return Flag(row.id or 0, row.account_id, names.get(row.account_id, f"account {row.account_id}"), row.kind,
                KINDS.get(row.kind, row.kind), row.severity, row.raised_at, row.cleared_at, evidence, row.summary,
                row.last_checked_at, row.alerted_at)  # fmt: skip


def _names(session: Session) -> dict[int, str]:
    return {a.id: a.name for a in session.exec(select(Account)).all() if a.id is not None}


def _by_severity(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=lambda f: (-f.severity, f.account, f.kind, f.id))


def evaluate_flags(runtime: Runtime, now: datetime | None = None) -> FlagChanges:
    """Compute every indicator as of `now` (default: the clock) and raise, update or clear the stored flags.

    The indicators' windows end at `now` or at the newest question if nothing arrived since (like the trends), so
    a pause in imports clears nothing; the flags' dates are `now`.
    """
    at = now or runtime.clock()
    findings = {(f.account_id, f.kind): f for f in find_all(load_snapshot(runtime, at))}
    try:
        return _reconcile(runtime, findings, at)
    except IntegrityError:
        # Another process raised the same flag between our read and our write: its row stands, ours updates it.
        return _reconcile(runtime, findings, at)


def _reconcile(runtime: Runtime, findings: dict[tuple[int, str], Finding], at: datetime) -> FlagChanges:
    with Session(runtime.engine, expire_on_commit=False) as session:
        names = _names(session)
        open_rows = {(r.account_id, r.kind): r for r in
                     session.exec(select(RiskFlag).where(col(RiskFlag.cleared_at).is_(None))).all()}  # fmt: skip
        raised, cleared = [], []
        for key, f in findings.items():
            row = open_rows.get(key)
            if row is None:
                row = RiskFlag(account_id=f.account_id, kind=f.kind, raised_at=at, last_checked_at=at)
                raised.append(row)
            row.severity, row.summary, row.evidence = f.severity, f.summary, _evidence_json(f)
            row.last_checked_at = at
            session.add(row)
        for key, row in open_rows.items():
            if key not in findings:
                row.cleared_at = row.last_checked_at = at
                session.add(row)
                cleared.append(row)
        session.commit()
        still = [r for k, r in open_rows.items() if k in findings] + raised
        return FlagChanges(
            raised=_by_severity([_flag(r, names) for r in raised]),
            cleared=_by_severity([_flag(r, names) for r in cleared]),
            open=_by_severity([_flag(r, names) for r in still]),
        )


def open_flags(runtime: Runtime, account_id: int | None = None) -> list[Flag]:
    """Open flags as stored by the last check (all accounts, or one), most severe first."""
    with Session(runtime.engine) as session:
        query = select(RiskFlag).where(col(RiskFlag.cleared_at).is_(None))
        if account_id is not None:
            query = query.where(RiskFlag.account_id == account_id)
        return _by_severity([_flag(r, _names(session)) for r in session.exec(query).all()])


def cleared_flags(runtime: Runtime, limit: int) -> list[Flag]:
    """The `limit` most recently cleared flags (all accounts), last cleared first."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(RiskFlag)
            .where(col(RiskFlag.cleared_at).is_not(None))
            .order_by(col(RiskFlag.cleared_at).desc(), col(RiskFlag.id).desc())
            .limit(limit)
        ).all()
        names = _names(session)
        return [_flag(r, names) for r in rows]


def evidence_line(f: Flag) -> str:
    """The flag's evidence in one line: its summary, and how many questions over which weeks."""
    e = f.evidence
    span = f"weeks of {e.weeks[0].isoformat()} to {e.weeks[-1].isoformat()}" if len(e.weeks) > 1 else (
        f"week of {e.weeks[0].isoformat()}" if e.weeks else "")  # fmt: skip
    refs = f"{len(e.question_ids)} question{'s' if len(e.question_ids) != 1 else ''}" if e.question_ids else ""
    tail = ", ".join(p for p in (refs, span) if p)
    return f"{f.summary or f.title}" + (f" ({tail})" if tail else "")


def flag_history(runtime: Runtime, account_id: int) -> list[Flag]:
    """Every flag the account has had, open and cleared, newest raised first."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(RiskFlag)
            .where(RiskFlag.account_id == account_id)
            .order_by(col(RiskFlag.raised_at).desc(), col(RiskFlag.id).desc())
        ).all()
        names = _names(session)
        return [_flag(r, names) for r in rows]


def mark_alerted(runtime: Runtime, flag_id: int, at: datetime) -> None:
    """Record that the flag's alert went out (the ledger in `Delivery` is the source of truth for retries)."""
    with Session(runtime.engine) as session:
        row = session.get(RiskFlag, flag_id)
        if row is not None and row.alerted_at is None:
            row.alerted_at = at
            session.add(row)
            session.commit()


def flags_to_alert(runtime: Runtime) -> list[Flag]:
    """Open flags whose alert has not gone out yet, oldest raised first (the order they are announced in)."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(RiskFlag)
            .where(col(RiskFlag.cleared_at).is_(None), col(RiskFlag.alerted_at).is_(None))
            .order_by(col(RiskFlag.raised_at), col(RiskFlag.id))
        ).all()
        names = _names(session)
        return [_flag(r, names) for r in rows]
