"""Doc tickets as writers work them: create one from a topic, read them, change their status, export them.

Creating a ticket for a topic that already has a live one (open or in progress) refreshes that ticket's content
from today's evidence instead of opening a second; its id, status and exports stay, so the next export updates
the same external issues. Two requests creating a topic's ticket at once still write one: the database keeps one
live ticket per topic (a partial unique index), and the request that loses the race refreshes the winner's ticket
and returns it. Exporting remembers each (ticket, tracker) pair (`TicketExport`): the first export
creates the external issue, every later one updates it, and one deleted on the tracker's side is created again.

Exporting again also brings statuses together. The external issue's status is read first (`trackers`, each in its
tracker's terms: GitHub open/closed and why, Jira status categories, Linear workflow state types, Asana
completed): if the issue moved since the last export and now disagrees with the ticket, the ticket takes its
status (closed as completed on GitHub, Done in Jira or Linear: the ticket is done; reopened: open again); if the
ticket moved instead, the update moves the issue. When both moved, the issue's status wins.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

import trackers
from core.models import LIVE_TICKET_STATUSES, TICKET_STATUSES, TRACKERS, DocTicket, TicketExport, Topic
from core.runtime import Runtime
from reports.tickets import TicketDraft, build_ticket
from trackers import ExternalStatus, TrackerError, TrackerGone
from trackers.render import outline_label
from usecases.permissions import Actor, Permission, require

LIVE = LIVE_TICKET_STATUSES
TRACKER_NAMES = trackers.NAMES


class TicketError(ValueError):
    """A ticket cannot be made or changed as asked (a merged topic, an unknown status or tracker)."""


@dataclass
class ExportLink:
    tracker: str
    external_id: str
    url: str
    exported_at: str
    updated_at: str
    status: str = ""
    """The external issue's status in the tracker's words at the last export ("" where it has none)."""

    @property
    def name(self) -> str:
        return TRACKER_NAMES.get(self.tracker, self.tracker)

    @property
    def label(self) -> str:
        """How a person names the external issue: "GitHub #12", "Jira DOC-4", "Linear issue"."""
        if self.tracker == "github":
            return f"GitHub #{self.external_id}"
        if self.tracker == "jira":
            return f"Jira {self.external_id}"
        kinds = {"linear": "Linear issue", "asana": "Asana task", "markdown": "Markdown file"}
        return kinds.get(self.tracker, self.name)

    @property
    def is_web(self) -> bool:
        """A link a browser can follow from a page (a Markdown export is a file on the server)."""
        return self.url.startswith(("https://", "http://"))


@dataclass
class TicketView:
    id: int
    topic_id: int
    title: str
    problem: str
    evidence: dict[str, Any]
    outline: list[str]
    outline_mode: str
    target_page: str
    target_title: str
    target_is_new: bool
    status: str
    created_at: str
    updated_at: str
    created_by: str
    exports: list[ExportLink] = field(default_factory=list)
    outline_label: str = ""
    """Who wrote the outline from what ("offline: extracted from staff answers", "written by the LLM from …")."""

    @property
    def live(self) -> bool:
        return self.status in LIVE


@dataclass
class ExportResult:
    ticket_id: int
    tracker: str
    action: str
    """"created", "updated", "recreated" (the old issue was gone) or "failed"."""
    external_id: str = ""
    url: str = ""
    error: str = ""
    topic_id: int = 0
    status: str = ""
    """The ticket's status after the export."""
    status_was: str = ""
    """Its status before, when the export took the external issue's status into it ("" when it did not)."""
    external_status: str = ""
    """The external issue's status in the tracker's words ("In Review"; "" where it has none)."""
    note: str = ""


def _view(t: DocTicket, exports: list[TicketExport]) -> TicketView:
    return TicketView(
        id=t.id or 0,
        topic_id=t.topic_id,
        title=t.title,
        problem=t.problem,
        evidence=t.evidence,
        outline=t.outline,
        outline_mode=t.outline_mode,
        target_page=t.target_page,
        target_title=t.target_title,
        target_is_new=t.target_is_new,
        status=t.status,
        created_at=t.created_at.isoformat(timespec="seconds"),
        updated_at=t.updated_at.isoformat(timespec="seconds"),
        created_by=t.created_by,
        exports=[_link(e) for e in sorted(exports, key=lambda e: TRACKERS.index(e.tracker))],
        outline_label=outline_label(t),
    )


