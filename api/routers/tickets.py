"""Doc tickets over the API: `POST /v1/topics/{id}/tickets` writes one, `/v1/tickets` reads and exports them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response

from api.auth import AUTH_RESPONSES, ErrorOut, TopicWriteKey, require_permission
from api.deps import RuntimeDep
from api.ticket_schemas import ExportOut, ExportQueuedOut, ExportRequest, TicketOut
from trackers import TrackerError
from usecases.permissions import Actor, Permission, PermissionDenied
from usecases.tickets import (
    ExportQueued,
    TicketError,
    TicketView,
    create_ticket,
    get_ticket,
    list_tickets,
    request_export,
)

router = APIRouter(tags=["tickets"], responses=AUTH_RESPONSES)
ReadKey = Annotated[Actor, Depends(require_permission(Permission.READ))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such topic or ticket."}}


def _out(t: TicketView, created: bool | None = None) -> TicketOut:
    return TicketOut(**{**asdict(t), "exports": [asdict(e) for e in t.exports]}, created=created)


@router.post(
    "/v1/topics/{topic_id}/tickets",
    response_model=TicketOut,
    status_code=201,
    responses={**_NOT_FOUND, 200: {"model": TicketOut, "description": "The topic's open ticket, refreshed."},
               409: {"model": ErrorOut, "description": "The topic was merged into another."}},
)  # fmt: skip
def create(topic_id: Id, runtime: RuntimeDep, actor: TopicWriteKey, response: Response) -> TicketOut:
    """Write the topic's documentation ticket (201), or refresh its open one (200) rather than open a second."""
    ticket, created = _call(lambda: create_ticket(runtime, actor, topic_id))
    if not created:
        response.status_code = 200
    return _out(ticket, created)


@router.get("/v1/tickets", response_model=list[TicketOut])
def tickets(runtime: RuntimeDep, actor: ReadKey, topic_id: int | None = None) -> list[TicketOut]:
    """Tickets, newest first; `topic_id` narrows them to one topic."""
    return [_out(t) for t in list_tickets(runtime, actor, topic_id)]


@router.get("/v1/tickets/{ticket_id}", response_model=TicketOut, responses=_NOT_FOUND)
def ticket(ticket_id: Id, runtime: RuntimeDep, actor: ReadKey) -> TicketOut:
    found = get_ticket(runtime, actor, ticket_id)
    if found is None:
        raise HTTPException(404, f"no ticket {ticket_id}")
    return _out(found)


@router.post(
    "/v1/tickets/{ticket_id}/export",
    response_model=ExportOut | ExportQueuedOut,
    responses={**_NOT_FOUND, 202: {"model": ExportQueuedOut, "description": "Queued for a worker (with a queue)."},
               502: {"model": ErrorOut, "description": "The tracker refused or is not configured."}},
)  # fmt: skip
def export(
    ticket_id: Id, body: ExportRequest, runtime: RuntimeDep, actor: TopicWriteKey, response: Response
) -> ExportOut | ExportQueuedOut:
    """Export to a tracker; exporting again updates the issue it created (a 502 carries the tracker's reason).

    With a queue configured the export is a job (202 and its id) and the tracker is called by a worker.
    """
    result = _call(lambda: request_export(runtime, actor, ticket_id, body.tracker))
    if isinstance(result, ExportQueued):
        response.status_code = 202
        return ExportQueuedOut(**asdict(result))
    if result.action == "failed":
        raise HTTPException(502, result.error)
    return ExportOut(**asdict(result))


def _call(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except TicketError as exc:
        raise HTTPException(409, str(exc)) from exc
    except TrackerError as exc:
        raise HTTPException(502, str(exc)) from exc
    except PermissionDenied as exc:
        raise HTTPException(403, str(exc)) from exc
