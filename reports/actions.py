"""What an account manager can do about what an account asked: the page to send, the doc in progress, who to call.

Shared by the chat's call brief (`usecases.account_questions`) and the account and executive briefs, so the same
question gets the same advice everywhere. An action is data (`Action`): plain text for JSON, Slack and the LLM's
summary, and `action_markdown` for the pages and Markdown exports, with links to the topic, the doc page and the
ticket.

The page to send for a documented topic is the doc passage nearest the topic's centre (the centroid of its
questions) in the doc index: the passage the topic's questions are, on average, closest to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from core.models import DocTicket, Topic
from core.runtime import Runtime
from reports.weekly import md_text
from retrieval.index import Passage, search

TOP_TOPICS = 5
FINDABILITY = "findability"
"""The gap kind where the docs answer the question and customers do not find it: send them the page."""
LIVE_TICKETS = ("open", "in_progress")
"""Ticket statuses that mean a writer is (about to be) on it."""


@dataclass(frozen=True)
class TopicAsked:
    """A topic an account asked about in a period, and how often."""

    topic_id: int
    label: str
    count: int
    gap_kind: str | None
    status: str | None


def most_asked(rows: Iterable[tuple[int | None, str | None, str | None, str | None]],
               n: int = TOP_TOPICS) -> list[TopicAsked]:  # fmt: skip
    """The `n` topics asked most, from (topic id, label, gap kind, status) per question; no-topic rows skipped."""
    counts = Counter((tid, label, kind, status) for tid, label, kind, status in rows if tid is not None)
    return [TopicAsked(tid, label or f"topic #{tid}", k, kind, status)
            for (tid, label, kind, status), k in counts.most_common(n)]  # fmt: skip


@dataclass(frozen=True)
class TicketRef:
    id: int
    status: str
    title: str


def live_tickets(runtime: Runtime, topic_ids: Sequence[int]) -> dict[int, TicketRef]:
    """The newest open or in-progress doc ticket of each topic that has one."""
    if not topic_ids:
        return {}
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(DocTicket)
            .where(col(DocTicket.topic_id).in_(list(topic_ids)), col(DocTicket.status).in_(LIVE_TICKETS))
            .order_by(col(DocTicket.id))
        ).all()
    return {t.topic_id: TicketRef(t.id or 0, t.status, t.title) for t in rows}


def pages_to_send(runtime: Runtime, topics: Sequence[TopicAsked]) -> dict[int, Passage]:
    """The page to send for each documented topic (no gap, or a findability gap): the passage nearest its centre."""
    wanted = [t.topic_id for t in topics if not t.gap_kind or t.gap_kind == FINDABILITY]
    if not wanted:
        return {}
    with Session(runtime.engine) as session:
        centroids = {t.id: t.centroid for t in session.exec(select(Topic).where(col(Topic.id).in_(wanted))).all()}
    out = {}
    for tid in wanted:
        if centroids.get(tid):
            found = search(runtime, np.asarray(centroids[tid], dtype=np.float32), k=1)
            if found:
                out[tid] = found[0]
    return out


@dataclass(frozen=True)
class Rising:
    """The account's fast-growing subject (its focus topics, busiest first) and how fast it grew."""

    topics: list[tuple[int, str]]
    growth: float


@dataclass(frozen=True)
class Action:
    kind: str
    """"send_page", "findable", "documented", "doc_ticket", "gap", "rising", "repeat", "sentiment", "renewal" or
    "check_in"."""
    text: str
    """One plain sentence (no markup): for JSON, Slack and the summary."""
    topic_id: int | None = None
    topic: str | None = None
    count: int = 0
    """How often the account asked about the topic in the period (0: not about one topic)."""
    note: str = ""
    """What `text` says after naming the topic (the Markdown line puts a link in front of it)."""
    page_title: str | None = None
    page_url: str | None = None
    """The doc page's URL as indexed (relative to the docs root; the pages show it at /kb/{url})."""
    ticket_id: int | None = None
    href: str | None = None
    """Where to act, for actions not about one topic (a timeline, a flag's evidence)."""


_DOC_STATE = {"in_progress": "a doc is in progress", "documented": "the docs were just updated"}


def _about(kind: str, t: TopicAsked, note: str, **more: object) -> Action:
    return Action(kind, f"“{t.label}” ({t.count}x): {note}", t.topic_id, t.label, t.count, note, **more)  # type: ignore[arg-type]


def topic_action(t: TopicAsked, page: Passage | None, ticket: TicketRef | None) -> Action:
    """Point at the docs where they answer it, at the writers' work where they do not."""
    if t.gap_kind == FINDABILITY and page is not None:
        return _about("findable", t, f"in the docs but hard to find; send them the page “{page.title}”.",
                      page_title=page.title, page_url=page.url)  # fmt: skip
    if t.gap_kind and ticket is not None:
        note = f"the docs do not answer it fully; a doc for it is in progress, ticket #{ticket.id}."
        return _about("doc_ticket", t, note, ticket_id=ticket.id)
    if t.gap_kind:
        state = _DOC_STATE.get(t.status or "", "no doc yet")
        return _about("gap", t, f"the docs do not answer it fully ({state}); say so and follow up.")
    if page is not None:
        return _about("send_page", t, f"documented; send them the page “{page.title}”.", page_title=page.title,
                      page_url=page.url)  # fmt: skip
    return _about("documented", t, "documented; the topic page lists the closest pages.")


def rising_action(rising: Rising) -> Action:
    first, subject = rising.topics[0] if rising.topics else (None, "their")
    note = (f"questions rising ({rising.growth:.1f}x over 13 weeks): ask what changed on their side and loop in "
            "engineering.")  # fmt: skip
    return Action("rising", f"“{subject}” {note}", first, subject, 0, note)


CHECK_IN = Action("check_in", "Nothing asked in this period: a good moment to ask how things are going.")


def suggest_actions(topics: Sequence[TopicAsked], rising: Rising | None, pages: dict[int, Passage],
                    tickets: dict[int, TicketRef]) -> list[Action]:  # fmt: skip
    """One action per most-asked topic, then the rising subject; a check-in when nothing was asked."""
    out = [topic_action(t, pages.get(t.topic_id), tickets.get(t.topic_id)) for t in topics]
    if rising is not None:
        out.append(rising_action(rising))
    return out or [CHECK_IN]


def topic_link(topic_id: int | None, label: str | None) -> str:
    return f"[{md_text(label or f'topic #{topic_id}')}](/topics/{topic_id})" if topic_id else "no topic yet"


def action_markdown(a: Action) -> str:
    """The action as one Markdown line with its links (labels and titles escaped: they are customer/doc text)."""
    if a.topic_id is None:
        text = md_text(a.text)
        return f"[{text}]({a.href})" if a.href else text
    head = topic_link(a.topic_id, a.topic) + (f" ({a.count}x):" if a.count else "")
    if a.kind in ("send_page", "findable"):
        state = "documented" if a.kind == "send_page" else "in the docs but hard to find"
        return f"{head} {state}; send them [{md_text(a.page_title or '')}](/kb/{a.page_url})."
    if a.kind == "doc_ticket":
        return (f"{head} the docs do not answer it fully; a doc for it is in progress, "
                f"[ticket #{a.ticket_id}](/topics/{a.topic_id}).")  # fmt: skip
    return f"{head} {md_text(a.note)}"
