"""API-key authentication, scopes and per-key rate limits for the `/v1` API.

A request carries its key as `Authorization: Bearer dg_…` (or `X-API-Key: dg_…`). Missing, unknown or revoked
keys get 401 with `WWW-Authenticate: Bearer`; a key whose scopes do not grant the route's permission
(`usecases.permissions`) gets 403 naming the scopes that would; a key over
its per-minute budget gets 429 with `Retry-After`; the budget is counted in the database (`core.ratelimit`), so
every server process sharing it spends the same one. `DOCGAP_API_AUTH=false` turns all of this off for local
development. Web pages and the Slack webhook (which checks Slack's signature) do not use these dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from core import ratelimit
from usecases.apikeys import find_key
from usecases.permissions import OPERATOR, Actor, Permission, PermissionDenied, key_actor, require

WINDOW_SECONDS = 60.0

_bearer = HTTPBearer(auto_error=False, description="An API key from `docgap keys create`: `Bearer dg_…`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same API key in an `X-API-Key` header.")


class ErrorOut(BaseModel):
    detail: str


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ErrorOut, "description": "The key lacks the scope this operation needs."},
    429: {
        "model": ErrorOut,
        "description": "The key made too many requests this minute; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    },
}
"""Documented on every protected route so clients (and schema checks) know these answers."""


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def require_permission(permission: Permission) -> Callable[..., Any]:
    """A dependency that lets a request through only with an active key whose scopes grant `permission`.

    Scopes map onto the same permissions as people's roles (`usecases.permissions`); the dependency returns the
    key as an `Actor`, which the route hands to the use case.
    """

    async def check(
        runtime: RuntimeDep,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        header_key: Annotated[str | None, Security(_header)],
    ) -> Actor:
        if not runtime.settings.api_auth:
            return OPERATOR
        secret = bearer.credentials if bearer is not None else header_key
        if not secret:
            raise _unauthorized("an API key is required: `Authorization: Bearer <key>` (see `docgap keys create`)")
        key = await run_in_threadpool(find_key, runtime, secret.strip())
        if key is None:
            raise _unauthorized("unknown or revoked API key")
        actor = key_actor(key.name, key.scopes)
        try:
            require(actor, permission)
        except PermissionDenied as exc:
            raise HTTPException(403, str(exc)) from exc
        limit = key.rate_limit_per_minute or runtime.settings.api_rate_limit_per_minute
        wait = await run_in_threadpool(
            ratelimit.hit, runtime.engine, f"api-key:{key.id}", limit, WINDOW_SECONDS, runtime.clock()
        )
        if wait:
            raise HTTPException(
                429, f"rate limit of {limit} requests per minute exceeded", headers={"Retry-After": str(wait)}
            )
        return actor

    check.__name__ = f"require_{permission.value.replace(':', '_')}"
    return check


ReadKey = Annotated[Actor, Depends(require_permission(Permission.READ))]
AskKey = Annotated[Actor, Depends(require_permission(Permission.ASK))]
TopicWriteKey = Annotated[Actor, Depends(require_permission(Permission.WRITE_TOPICS))]
QuestionWriteKey = Annotated[Actor, Depends(require_permission(Permission.WRITE_QUESTIONS))]
JobsKey = Annotated[Actor, Depends(require_permission(Permission.RUN_JOBS))]
MetricsKey = Annotated[Actor, Depends(require_permission(Permission.READ_METRICS))]
