"""One account's history in time order, newest first, so an account manager reads it before a call.

What the account asked (with what staff answered), what the chat was asked about it, and what writers and
re-clustering did to the topics its questions are in, and when a risk flag on it was raised and cleared.

Each kind of entry is a `_Source`: queries giving the (when, id) of every entry of that kind for an account, and a
loader that turns one page's ids into entries. The page is cut in SQL, over a UNION ALL of those small key queries
ordered by time, so an account with thousands of questions reads only the rows it shows; the counts per kind come
from the same union in one grouped query.

A risk flag (`reports.risk`) gives up to two entries of kind "flags": raised at its `raised_at`, cleared at its
`cleared_at` once it is. Both come from the same row, so their refs encode which one: `2 * id` the raise,
`2 * id + 1` the clear; they page with the rest like any other key. Their text is read as every flag reader reads it
(`reports.risk.flags_by_id`, `evidence_line`), a renamed topic under its current title.

Account briefs are made on demand from the current data and not stored, so they have no date to sit at: the page
links the current brief instead.

Which topic changes belong to an account: the events (status, rename, merge, split, retire) on a topic that holds
one of the account's questions now, whether the topic was acted on or received the result (a merge into it, a split
out of it). Topic membership has no history, so the past of a topic since merged away stays on that topic's page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, literal, union_all
from sqlmodel import Session, col, func, or_, select

from core.models import Account, ChatTurn, Question, RiskFlag, Topic, TopicEvent
from core.runtime import Runtime
from reports.risk import evidence_line, flags_by_id
from usecases.paging import PAGE_SIZE, paging
from usecases.permissions import Actor, Permission, require

SHORT = 400
"""Characters of a question, answer or reply shown in an entry; the full text is one link away."""


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    """One of `KINDS`."""
    title: str
    """What happened, in a few words ("Asked on zendesk", "Status: new → documented")."""
    text: str
    """The customer's or the asker's words (plain text, escaped by the page); may be empty."""
    reply: str | None = None
    """What came back: the staff answer of the thread, or the chat's answer (see `reply_markdown`)."""
    reply_label: str = ""
    links: list[Link] = field(default_factory=list)
    note: str = ""
    """A muted line of context (the answer's confidence, who made a topic change, ...)."""
    reply_markdown: bool = False
    """The chat's answers are Markdown (the page shows them as plain text); staff answers are plain text already."""


@dataclass(frozen=True)
class _Source:
    kind: str
    label: str
    """The filter's name ("Topic changes")."""
    noun: str
    """One entry's badge ("topic change")."""
    plural: str
    """What the empty state says there is none of ("topic changes")."""
    keys: Callable[[int], tuple[Select[Any], ...]]
    """(at, kind, ref) of every entry of this kind for an account: cheap columns only, ordered and cut later."""
    load: Callable[[Session, int, Sequence[int]], dict[int, TimelineEntry]]
    """The entries behind one page's refs, by ref."""


def _held_topics(account_id: int) -> Select[Any]:
    return (
        select(Question.topic_id)
        .where(Question.account_id == account_id, col(Question.topic_id).is_not(None))
        .distinct()
    )


def _question_keys(account_id: int) -> tuple[Select[Any], ...]:
    return (
        select(
            col(Question.created_at).label("at"), literal("question").label("kind"), col(Question.id).label("ref")
        ).where(Question.account_id == account_id),
    )


def _chat_keys(account_id: int) -> tuple[Select[Any], ...]:
    return (
        select(col(ChatTurn.asked_at).label("at"), literal("chat").label("kind"), col(ChatTurn.id).label("ref")).where(
            ChatTurn.account_id == account_id
        ),
    )


def _topic_keys(account_id: int) -> tuple[Select[Any], ...]:
    held = _held_topics(account_id)
    return (
        select(col(TopicEvent.at).label("at"), literal("topic").label("kind"), col(TopicEvent.id).label("ref")).where(
            or_(col(TopicEvent.topic_id).in_(held), col(TopicEvent.other_topic_id).in_(held))
        ),
    )


def _flag_keys(account_id: int) -> tuple[Select[Any], ...]:
    """Each flag's raise (ref `2 * id`) and, once cleared, its clear (ref `2 * id + 1`)."""
    kind = literal("flags").label("kind")
    raised = select(col(RiskFlag.raised_at).label("at"), kind, (col(RiskFlag.id) * 2).label("ref")).where(
        RiskFlag.account_id == account_id
    )
    cleared = select(col(RiskFlag.cleared_at).label("at"), kind, (col(RiskFlag.id) * 2 + 1).label("ref")).where(
        RiskFlag.account_id == account_id, col(RiskFlag.cleared_at).is_not(None)
    )
    return raised, cleared


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"


