"""API-key authentication, scopes and per-key rate limits for the `/v1` API.

A request carries its key as `Authorization: Bearer dg_…` (or `X-API-Key: dg_…`). Missing, unknown or revoked
keys get 401 with `WWW-Authenticate: Bearer`; a key whose scopes do not grant the route's permission
(`usecases.permissions`) gets 403 naming the scopes that would; a key over
its per-minute budget gets 429 with `Retry-After`. `DOCGAP_API_AUTH=false` turns all of this off for local
development. Web pages and the Slack webhook (which checks Slack's signature) do not use these dependencies.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
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


class RateLimiter:
    """A sliding one-minute window per key id, kept in memory.

    Counts are per server process: with several workers each allows the full limit (fine for the embedded
    default; a shared store such as Redis would be needed to enforce one budget across workers). The clock is
    injected (the runtime's) so tests move time instead of sleeping.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key_id: int, limit: int) -> int:
        """Count one request; 0 when allowed, else the whole seconds until the oldest counted request expires."""
        if limit <= 0:
            return 0
        now = self._clock().timestamp()
        with self._lock:
            hits = self._hits.setdefault(key_id, deque())
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(hits[0] + WINDOW_SECONDS - now))
            hits.append(now)
            return 0


def get_limiter() -> RateLimiter:
    raise RuntimeError("create_app() provides the rate limiter")


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def require_permission(permission: Permission) -> Callable[..., Any]:
    """A dependency that lets a request through only with an active key whose scopes grant `permission`.

    Scopes map onto the same permissions as people's roles (`usecases.permissions`); the dependency returns the
    key as an `Actor`, which the route hands to the use case.
    """

    async def check(
        runtime: RuntimeDep,
        limiter: LimiterDep,
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
        wait = limiter.hit(key.id or 0, limit)
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