def _link(e: TicketExport) -> ExportLink:
    return ExportLink(e.tracker, e.external_id, e.external_url, e.exported_at.isoformat(timespec="seconds"),
                      e.updated_at.isoformat(timespec="seconds"), e.external_status or "")  # fmt: skip


def _views(session: Session, tickets: Sequence[DocTicket]) -> list[TicketView]:
    ids = [t.id for t in tickets]
    exports: dict[int, list[TicketExport]] = defaultdict(list)
    for e in session.exec(select(TicketExport).where(col(TicketExport.ticket_id).in_(ids))).all():
        exports[e.ticket_id].append(e)
    return [_view(t, exports[t.id or 0]) for t in tickets]


def create_ticket(runtime: Runtime, actor: Actor, topic_id: int) -> tuple[TicketView, bool]:
    """The topic's ticket, written now; (ticket, True) when new, (ticket, False) when a live one was refreshed."""
    require(actor, Permission.WRITE_TOPICS)
    with Session(runtime.engine) as session:
        topic = session.get(Topic, topic_id)
        if topic is None:
            raise LookupError(f"no topic #{topic_id}")
        if topic.merged_into:
            raise TicketError(f"topic #{topic_id} was merged into #{topic.merged_into}: write the ticket there")
    draft = build_ticket(runtime, topic_id)
    try:
        return _store(runtime, actor, topic_id, draft)
    except IntegrityError:
        # Another request wrote the topic's live ticket between our read and our insert (the partial unique index
        # `uq_docticket_live` refused the second row): that ticket stands, and ours refreshes it.
        return _store(runtime, actor, topic_id, draft)


def _store(runtime: Runtime, actor: Actor, topic_id: int, draft: TicketDraft) -> tuple[TicketView, bool]:
    """Write `draft` into the topic's live ticket, or into a new one when it has none."""
    now = runtime.clock()
    with Session(runtime.engine, expire_on_commit=False) as session:
        ticket = session.exec(
            select(DocTicket).where(DocTicket.topic_id == topic_id, col(DocTicket.status).in_(LIVE))
            .order_by(col(DocTicket.id).desc())
        ).first()  # fmt: skip
        created = ticket is None
        if ticket is None:
            ticket = DocTicket(topic_id=topic_id, title="", problem="", created_at=now, updated_at=now,
                               created_by=actor.name)  # fmt: skip
        ticket.title, ticket.problem, ticket.evidence = draft.title, draft.problem, draft.evidence
        ticket.outline, ticket.outline_mode = draft.outline, draft.outline_mode
        ticket.target_page, ticket.target_title, ticket.target_is_new = (
            draft.target_page, draft.target_title, draft.target_is_new)  # fmt: skip
        ticket.updated_at = now
        session.add(ticket)
        session.commit()
        return _views(session, [ticket])[0], created


def list_tickets(runtime: Runtime, actor: Actor, topic_id: int | None = None) -> list[TicketView]:
    """Tickets, newest first (one topic's when `topic_id` is given)."""
    require(actor, Permission.READ)
    return topic_tickets(runtime, topic_id)


def topic_tickets(runtime: Runtime, topic_id: int | None = None) -> list[TicketView]:
    """What the pages show (every signed-in person reads them): a topic's tickets, newest first."""
    with Session(runtime.engine) as session:
        q = select(DocTicket).order_by(col(DocTicket.id).desc())
        if topic_id is not None:
            q = q.where(DocTicket.topic_id == topic_id)
        return _views(session, session.exec(q).all())


def newest_ticket(runtime: Runtime, topic_id: int) -> TicketView | None:
    """The topic's newest ticket whatever its status (what the board's evidence drawer shows), with its exports."""
    with Session(runtime.engine) as session:
        t = session.exec(select(DocTicket).where(DocTicket.topic_id == topic_id).order_by(col(DocTicket.id).desc())
                         .limit(1)).first()  # fmt: skip
        return _views(session, [t])[0] if t else None