def _labels(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(Topic.id, Topic.label).where(col(Topic.id).in_(ids))).all())  # type: ignore[arg-type]


def _topic_link(topic_id: int, labels: dict[int, str]) -> Link:
    return Link(f"#{topic_id} {labels.get(topic_id) or 'untitled topic'}", f"/topics/{topic_id}")


def _load_questions(session: Session, account_id: int, refs: Sequence[int]) -> dict[int, TimelineEntry]:
    rows = session.exec(select(Question).where(col(Question.id).in_(refs))).all()
    labels = _labels(session, {q.topic_id for q in rows if q.topic_id})
    out = {}
    for q in rows:
        where = f" in {q.channel}" if q.channel else ""
        links = [_topic_link(q.topic_id, labels)] if q.topic_id else []
        if not q.topic_id and q.embedded:
            links.append(Link("in no topic yet", "/questions/unassigned"))
        out[q.id or 0] = TimelineEntry(
            q.created_at,
            "question",
            f"Asked on {q.source}{where}",
            _short(q.text),
            _short(q.staff_answer) if q.staff_answer else None,
            "Staff answered",
            links,
            f"language {q.language}" if q.language and q.language != "en" else "",
        )
    return out


def _load_chat(session: Session, account_id: int, refs: Sequence[int]) -> dict[int, TimelineEntry]:
    rows = session.exec(select(ChatTurn).where(col(ChatTurn.id).in_(refs))).all()
    labels = _labels(session, {t.topic_id for t in rows if t.topic_id})
    out = {}
    for t in rows:
        feedback = {1: " · rated helpful", -1: " · rated unhelpful"}.get(t.feedback or 0, "")
        verdict = "answered from the docs" if t.covered else "not covered by the docs"
        out[t.id or 0] = TimelineEntry(
            t.asked_at,
            "chat",
            "Asked in the chat about this account",
            _short(t.question),
            _CITATION.sub("", t.answer),
            "Answer",
            [_topic_link(t.topic_id, labels)] if t.topic_id else [],
            f"{verdict} (confidence {t.confidence:.2f}){feedback}",
            reply_markdown=True,
        )
    return out


def _load_topic_events(session: Session, account_id: int, refs: Sequence[int]) -> dict[int, TimelineEntry]:
    rows = session.exec(select(TopicEvent).where(col(TopicEvent.id).in_(refs))).all()
    touched = {e.topic_id for e in rows} | {e.other_topic_id for e in rows if e.other_topic_id}
    labels = _labels(session, touched)
    mine = dict(
        session.exec(
            select(Question.topic_id, func.count())
            .where(Question.account_id == account_id, col(Question.topic_id).in_(touched))
            .group_by(col(Question.topic_id))
        ).all()
    )
    out = {}
    for e in rows:
        title, text = _describe(e, labels)
        ids = [e.topic_id] + ([e.other_topic_id] if e.other_topic_id else [])
        held = sum(mine.get(i, 0) for i in ids)
        who = _ACTORS.get(e.actor, f"by {e.actor}")
        out[e.id or 0] = TimelineEntry(
            e.at,
            "topic",
            title,
            text,
            links=[Link(f"topic #{i}", f"/topics/{i}") for i in ids],
            note=f"{who} · {'it holds' if len(ids) == 1 else 'they hold'} {held} of this account's questions now",
        )
    return out


