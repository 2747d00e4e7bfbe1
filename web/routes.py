"""Page routes. Each builds its page context (`web.pages`) and renders one template."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.deps import RuntimeDep
from clustering.curation import CurationError, set_status
from retrieval.answer import answer_question
from usecases.accounts import account_names, account_page, accounts_page
from usecases.docs import doc_page, section_heading
from usecases.pipeline import merge, split
from usecases.reports import report_list, weekly_report
from usecases.topics import board_page, topic_page, unassigned_page
from web import TEMPLATES_DIR
from web.pages import answer_html, link_topics, markdown_html, markdown_plain, sparkline

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(
    markdown=markdown_html,
    plain=markdown_plain,
    answer_html=answer_html,
    link_topics=link_topics,
    section_heading=section_heading,
    sparkline=sparkline,
)


def _render(request: Request, name: str, runtime: Any, **context: Any) -> HTMLResponse:
    context["llm_enabled"] = runtime.settings.llm_enabled
    return templates.TemplateResponse(request, name, context)


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
):
    """Filters come from links and a GET form; anything unparsable is simply not applied (it is a page, not an API)."""
    if view not in ("gaps", "covered", "all"):
        view = "gaps"
    p = board_page(runtime, view, status or None, page, _positive(days), language or None, _positive(account))
    return _render(request, "board.html", runtime, p=p)


def _positive(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


@router.get("/topics/{topic_id}", response_class=HTMLResponse)
def topic(request: Request, topic_id: int, runtime: RuntimeDep):
    page = topic_page(runtime, topic_id)
    if page is None:
        raise HTTPException(404, "no such topic")
    return _render(request, "topic.html", runtime, p=page)


@router.post("/topics/{topic_id}/status")
def topic_status(
    request: Request,
    topic_id: int,
    runtime: RuntimeDep,
    status: Annotated[str, Form()],
    notes: Annotated[str | None, Form()] = None,
    label: Annotated[str | None, Form()] = None,
    back: Annotated[str | None, Form()] = None,
):
    try:
        set_status(runtime, topic_id, status, notes, label or None)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    target = back if back and back.startswith("/") and not back.startswith("//") else f"/topics/{topic_id}"
    return RedirectResponse(target, status_code=303)


@router.post("/topics/{topic_id}/merge")
def topic_merge(topic_id: int, runtime: RuntimeDep, into: Annotated[int, Form()]):
    """Merge this topic into another, then show the topic that absorbed it."""
    _decide(lambda: merge(runtime, [topic_id], into))
    return RedirectResponse(f"/topics/{into}", status_code=303)


@router.post("/topics/{topic_id}/split")
def topic_split(
    topic_id: int,
    runtime: RuntimeDep,
    question_ids: Annotated[list[int] | None, Form()] = None,
    label: Annotated[str | None, Form(max_length=200)] = None,
):
    """Split the ticked questions (or, with none ticked, the most distinct half) into a new topic and show it."""
    new = _decide(lambda: split(runtime, topic_id, question_ids or None, label or None))
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
    return _render(request, "unassigned.html", runtime, p=unassigned_page(runtime, page))


@router.get("/chat", response_class=HTMLResponse)
def chat(request: Request, runtime: RuntimeDep):
    return _render(request, "chat.html", runtime, answer=None, question="", account="", accounts=account_names(runtime))


@router.post("/chat", response_class=HTMLResponse)
def chat_ask(
    request: Request,
    runtime: RuntimeDep,
    question: Annotated[str, Form(min_length=1, max_length=4000)],
    account: Annotated[str | None, Form()] = None,
):
    result = answer_question(runtime, question, account=account or None)
    return _render(
        request,
        "chat.html",
        runtime,
        answer=result,
        question=question,
        account=account or "",
        accounts=account_names(runtime),
    )


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request, runtime: RuntimeDep):
    return _render(request, "accounts.html", runtime, rows=accounts_page(runtime))


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(request: Request, account_id: int, runtime: RuntimeDep, page: int = 1):
    p = account_page(runtime, account_id, page)
    if p is None:
        raise HTTPException(404, "no such account")
    return _render(request, "account.html", runtime, p=p)


@router.get("/kb/{url:path}", response_class=HTMLResponse)
def doc(request: Request, url: str, runtime: RuntimeDep):
    p = doc_page(runtime, url)
    if p is None:
        raise HTTPException(404, "no such page in the doc index")
    return _render(request, "doc.html", runtime, p=p)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, runtime: RuntimeDep):
    return _render(request, "reports.html", runtime, reports=report_list(runtime))


@router.get("/reports/weekly/latest", response_class=HTMLResponse)
def latest_report(request: Request, runtime: RuntimeDep):
    found = report_list(runtime)
    if not found:
        return _render(request, "reports.html", runtime, reports=[])
    return RedirectResponse(f"/reports/weekly/{found[0].period_start.isoformat()}", status_code=307)


@router.get("/reports/weekly/{week}", response_class=HTMLResponse)
def weekly(request: Request, week: date, runtime: RuntimeDep):
    report = weekly_report(runtime, week)
    if report is None:
        raise HTTPException(404, "no report for that week; run `docgap report weekly --week DATE`")
    return _render(request, "report.html", runtime, report=report)
