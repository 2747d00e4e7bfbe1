"""What a request that fails gets back: a page for people, JSON for programs.

The pages are for a browser: a missing topic, week, doc or account, a refused form or a bug answers a page of the
site (its nav, a title that says what happened, a link back), never FastAPI's raw JSON or a traceback. The JSON
API (`/v1`), the webhooks, the health check, the API docs and the static files keep FastAPI's JSON error bodies
(`{"detail": ...}`), which their clients parse. Which one a request gets is decided by its path alone: the same
URL always fails the same way, whatever the client's Accept header says.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from core.locks import TopicsBusy
from usecases.permissions import PermissionDenied
from usecases.users import signed_in
from web.auth import SESSION_COOKIE, LoginRequired, login_url
from web.routes import render

NOT_PAGES = ("/v1", "/webhooks", "/healthz", "/openapi.json", "/docs", "/redoc", "/static")
"""Path prefixes answered by programs' endpoints: their errors stay JSON."""

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not available this way",
    409: "That cannot be done now",
    422: "Check what was sent",
    429: "Too many requests",
    502: "The tracker refused",
}
"""A page's title and heading by status; anything else is "Something went wrong"."""

BACK = [
    ("/topics", "/", "Back to the gap board"),
    ("/questions", "/", "Back to the gap board"),
    ("/accounts", "/accounts", "Back to the accounts"),
    ("/reports", "/reports", "Back to the weekly reports"),
    ("/kb", "/chat", "Back to Ask"),
    ("/chat", "/chat", "Back to Ask"),
    ("/briefs", "/briefs/executive", "Back to the executive brief"),
    ("/flags", "/flags", "Back to the risk flags"),
    ("/tickets", "/", "Back to the gap board"),
    ("/users", "/users", "Back to the users"),
    ("/keys", "/keys", "Back to the API keys"),
]
"""Where a failed page's link leads back to: the list the missing thing would have been found in."""


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(path == p or path.startswith(p + "/") for p in NOT_PAGES)


def _back(path: str) -> tuple[str, str]:
    for prefix, href, text in BACK:
        if path == prefix or path.startswith(prefix + "/"):
            return href, text
    return "/", "Back to the gap board"


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A page of the site saying what went wrong, with the nav, and who is signed in when someone is.

    A request that matched no route never ran the login check, so the session cookie is read here: the page then
    shows the same header as every other.
    """
    runtime = request.app.state.runtime
    if getattr(request.state, "user", None) is None:
        request.state.user = signed_in(runtime, request.cookies.get(SESSION_COOKIE))
    href, back = _back(request.url.path)
    response = render(request, "error.html", runtime, status_code=status, title=TITLES.get(status,
                      "Something went wrong"), message=message, status=status, back_href=href, back=back)  # fmt: skip
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _sentence(text: str) -> str:
    text = text.strip() or "That did not work."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "`")) else text + "."


async def http_error(request: Request, exc: Exception) -> Response:
    """An HTTPException (ours, or Starlette's for an unknown path or method)."""
    assert isinstance(exc, HTTPException)
    if not is_page(request):
        return await http_exception_handler(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if exc.status_code == 404 and detail in ("", "Not Found"):
        detail = f"There is no page at `{request.url.path}`."
    elif exc.status_code == 405 and detail in ("", "Method Not Allowed"):
        detail = f"`{request.url.path}` is not opened this way; follow a link or a button of the site."
    return error_page(request, exc.status_code, _sentence(detail), dict(exc.headers or {}))


async def invalid_request(request: Request, exc: Exception) -> Response:
    """Parameters that do not parse.

    A page whose address names nothing (`/topics/abc`) is not found; a form with a bad field is refused with what
    was wrong.
    """
    assert isinstance(exc, RequestValidationError)
    if not is_page(request):
        return await request_validation_exception_handler(request, exc)
    errors: list[dict[str, Any]] = list(exc.errors())
    if any(e.get("loc", ("",))[0] == "path" for e in errors):
        return error_page(request, 404, f"There is no page at `{request.url.path}`.")
    problems = "; ".join(f"{e.get('loc', ('', ''))[-1]}: {e.get('msg', 'invalid')}" for e in errors)
    return error_page(request, 422, _sentence(f"The form could not be used ({problems})"))


def to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


def forbidden(request: Request, exc: Exception) -> Response:
    """A use case said no: the pages show why on a page; the API answers 403 with the reason as its detail."""
    if not is_page(request):
        return JSONResponse({"detail": str(exc)}, status_code=403)
    runtime = request.app.state.runtime
    return render(request, "forbidden.html", runtime, status_code=403, reason=str(exc))


def server_error(request: Request, exc: Exception) -> Response:
    """A bug: the person sees a page, never the trace (the server still logs the traceback for the operator)."""
    if not is_page(request):
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)
    try:
        return error_page(request, 500, "Something went wrong on docgap's side. The error is in the server's log; "
                          "try again, and tell whoever runs docgap if it keeps happening.")  # fmt: skip
    except Exception:  # noqa: BLE001  (the page itself cannot be drawn (the database is gone, say): plain text will do)
        return PlainTextResponse("Something went wrong on docgap's side; the server log has the details.", 500)


def busy(request: Request, exc: Exception) -> Response:
    """Topics are being changed by another run: 503 with a Retry-After, the page or the JSON saying so."""
    headers = {"Retry-After": "60"}
    if not is_page(request):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers=headers)
    return error_page(request, 503, _sentence(str(exc)), headers)


EXCEPTION_HANDLERS = {
    LoginRequired: to_login,
    TopicsBusy: busy,
    PermissionDenied: forbidden,
    HTTPException: http_error,
    RequestValidationError: invalid_request,
    Exception: server_error,
}
"""Registered on the app by `server.app.create_app`."""