def _load_flags(session: Session, account_id: int, refs: Sequence[int]) -> dict[int, TimelineEntry]:
    flags = flags_by_id(session, sorted({ref // 2 for ref in refs}))
    out = {}
    for ref in refs:
        f = flags.get(ref // 2)
        if f is None:
            continue
        links = [Link("account brief", f"/accounts/{account_id}/brief"), Link("all risk flags", "/flags")]
        if ref % 2 and f.cleared_at is not None:
            raised = f"raised {f.raised_at:%Y-%m-%d %H:%M}"
            out[ref] = TimelineEntry(f.cleared_at, "flags", f"Flag cleared: {f.title}", evidence_line(f),
                                     links=links, note=f"{raised} · the condition no longer held")  # fmt: skip
        elif not ref % 2:
            state = f"cleared {f.cleared_at:%Y-%m-%d %H:%M}" if f.cleared_at else "still open"
            out[ref] = TimelineEntry(f.raised_at, "flags", f"Flag raised: {f.title}", evidence_line(f),
                                     links=links, note=f"severity {f.severity:.1f} · {state}")  # fmt: skip
    return out


_CITATION = re.compile(r"\s?\[\d{1,2}\]")
"""An answer's [n] markers point at citations this page does not show."""
_ACTORS = {"writer": "by a writer", "recluster": "by re-clustering"}


def _describe(e: TopicEvent, labels: dict[int, str]) -> tuple[str, str]:
    """A title and a sentence for a topic change, in the words a writer would use."""
    d = e.detail or {}
    name = labels.get(e.topic_id) or f"#{e.topic_id}"
    other = labels.get(e.other_topic_id or 0) or f"#{e.other_topic_id}"
    n = d.get("questions")
    moved = f"{n} question{'' if n == 1 else 's'}" if n else "questions"
    if e.kind == "status":
        page = f", answered by {d['doc_url']}" if d.get("doc_url") else ""
        shipped = f" (shipped {str(d['documented_at'])[:10]})" if d.get("documented_at") else ""
        if d.get("from") == d.get("to"):  # the page or the day it shipped was added later
            return f"Documented page recorded{shipped}", f"“{name}”{page}"
        return f"Status: {_status(d.get('from'))} → {_status(d.get('to'))}", f"“{name}”{page}{shipped}"
    if e.kind == "rename":
        return "Renamed", f"“{d.get('from', '?')}” → “{d.get('to', '?')}”"
    if e.kind == "merge":
        return "Merged", f"“{name}” was merged into “{other}”"
    if e.kind == "split":
        return "Split", f"{moved.capitalize()} split out of “{name}” into “{other}”"
    if e.kind == "retire":
        return "Retired", f"“{name}” was retired; its {moved} went to no topic"
    return e.kind.capitalize(), f"“{name}”"


def _status(value: object) -> str:
    return str(value or "?").replace("_", " ")


SOURCES: tuple[_Source, ...] = (
    _Source("question", "Questions", "question", "questions", _question_keys, _load_questions),
    _Source("chat", "Chat", "chat", "chat questions", _chat_keys, _load_chat),
    _Source("topic", "Topic changes", "topic change", "topic changes", _topic_keys, _load_topic_events),
    _Source("flags", "Risk flags", "flag", "risk flags", _flag_keys, _load_flags),
)
KINDS = tuple(s.kind for s in SOURCES)
_BY_KIND = {s.kind: s for s in SOURCES}


@dataclass
class TimelinePage:
    account: Account
    entries: list[TimelineEntry]
    counts: dict[str, int]
    """Entries per kind for the whole account (not just this page), every kind present, zeros included."""
    kind: str | None
    page: int
    pages: int
    total: int
    """Entries matching the filter."""
    kinds: tuple[tuple[str, str], ...] = tuple((s.kind, s.label) for s in SOURCES)
    nouns: dict[str, str] = field(default_factory=lambda: {s.kind: s.noun for s in SOURCES})
    plurals: dict[str, str] = field(default_factory=lambda: {s.kind: s.plural for s in SOURCES})

    def link(self, **changes: object) -> str:
        """This timeline's URL with the current filter, some parameters changed (the pager keeps the kind)."""
        params: dict[str, object] = {"kind": self.kind, "page": None}
        params.update(changes)
        query = urlencode({k: v for k, v in params.items() if v not in (None, "", 1)})
        return f"/accounts/{self.account.id}/timeline" + (f"?{query}" if query else "")


def timeline_page(
    runtime: Runtime, actor: Actor, account_id: int, kind: str | None = None, page: int = 1
) -> TimelinePage | None:
    """One page of the account's timeline, newest first; `kind` (one of `KINDS`) narrows it, anything else is all.

    None when there is no such account.
    """
    require(actor, Permission.READ)
    kind = kind if kind in _BY_KIND else None
    with Session(runtime.engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            return None
        keys = union_all(*(q for s in SOURCES for q in s.keys(account_id))).subquery()
        counts = {k: 0 for k in KINDS} | dict(
            session.exec(select(keys.c.kind, func.count()).group_by(keys.c.kind)).all()  # type: ignore[arg-type]
        )
        total = counts[kind] if kind else sum(counts.values())
        pages, page = paging(total, page)
        query = select(keys.c.at, keys.c.kind, keys.c.ref)
        if kind:
            query = query.where(keys.c.kind == kind)
        shown = session.exec(
            query.order_by(keys.c.at.desc(), keys.c.kind, keys.c.ref.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        loaded: dict[str, dict[int, TimelineEntry]] = {}
        for k in {row.kind for row in shown}:
            loaded[k] = _BY_KIND[k].load(session, account_id, [row.ref for row in shown if row.kind == k])
    entries = [loaded[row.kind][row.ref] for row in shown if row.ref in loaded[row.kind]]
    return TimelinePage(account, entries, counts, kind, page, pages, total)
