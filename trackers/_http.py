"""The HTTP every tracker client shares: JSON in and out, timeouts, retries on 429/5xx, errors in the tracker's words.

A 429 or a 5xx is retried after the server's `Retry-After` (seconds or an HTTP date, at most `MAX_WAIT`) or an
exponential backoff. A request that creates something is retried only when the server cannot have acted on it
(429, 503, or a connection that never opened): retrying a create after a 500 or a read timeout could open a second
issue. Updates are idempotent and are retried on any 5xx or network error. Sleeping is injectable so tests do
not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from core.http import retry_after

ATTEMPTS = 4
MAX_WAIT = 60.0
BACKOFF = 1.0
Sleep = Callable[[float], None]
Describe = Callable[[Any], str]
"""The tracker's error message from a failed response's JSON body ("" when it has none)."""


class TrackerError(RuntimeError):
    """A tracker refused or kept failing, or its settings are missing; the message says which and why."""


class TrackerGone(TrackerError):
    """The external issue an update was meant for no longer exists (404/410): it can be created again."""


class JsonClient:
    def __init__(
        self,
        tracker: str,
        base_url: str,
        headers: dict[str, str],
        describe: Describe,
        timeout: float = 30.0,
        auth: tuple[str, str] | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.tracker = tracker
        self._describe = describe
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/json", "User-Agent": "docgap", **headers},
            auth=auth,
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        idempotent: bool = True,
        params: dict[str, str] | None = None,
        gone_is: type[TrackerError] = TrackerError,
    ) -> Any:
        """The parsed JSON reply (None for an empty one); `gone_is` is raised for a 404/410."""
        where = f"{self.tracker}: {method} {path}"
        last = ""
        for attempt in range(ATTEMPTS):
            try:
                response = self._http.request(method, path, json=body, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last, wait = f"could not connect ({exc})", None
            except httpx.TransportError as exc:
                if not idempotent:
                    raise TrackerError(f"{where} failed ({exc!r}); not retried, it may have been applied") from exc
                last, wait = f"network error ({exc!r})", None
            else:
                status = response.status_code
                if status < 400:
                    return _json(response, where)
                message = f"{status} {self._describe(_body(response)) or response.reason_phrase}"
                retry = status == 429 or (status >= 500 and (idempotent or status == 503))
                if not retry:
                    raise (gone_is if status in (404, 410) else TrackerError)(f"{where} refused: {message}")
                last, wait = message, retry_after(response.headers.get("retry-after"))
            if attempt + 1 < ATTEMPTS:
                self._sleep(min(wait if wait is not None else BACKOFF * 2**attempt, MAX_WAIT))
        raise TrackerError(f"{where} failed after {ATTEMPTS} attempts; last: {last}")


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def _json(response: httpx.Response, where: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise TrackerError(f"{where}: the reply is not JSON ({response.text[:200]!r})") from exc


def need(settings: object, tracker: str, *names: str) -> None:
    """Fail before any call, naming every missing `DOCGAP_*` setting."""
    missing = [f"DOCGAP_{n.upper()}" for n in names if not str(getattr(settings, n) or "").strip()]
    if missing:
        raise TrackerError(f"exporting to {tracker} needs {', '.join(missing)}")
