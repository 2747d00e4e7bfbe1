"""The brief pages: `/accounts/{id}/brief`, `/briefs/executive`, and each one's PDF.

The page and the PDF show the same HTML (`reports.brief_render.render_body`): the page inside the site's layout,
the PDF as a standalone print document laid out by WeasyPrint, its links made absolute to this site.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.deps import RuntimeDep
from core.runtime import Runtime
from reports.account_brief import AccountBrief
from reports.brief_render import Brief, PdfUnavailable, brief_css, render_body, render_pdf
from usecases.briefs import MAX_DAYS, UnknownAccount, account_brief, executive_brief
from usecases.users import SignedIn
from web.auth import UserDep, current_user
from web.routes import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
PERIODS = (30, 90, 180)
"""The period links the account brief offers (any `?days=` from 1 to `MAX_DAYS` works)."""


def _days(value: str | None) -> int:
    """`?days=` as given when it is a whole number in range, else the default 90 (a page, not an API)."""
    return int(value) if value and value.isdigit() and 1 <= int(value) <= MAX_DAYS else 90


def _account(runtime: Runtime, user: SignedIn, account_id: int, days: str | None) -> AccountBrief:
    try:
        return account_brief(runtime, user.actor, account_id, _days(days))
    except UnknownAccount as exc:
        raise HTTPException(404, f"there is no account {account_id}") from exc


def _pdf(request: Request, brief: Brief, name: str) -> Response:
    try:
        data = render_pdf(brief, str(request.base_url).rstrip("/"))
    except PdfUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "brief"
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{slug}.pdf"'})  # fmt: skip


@router.get("/accounts/{account_id}/brief", response_class=HTMLResponse)
def account_brief_page(request: Request, account_id: int, runtime: RuntimeDep, user: UserDep, days: str | None = None):
    b = _account(runtime, user, account_id, days)
    return render(request, "account_brief.html", runtime, b=b, body=render_body(b), css=Markup(brief_css()),
                  periods=PERIODS)  # fmt: skip


@router.get("/accounts/{account_id}/brief.pdf")
def account_brief_pdf(request: Request, account_id: int, runtime: RuntimeDep, user: UserDep, days: str | None = None):
    b = _account(runtime, user, account_id, days)
    return _pdf(request, b, f"{b.account} brief {b.period_end}")


@router.get("/briefs/executive", response_class=HTMLResponse)
def executive_brief_page(request: Request, runtime: RuntimeDep, user: UserDep):
    b = executive_brief(runtime, user.actor)
    return render(request, "executive_brief.html", runtime, b=b, body=render_body(b), css=Markup(brief_css()))


@router.get("/briefs/executive.pdf")
def executive_brief_pdf(request: Request, runtime: RuntimeDep, user: UserDep):
    b = executive_brief(runtime, user.actor)
    return _pdf(request, b, f"executive brief {b.as_of}")
