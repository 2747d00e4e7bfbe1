"""Page routes. Each asks a use case for its page's contents and renders one template.

Every route here needs a signed-in user (the router's dependency); forms that change something also need the
session's CSRF token (`FormUser`). The use cases decide what the user's role allows and say no with
`PermissionDenied`, shown as a 403 page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.deps import RuntimeDep
from clustering.curation import CurationError
from usecases.accounts import account_page, accounts_page
from usecases.docs import doc_page, section_heading
from usecases.permissions import Permission
from usecases.reports import report_list, weekly_report
from usecases.tickets import live_tickets, newest_ticket, ticket_panel
from usecases.timeline import timeline_page
from usecases.topics import (
    LAYOUTS,
    board_page,
    change_topic,
    change_topics,
    merge_topics,
    split_topic,
    topic_page,
    unassigned_page,
)
from web import TEMPLATES_DIR
from web.auth import FormUser, UserDep, current_user, safe_next
from web.pages import answer_html, link_topics, markdown_html, markdown_plain, sparkline

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(
    markdown=markdown_html,
    plain=markdown_plain,
    answer_html=answer_html,
    link_topics=link_topics,
    section_heading=section_heading,
    sparkline=sparkline,
)


def render(request: Request, name: str, runtime: Any, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with what every page shows: the mode (LLM or offline), and who is signed in with their form token."""
    context["llm_enabled"] = runtime.settings.llm_enabled
    user = getattr(request.state, "user", None)
    context["user"] = user
    context["csrf_token"] = user.csrf_token if user else ""
    context["may_write_topics"] = bool(user and user.actor.may(Permission.WRITE_TOPICS))
    context["may_run_jobs"] = bool(user and user.actor.may(Permission.RUN_JOBS))
    context["may_manage_users"] = bool(user and user.actor.may(Permission.MANAGE_USERS))
    context["may_manage_keys"] = bool(user and user.actor.may(Permission.MANAGE_KEYS))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def board(
    request: Request,
    runtime: RuntimeDep,
    view: str = "gaps",
    status: str | None = None,
    page: int = 1,
    days: str | None = None,
    language: str | None = None,
    account: str | None = None,
    layout: str = "queue",
    dismissed: str | None = None,
    evidence: str | None = None,
):
    """Filters come from links and a GET form; anything unparsable is simply not applied (it is a page, not an API).

    `evidence` opens a topic's evidence drawer on the board, so the drawer works without JavaScript too (with
    HTMX the board fetches `/topics/{id}/evidence` into it instead).
    """
    if view not in ("gaps", "covered", "all"):
        view = "gaps"
    p = board_page(runtime, view, status or None, page, _positive(days), language or None, _positive(account),
                   layout if layout in LAYOUTS else "queue", bool(dismissed))  # fmt: skip
    shown = _positive(evidence)
    drawer = topic_page(runtime, shown) if shown else None
    ticket = newest_ticket(runtime, shown) if drawer and shown else None
    return render(request, "board.html", runtime, p=p, ev=drawer, back=p.link(page=p.page if p.page > 1 else None),
                  tickets=live_tickets(runtime), ev_ticket=ticket)  # fmt: skip