def get_ticket(runtime: Runtime, actor: Actor, ticket_id: int) -> TicketView | None:
    require(actor, Permission.READ)
    with Session(runtime.engine) as session:
        t = session.get(DocTicket, ticket_id)
        return _views(session, [t])[0] if t else None


def ticket_markdown(runtime: Runtime, actor: Actor, ticket_id: int) -> str | None:
    """The ticket as the Markdown exporter writes it."""
    require(actor, Permission.READ)
    with Session(runtime.engine) as session:
        t = session.get(DocTicket, ticket_id)
        return trackers.ticket_markdown(t) if t else None


def live_tickets(runtime: Runtime) -> dict[int, TicketView]:
    """Each topic's live (open or in progress) ticket with its exports: the board's cards show them."""
    with Session(runtime.engine) as session:
        rows = session.exec(select(DocTicket).where(col(DocTicket.status).in_(LIVE)).order_by(col(DocTicket.id))).all()
        return {v.topic_id: v for v in _views(session, rows)}


def set_ticket_status(runtime: Runtime, actor: Actor, ticket_id: int, status: str) -> TicketView:
    require(actor, Permission.WRITE_TOPICS)
    if status not in TICKET_STATUSES:
        raise TicketError(f"status must be one of {', '.join(TICKET_STATUSES)}")
    with Session(runtime.engine, expire_on_commit=False) as session:
        t = session.get(DocTicket, ticket_id)
        if t is None:
            raise LookupError(f"no ticket #{ticket_id}")
        if status in LIVE and t.status not in LIVE:
            other = session.exec(select(DocTicket.id).where(DocTicket.topic_id == t.topic_id, DocTicket.id != t.id,
                                                            col(DocTicket.status).in_(LIVE))).first()  # fmt: skip
            if other:
                raise TicketError(f"topic #{t.topic_id} already has live ticket #{other}")
        t.status, t.updated_at = status, runtime.clock()
        session.add(t)
        try:
            session.commit()
        except IntegrityError as exc:  # another ticket of the topic went live between the check and the write
            raise TicketError(f"topic #{t.topic_id} already has a live ticket") from exc
        return _views(session, [t])[0]


def configured_trackers(runtime: Runtime) -> list[str]:
    return trackers.configured(runtime.settings)


@dataclass
class TicketPanel:
    """The topic page's ticket section: the topic's tickets and where they can be exported from here."""

    tickets: list[TicketView]
    trackers: list[str]
    names: dict[str, str] = field(default_factory=lambda: dict(TRACKER_NAMES))
    statuses: tuple[str, ...] = TICKET_STATUSES


def ticket_panel(runtime: Runtime, topic_id: int) -> TicketPanel:
    return TicketPanel(topic_tickets(runtime, topic_id), configured_trackers(runtime))


@dataclass(frozen=True)
class ExportQueued:
    """An export handed to the worker (a queue is configured): the tracker is called there, with retries."""

    job_id: str
    ticket_id: int
    topic_id: int
    tracker: str


def request_export(runtime: Runtime, actor: Actor, ticket_id: int, tracker: str) -> ExportResult | ExportQueued:
    """A page's or the API's export of one ticket: sent now, or, with a queue, enqueued for a worker.

    With a queue the web process makes no tracker call (a slow or down tracker must not hold a server worker); what
    can be refused at once (the permission, an unknown tracker, a missing setting, an unknown ticket) still is.
    """
    if runtime.queue is None:
        return export_tickets(runtime, actor, [ticket_id], tracker)[0]
    from usecases.jobs import enqueue

    require(actor, Permission.WRITE_TOPICS)
    if tracker not in TRACKERS:
        raise TicketError(f"unknown tracker {tracker!r}: one of {', '.join(TRACKERS)}")
    trackers.exporter(runtime.settings, tracker)  # a missing setting is refused here, not on the worker
    with Session(runtime.engine) as session:
        ticket = session.get(DocTicket, ticket_id)
        if ticket is None:
            raise LookupError(f"no ticket #{ticket_id}")
        topic_id = ticket.topic_id
    job_id = enqueue(runtime, "ticket export", requested_by=actor.name, ticket_ids=[ticket_id], tracker=tracker)
    return ExportQueued(job_id, ticket_id, topic_id, tracker)


