"""One log record per HTTP request, with an id that every record made while answering it carries too.

uvicorn's own access log is turned off (`docgap serve`): it writes the full URL, query string included, and a
query string can hold customer text (`/v1/search?q=…`) or a token. This one logs the path without the query, the
route's template (`/topics/{topic_id}`, so a collector can group by it), the status and the milliseconds.

The request id is the caller's `X-Request-ID` when it is a plain token (a proxy's or a client's own, so one id
follows the request through every hop) and a fresh one otherwise; it is sent back in the response's `X-Request-ID`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import logs

log = logging.getLogger("server.access")

UVICORN_LOGS: dict[str, Any] = {"access_log": False, "log_config": None}
"""How `docgap serve` runs uvicorn: this access log instead of its own, and its records through our handler (the
chosen format, secrets masked) rather than handlers of its own."""

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class AccessLog:
    """Pure ASGI, so a streamed answer (server-sent events) is neither buffered nor cut off."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        with logs.context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._log(scope, status, time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        fields: dict[str, Any] = {"method": scope["method"], "path": scope["path"], "route": route,
                                  "status": status, "ms": round(seconds * 1000, 1)}  # fmt: skip
        level = logging.WARNING if status >= 500 else logging.INFO  # the error itself is logged where it happened
        log.log(level, "%s %s %s %.0f ms", scope["method"], scope["path"], status, seconds * 1000, extra=fields)