def _positive(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


@router.get("/topics/{topic_id}", response_class=HTMLResponse)
def topic(request: Request, topic_id: int, runtime: RuntimeDep, export_queued: str | None = None):
    """`export_queued`: the tracker an export was just handed to the worker for (shown as a notice)."""
    page = topic_page(runtime, topic_id)
    if page is None:
        raise HTTPException(404, f"there is no topic {topic_id}")
    panel = ticket_panel(runtime, topic_id)
    queued = panel.names.get(export_queued or "")
    return render(request, "topic.html", runtime, p=page, tk=panel, export_queued=queued)


@router.get("/topics/{topic_id}/evidence", response_class=HTMLResponse)
def topic_evidence(request: Request, topic_id: int, runtime: RuntimeDep, back: str | None = None):
    """The board's evidence drawer alone (HTMX swaps it in); `back` is the board URL its close link returns to."""
    page = topic_page(runtime, topic_id)
    if page is None:
        raise HTTPException(404, f"there is no topic {topic_id}")
    return render(request, "board_evidence.html", runtime, ev=page, back=safe_next(back),
                  ev_ticket=newest_ticket(runtime, topic_id))  # fmt: skip


@router.post("/topics/bulk/status")
def topics_status(
    runtime: RuntimeDep,
    user: FormUser,
    status: Annotated[str, Form()],
    topic_ids: Annotated[list[int] | None, Form()] = None,
    back: Annotated[str | None, Form()] = None,
):
    """The board's bulk action: one status for the ticked topics, then back to the same board.

    Declared before `/topics/{topic_id}/status`, which would otherwise take "bulk" for a topic id.
    """
    try:
        change_topics(runtime, user.actor, topic_ids or [], status)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse(safe_next(back), status_code=303)


@router.post("/topics/{topic_id}/status")
def topic_status(
    topic_id: int,
    runtime: RuntimeDep,
    user: FormUser,
    status: Annotated[str, Form()],
    notes: Annotated[str | None, Form()] = None,
    label: Annotated[str | None, Form()] = None,
    back: Annotated[str | None, Form()] = None,
    doc_url: Annotated[str | None, Form(max_length=2000)] = None,
    documented_on: Annotated[str | None, Form()] = None,
):
    """A writer's decision; with "documented", optionally the page that now answers it and the day it shipped."""
    try:
        shipped = date.fromisoformat(documented_on) if documented_on else None
        change_topic(runtime, user.actor, topic_id, status, notes, label or None, doc_url or None, shipped)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse(safe_next(back, f"/topics/{topic_id}"), status_code=303)


@router.post("/topics/{topic_id}/merge")
def topic_merge(topic_id: int, runtime: RuntimeDep, user: FormUser, into: Annotated[int, Form()]):
    """Merge this topic into another, then show the topic that absorbed it."""
    _decide(lambda: merge_topics(runtime, user.actor, [topic_id], into))
    return RedirectResponse(f"/topics/{into}", status_code=303)


@router.post("/topics/{topic_id}/split")
def topic_split(
    topic_id: int,
    runtime: RuntimeDep,
    user: FormUser,
    question_ids: Annotated[list[int] | None, Form()] = None,
    label: Annotated[str | None, Form(max_length=200)] = None,
):
    """Split the ticked questions (or, with none ticked, the most distinct half) into a new topic and show it."""
    new = _decide(lambda: split_topic(runtime, user.actor, topic_id, question_ids or None, label or None))
    return RedirectResponse(f"/topics/{new.id}", status_code=303)


def _decide(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except CurationError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("/questions/unassigned", response_class=HTMLResponse)
def unassigned(request: Request, runtime: RuntimeDep, page: int = 1):
    return render(request, "unassigned.html", runtime, p=unassigned_page(runtime, page))


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request, runtime: RuntimeDep):
    return render(request, "accounts.html", runtime, rows=accounts_page(runtime))


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(request: Request, account_id: int, runtime: RuntimeDep, page: int = 1):
    p = account_page(runtime, account_id, page)
    if p is None:
        raise HTTPException(404, f"there is no account {account_id}")
    return render(request, "account.html", runtime, p=p)


@router.get("/accounts/{account_id}/timeline", response_class=HTMLResponse)
def account_timeline(
    request: Request, account_id: int, runtime: RuntimeDep, user: UserDep, kind: str | None = None, page: int = 1
):
    """Everything about the account in time order; `kind` and `page` come from the page's links."""
    p = timeline_page(runtime, user.actor, account_id, kind or None, page)
    if p is None:
        raise HTTPException(404, f"there is no account {account_id}")
    return render(request, "timeline.html", runtime, p=p)


@router.get("/kb/{url:path}", response_class=HTMLResponse)
def doc(request: Request, url: str, runtime: RuntimeDep):
    p = doc_page(runtime, url)
    if p is None:
        raise HTTPException(404, f"`{url}` is not a page in the doc index")
    return render(request, "doc.html", runtime, p=p)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, runtime: RuntimeDep):
    return render(request, "reports.html", runtime, reports=report_list(runtime))


@router.get("/reports/weekly/latest", response_class=HTMLResponse)
def latest_report(request: Request, runtime: RuntimeDep):
    found = report_list(runtime)
    if not found:
        return render(request, "reports.html", runtime, reports=[])
    return RedirectResponse(f"/reports/weekly/{found[0].period_start.isoformat()}", status_code=307)


@router.get("/reports/weekly/{week}", response_class=HTMLResponse)
def weekly(request: Request, week: date, runtime: RuntimeDep):
    report = weekly_report(runtime, week)
    if report is None:
        raise HTTPException(
            404, f"there is no weekly report for the week of {week}; `docgap report weekly --week {week}` writes one"
        )
    return render(request, "report.html", runtime, report=report)
