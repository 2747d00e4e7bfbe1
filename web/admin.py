"""The admin pages: Users (`/users`) and API keys (`/keys`), what `docgap users …` and `docgap keys …` do.

Both call the same use cases as the command line (`usecases.users`, `usecases.apikeys`), which check
`MANAGE_USERS` / `MANAGE_KEYS`: anyone else gets the 403 page. A refused form (a taken name, a short password, no
scope) is shown again with its message and what was typed, except the password. A generated password and a new
key's secret are shown once, on the page that answers the form (never in a URL, never again, not cached).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import RuntimeDep
from core.models import ROLES
from usecases.apikeys import SCOPES, create_key_as, list_keys_as, revoke_key_as
from usecases.users import MIN_PASSWORD_LENGTH, UserError, create_user, disable_user, list_users, new_password
from web.auth import FormUser, UserDep, current_user
from web.routes import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
NO_STORE = {"Cache-Control": "no-store"}


def _users(request: Request, runtime: RuntimeDep, user, status_code: int = 200, **context):  # type: ignore[no-untyped-def]
    rows = list_users(runtime, user.actor)
    context.setdefault("form", {"name": "", "role": "account_manager"})
    response = render(request, "users.html", runtime, status_code, rows=rows, roles=ROLES,
                      min_password=MIN_PASSWORD_LENGTH, **context)  # fmt: skip
    response.headers.update(NO_STORE)
    return response


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, runtime: RuntimeDep, user: UserDep, created: str | None = None,
               disabled: str | None = None):  # fmt: skip
    return _users(request, runtime, user, created=created, disabled=disabled)


@router.post("/users")
def users_create(
    request: Request,
    runtime: RuntimeDep,
    user: FormUser,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=50)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    generate: Annotated[str | None, Form()] = None,
):
    """A new user; with a password, then back to the list.

    Without one (or with "generate" ticked) the user gets a generated password, shown on this response only.
    """
    generated = new_password() if generate or not password else None
    try:
        made = create_user(runtime, user.actor, name, role, generated or password)
    except UserError as exc:
        return _users(request, runtime, user, 422, error=str(exc), form={"name": name, "role": role})
    if generated is None:
        return RedirectResponse(f"/users?created={made.name}", status_code=303)
    return _users(request, runtime, user, created=made.name, password=generated)


@router.post("/users/disable")
def users_disable(request: Request, runtime: RuntimeDep, user: FormUser, name: Annotated[str, Form(max_length=200)]):
    try:
        done = disable_user(runtime, user.actor, name)
    except LookupError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    except UserError as exc:
        return _users(request, runtime, user, 409, error=str(exc))
    return RedirectResponse(f"/users?disabled={done.name}", status_code=303)


def _keys(request: Request, runtime: RuntimeDep, user, status_code: int = 200, **context):  # type: ignore[no-untyped-def]
    context.setdefault("form", {"name": "", "scopes": []})
    response = render(request, "keys.html", runtime, status_code, rows=list_keys_as(runtime, user.actor),
                      scopes=SCOPES, **context)  # fmt: skip
    response.headers.update(NO_STORE)
    return response


@router.get("/keys", response_class=HTMLResponse)
def keys_page(request: Request, runtime: RuntimeDep, user: UserDep, revoked: int | None = None):
    return _keys(request, runtime, user, revoked=revoked)


@router.post("/keys")
def keys_create(
    request: Request,
    runtime: RuntimeDep,
    user: FormUser,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
):
    """The new key's secret is on this response, and nowhere else ever again."""
    try:
        key = create_key_as(runtime, user.actor, scopes or [], name)
    except ValueError as exc:
        return _keys(request, runtime, user, 422, error=str(exc), form={"name": name, "scopes": scopes or []})
    return _keys(request, runtime, user, created=key, created_name=name.strip())


@router.post("/keys/{key_id}/revoke")
def keys_revoke(runtime: RuntimeDep, user: FormUser, key_id: int):
    try:
        revoke_key_as(runtime, user.actor, key_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    return RedirectResponse(f"/keys?revoked={key_id}", status_code=303)
