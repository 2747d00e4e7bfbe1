"""Risk flags on accounts, from leading indicators, stored with their evidence and the dates raised and cleared.

`evaluate_flags` computes the indicators (`reports.indicators`) as of now and reconciles them with the stored
flags: a condition that fires for an account with no open flag of that kind raises a new one; one that still
fires updates the open flag's severity and evidence; an open flag whose condition no longer holds is cleared.
A condition that fires again later raises a new flag (a new episode with its own dates). At most one flag per
(account, kind) is open at a time, enforced by a partial unique index as well as by the code.

Kinds and their thresholds are documented in the README ("Risk flags") and in `reports.indicators`.

A flag's text names topics by title as they were when it was last checked. Its evidence also stores which topics
it quotes (`quotes`: the id, the title as quoted, the topic's label then), so that every reader (the briefs, the
flag list, the API, the Slack alert) shows a topic's current title once a writer renamed it, the same title the
suggested actions beside it use. A topic that is gone (merged away, retired) keeps the title stored with the flag,
as does a flag stored before quotes were (its text is shown as written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clustering.titles import title_for_account
from core.models import Account, RiskFlag, Topic
from core.runtime import Runtime
from reports.indicators import Finding, Quote, find_all, load_snapshot

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
    topics: list[tuple[int, str]] = field(default_factory=list)
    """The topics `text` quotes, in order: (id, title now). Empty for a flag stored before they were kept."""


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
            "links": e.links,
            "quotes": [{"topic_id": q.topic_id, "title": q.title, "label": q.label} for q in e.quotes]}  # fmt: skip


def _quotes(row: RiskFlag) -> list[Quote]:
    """The topics the stored text quotes; none for a flag stored before they were kept (or malformed ones)."""
    out = []
    for q in (row.evidence or {}).get("quotes", []):
        if isinstance(q, dict) and isinstance(q.get("topic_id"), int) and q.get("title"):
            out.append(Quote(q["topic_id"], str(q["title"]), str(q.get("label", ""))))
    return out


class _Titles:
    """Each quoted topic's title now, as the flag's account would see it, read once per list of flags.

    A topic whose label is still the one the flag was checked against keeps the title stored with the flag (for a
    question-titled topic that is the account's own question, as `reports.indicators` chose it); a renamed or
    re-titled one is titled as the account's brief titles it (`clustering.titles.title_for_account`: a writer's
    rename as written, a real question only if it is the account's own). A topic gone keeps the stored title.
    """

    def __init__(self, session: Session, rows: Sequence[RiskFlag]) -> None:
        self.session = session
        ids = {q.topic_id for r in rows for q in _quotes(r)}
        found = session.exec(select(Topic).where(col(Topic.id).in_(ids))).all() if ids else []
        self.topics = {t.id: t for t in found if t.active}
        self.cache: dict[tuple[int, int], str] = {}

    def title(self, account_id: int, q: Quote) -> str:
        t = self.topics.get(q.topic_id)
        if t is None or t.label == q.label:
            return q.title
        key = (account_id, q.topic_id)
        if key not in self.cache:
            self.cache[key] = " ".join(title_for_account(self.session, t, account_id).split()) or q.title
        return self.cache[key]


def requote(text: str, quotes: Sequence[Quote], titles: Sequence[str]) -> str:
    """`text` with each quoted title (“…”) replaced by the one in `titles`, occurrence by occurrence in order.

    Positional, so two topics quoted under the same old title each get their own new one; a quote the text does
    not hold (the summary quotes only the first topics) is skipped.
    """
    out, pos = [], 0
    for q, new in zip(quotes, titles, strict=True):
        old = f"“{q.title}”"
        at = text.find(old, pos)
        if at < 0:
            continue
        out.append(text[pos:at] + f"“{new}”")
        pos = at + len(old)
    return "".join(out) + text[pos:]


def _flag(row: RiskFlag, names: dict[int, str], titles: _Titles) -> Flag:
    e = row.evidence or {}
    quotes = _quotes(row)
    now = [titles.title(row.account_id, q) for q in quotes]
    evidence = FlagEvidence(
        requote(str(e.get("text", "")), quotes, now),
        [int(i) for i in e.get("question_ids", [])],
        [date.fromisoformat(w) for w in e.get("weeks", [])],
        [str(link) for link in e.get("links", [])],
        [(q.topic_id, title) for q, title in zip(quotes, now, strict=True)],
    )
    return Flag(row.id or 0, row.account_id, names.get(row.account_id, f"account {row.account_id}"), row.kind,
                KINDS.get(row.kind, row.kind), row.severity, row.raised_at, row.cleared_at, evidence,
                requote(row.summary, quotes, now), row.last_checked_at, row.alerted_at)  # fmt: skip


def _flags(session: Session, rows: Sequence[RiskFlag]) -> list[Flag]:
    """The stored rows as flags, each topic they quote under its current title."""
    names, titles = _names(session), _Titles(session, rows)
    return [_flag(r, names, titles) for r in rows]


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
            raised=_by_severity(_flags(session, raised)),
            cleared=_by_severity(_flags(session, cleared)),
            open=_by_severity(_flags(session, still)),
        )


def open_flags(runtime: Runtime, account_id: int | None = None) -> list[Flag]:
    """Open flags as stored by the last check (all accounts, or one), most severe first."""
    with Session(runtime.engine) as session:
        query = select(RiskFlag).where(col(RiskFlag.cleared_at).is_(None))
        if account_id is not None:
            query = query.where(RiskFlag.account_id == account_id)
        return _by_severity(_flags(session, session.exec(query).all()))


def cleared_flags(runtime: Runtime, limit: int) -> list[Flag]:
    """The `limit` most recently cleared flags (all accounts), last cleared first."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(RiskFlag)
            .where(col(RiskFlag.cleared_at).is_not(None))
            .order_by(col(RiskFlag.cleared_at).desc(), col(RiskFlag.id).desc())
            .limit(limit)
        ).all()
        return _flags(session, rows)


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
        return _flags(session, rows)


def flags_by_id(session: Session, ids: Sequence[int]) -> dict[int, Flag]:
    """The stored flags with these ids, by id, read like every other list (quoted topics under their titles now).

    For callers that cut their own page of flags in SQL (the account timeline) and load only the rows it shows.
    """
    if not ids:
        return {}
    rows = session.exec(select(RiskFlag).where(col(RiskFlag.id).in_(ids))).all()
    return {f.id: f for f in _flags(session, rows)}


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
        return _flags(session, rows)
