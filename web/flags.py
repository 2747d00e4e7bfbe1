"""The risk flags page, `/flags`: open flags first, then the most recently cleared, each with its evidence in a line.

What is listed comes from `usecases.flags` (the same rows `GET /v1/flags` returns); `?state=` narrows it, and any
other value shows both (it is a page, not an API).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.deps import RuntimeDep
from usecases.flags import STATES, list_risk_flags
from web.auth import UserDep, current_user
from web.routes import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])


@router.get("/flags", response_class=HTMLResponse)
def flags_page(request: Request, runtime: RuntimeDep, user: UserDep, state: str | None = None):
    chosen = state if state in STATES else "all"
    return render(request, "flags.html", runtime, f=list_risk_flags(runtime, user.actor, chosen), states=STATES)