def export_tickets(
    runtime: Runtime, actor: Actor, ticket_ids: Sequence[int], tracker: str, sleep: Any = time.sleep
) -> list[ExportResult]:
    """Export tickets (none given: every live one) to `tracker`, updating what an earlier export created.

    A missing setting or an unknown ticket fails before anything is sent. A tracker refusing one ticket is that
    ticket's result ("failed", with the tracker's message); the others still go, and what went is recorded.
    """
    require(actor, Permission.WRITE_TOPICS)
    if tracker not in TRACKERS:
        raise TicketError(f"unknown tracker {tracker!r}: one of {', '.join(TRACKERS)}")
    client = trackers.exporter(runtime.settings, tracker, sleep)
    with Session(runtime.engine, expire_on_commit=False) as session:
        q = select(DocTicket).order_by(col(DocTicket.id))
        q = q.where(col(DocTicket.id).in_(list(ticket_ids))) if ticket_ids else q.where(col(DocTicket.status).in_(LIVE))
        tickets = session.exec(q).all()
        if missing := sorted(set(ticket_ids) - {t.id for t in tickets}):
            raise LookupError(f"no ticket {', '.join(f'#{i}' for i in missing)}")
        results = []
        for t in tickets:
            results.append(_export_one(runtime, session, client, t))
            session.commit()
    return results


def _export_one(runtime: Runtime, session: Session, client: trackers.Exporter, t: DocTicket) -> ExportResult:
    row = session.exec(select(TicketExport).where(TicketExport.ticket_id == t.id,
                                                  TicketExport.tracker == client.tracker)).first()  # fmt: skip
    now, was, note = runtime.clock(), t.status, ""
    seen: ExternalStatus | None = None
    try:
        if row is None:
            issue, action = client.create(t), "created"
        else:
            try:
                seen = client.status(row.external_id)
                note = _follow(session, t, row, seen, now)
                issue, action = client.update(row.external_id, t, seen), "updated"
            except TrackerGone:
                seen, issue, action = None, client.create(t), "recreated"
    except TrackerError as exc:
        return ExportResult(t.id or 0, client.tracker, "failed", error=str(exc), topic_id=t.topic_id,
                            status=t.status, status_was=was if was != t.status else "")  # fmt: skip
    if row is None:
        row = TicketExport(ticket_id=t.id or 0, tracker=client.tracker, external_id="", external_url="",
                           exported_at=now, updated_at=now)  # fmt: skip
    row.external_id, row.external_url, row.updated_at = issue.external_id, issue.url or row.external_url, now
    if action != "updated":
        row.exported_at = now
    external = issue.status or seen
    row.external_status, row.synced_status = (external.name if external else None), t.status
    session.add(row)
    return ExportResult(t.id or 0, client.tracker, action, row.external_id, row.external_url, topic_id=t.topic_id,
                        status=t.status, status_was=was if was != t.status else "",
                        external_status=row.external_status or "", note=note)  # fmt: skip


def _follow(session: Session, t: DocTicket, row: TicketExport, seen: ExternalStatus | None, now: datetime) -> str:
    """Take the external issue's status into the ticket when it is the issue that moved since the last export.

    The issue moved when its status is no longer the one it had after the last export (`external_status`; when
    that is unknown, when it no longer agrees with the ticket's status then, `synced_status`; for an export made
    before statuses were compared, whenever it disagrees). When both moved the issue's status wins: the work is
    done in the tracker. A status the ticket cannot take is explained in the returned note.
    """
    if seen is None or not seen.means or t.status in seen.means:
        return ""
    if row.external_status is not None:
        moved = seen.name != row.external_status
    else:
        moved = row.synced_status is None or row.synced_status not in seen.means
    if not moved:
        return ""
    target = seen.means[0]
    if target in LIVE:
        other = session.exec(select(DocTicket.id).where(DocTicket.topic_id == t.topic_id, DocTicket.id != t.id,
                                                        col(DocTicket.status).in_(LIVE))).first()  # fmt: skip
        if other:
            return (f"the issue is {seen.name!r} again, but topic #{t.topic_id} already has live ticket #{other}: "
                    f"this one stays {t.status.replace('_', ' ')}")  # fmt: skip
    t.status, t.updated_at = target, now
    session.add(t)
    return ""
