"""Logging in to the pages, and the checks every page and form goes through.

Every page needs a signed-in user (`current_user`, on the whole page router); without one the browser is sent to
`/login?next=…`. A form that changes something must come from our own pages: its `Origin` header (sent by browsers
with every POST) must be this site, and its hidden `csrf_token` field must match the session's (`checked_form`).
The login form, which has no session yet, carries a token that must match a short-lived cookie set with it
(double submit). What a user may do is not decided here but by the use cases (`usecases.permissions`).
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import Response

from api.deps import RuntimeDep
from usecases.users import SESSION_LIFETIME, SignedIn, same_token, signed_in

SESSION_COOKIE = "docgap_session"
LOGIN_CSRF_COOKIE = "docgap_login_csrf"


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def login_url(next_path: str | None = None) -> str:
    return "/login" + (f"?{urlencode({'next': next_path})}" if next_path and next_path != "/" else "")


def safe_next(value: str | None, default: str = "/") -> str:
    """Where to send the browser next (after logging in, or back from a form).

    Only a path on this site: never `//evil.example`, a backslash path or a full URL.
    """
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def current_user(request: Request, runtime: RuntimeDep) -> SignedIn:
    """The signed-in user, kept on `request.state.user` for the templates; otherwise off to the login form."""
    user = signed_in(runtime, request.cookies.get(SESSION_COOKIE))
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else "/")
    request.state.user = user
    return user


UserDep = Annotated[SignedIn, Depends(current_user)]


def _check_origin(request: Request) -> None:
    """Refuse a state change posted from another site (the CSRF token is the second, independent check)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise HTTPException(403, "this form was not sent from docgap's own pages (Origin does not match)")


def checked_form(request: Request, user: UserDep, csrf_token: Annotated[str | None, Form()] = None) -> SignedIn:
    """A signed-in user's form, sent from our pages with this session's CSRF token."""
    _check_origin(request)
    if not same_token(user.csrf_token, csrf_token):
        raise HTTPException(403, "missing or wrong csrf_token: reload the page and try again")
    return user


FormUser = Annotated[SignedIn, Depends(checked_form)]


def check_login_form(request: Request, csrf_token: str | None) -> None:
    _check_origin(request)
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE) or "", csrf_token):
        raise HTTPException(403, "missing or wrong csrf_token: reload the login page and try again")


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    """The login form's token, in a cookie only `/login` receives, for an hour."""
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")  # fmt: skip


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
