"""The login form and logging out (the pages a refused or failed request gets are in `web.errors`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from usecases.users import LoginRefused, log_in, log_out, signed_in
from web.auth import (
    SESSION_COOKIE,
    FormUser,
    check_login_form,
    new_login_token,
    safe_next,
    set_login_cookie,
    set_session_cookie,
)
from web.routes import render

router = APIRouter(include_in_schema=False)


def _form(request: Request, runtime: RuntimeDep, next_path: str, error: str = "", status: int = 200,
          username: str = "") -> HTMLResponse:  # fmt: skip
    token = new_login_token()
    response = render(request, "login.html", runtime, status_code=status, next=next_path, error=error,
                      username=username, login_token=token)  # fmt: skip
    set_login_cookie(response, request, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    if signed_in(runtime, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, runtime, safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    check_login_form(request, csrf_token)
    client = request.client.host if request.client else "unknown"
    try:
        token, _ = await run_in_threadpool(log_in, runtime, username, password, client)
    except LoginRefused as exc:
        status = 429 if "too many" in str(exc) else 401
        return _form(request, runtime, safe_next(next), str(exc), status, username)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep, user: FormUser) -> Response:
    log_out(runtime, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
