"""Doc-ticket forms: create a topic's ticket, change its status, export it; and its Markdown for download.

The ticket itself is shown on the topic page (`topic_ticket.html`, included by `topic.html`) and its external
links on the board's cards. Every form here changes something, so it carries the session's CSRF token
(`FormUser`); the use cases decide who may (docs writers and admins) and refuse the others with a 403 page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import PlainTextResponse, RedirectResponse

from api.deps import RuntimeDep
from core.models import TICKET_STATUSES, TRACKERS
from trackers import TrackerError
from usecases.tickets import (
    ExportQueued,
    TicketError,
    create_ticket,
    request_export,
    set_ticket_status,
    ticket_markdown,
)
from web.auth import FormUser, UserDep, current_user, safe_next

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
_TRACKER = f"^({'|'.join(TRACKERS)})$"
_STATUS = f"^({'|'.join(TICKET_STATUSES)})$"


def _ticket_url(topic_id: int) -> str:
    return f"/topics/{topic_id}#ticket"


@router.post("/topics/{topic_id}/tickets")
def create(topic_id: int, runtime: RuntimeDep, user: FormUser, back: Annotated[str | None, Form()] = None):
    """Write (or refresh) the topic's ticket, then show it on the topic page, or where `back` says.

    The board's evidence drawer sends itself as `back`, so the writer lands on the same drawer showing the ticket.
    """
    try:
        create_ticket(runtime, user.actor, topic_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except TicketError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(safe_next(back, _ticket_url(topic_id)), status_code=303)


@router.post("/tickets/{ticket_id}/export")
def export(ticket_id: int, runtime: RuntimeDep, user: FormUser, tracker: Annotated[str, Form(pattern=_TRACKER)]):
    """Export to a tracker (again: update the issue it made); a refusal is shown with the tracker's own words."""
    try:
        result = request_export(runtime, user.actor, ticket_id, tracker)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except TrackerError as exc:
        raise HTTPException(502, str(exc)) from exc
    if isinstance(result, ExportQueued):  # a worker sends it; the topic page says so
        return RedirectResponse(f"/topics/{result.topic_id}?export_queued={tracker}#ticket", status_code=303)
    if result.action == "failed":
        raise HTTPException(502, result.error)
    return RedirectResponse(_ticket_url(result.topic_id), status_code=303)


@router.post("/tickets/{ticket_id}/status")
def status(ticket_id: int, runtime: RuntimeDep, user: FormUser, value: Annotated[str, Form(pattern=_STATUS)]):
    try:
        t = set_ticket_status(runtime, user.actor, ticket_id, value)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except TicketError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(_ticket_url(t.topic_id), status_code=303)


@router.get("/tickets/{ticket_id}.md", response_class=PlainTextResponse)
def markdown(ticket_id: int, runtime: RuntimeDep, user: UserDep) -> PlainTextResponse:
    """The ticket as Markdown (what `--to markdown` writes), to paste into a tracker docgap does not know."""
    text = ticket_markdown(runtime, user.actor, ticket_id)
    if text is None:
        raise HTTPException(404, f"there is no ticket {ticket_id}")
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8",
                             headers={"Content-Disposition": f'inline; filename="ticket-{ticket_id}.md"'})  # fmt: skip
