"""Live Zendesk sync: the cursor-based incremental ticket export plus each ticket's comments.

`sync_zendesk(runtime)` is what `docgap sync zendesk` and a scheduler call. It asks for the tickets changed since
the stored cursor (`/api/v2/incremental/tickets/cursor.json`, side-loading users and organizations), fetches each
ticket's comments (staff answers, follow-ups) and parses the ticket exactly as the export importer does, so an
export and a live sync of the same ticket agree. Each page's questions and the cursor that follows the page are
committed in one transaction: a crash repeats at most the page in flight (an idempotent upsert) and never skips one.

Zendesk rate-limits with 429 + `Retry-After`; we wait that long (bounded) and retry, and retry 5xx and network
errors with exponential backoff, then fail with a `ZendeskError` naming the request. Sleeping is injectable so tests
do not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlmodel import Session

from core.models import SyncCursor
from core.runtime import Runtime
from ingest.embed import embed_pending_questions, pending_count
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.store import store_batch
from ingest.zendesk import SOURCE, ticket_record

__all__ = ["SyncResult", "ZendeskClient", "ZendeskError", "sync_zendesk"]

CURSOR_SOURCE = SOURCE
"""Key of the sync cursor: the same name the questions carry."""
MAX_ATTEMPTS = 5
MAX_WAIT = 60.0
"""Longest single wait (seconds) for a `Retry-After`; Zendesk's limits reset each minute."""
MAX_COMMENT_PAGES = 20
Sleep = Callable[[float], None]


class ZendeskError(RuntimeError):
    """The Zendesk API refused or kept failing; the message says which request and why."""


class ZendeskClient:
    """A small Zendesk API client: token auth, retries on 429/5xx, JSON pages."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), auth=(f"{email}/token", token), timeout=timeout, transport=transport
        )
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ZendeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON object, waiting out rate limits and retrying transient failures."""
        last, wait = "", 0.0
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self._sleep(wait)
            try:
                response = self._http.get(url, params=params)
            except httpx.TransportError as exc:
                last, wait = f"network error: {exc!r}", _backoff(attempt)
                continue
            if response.status_code == 429:
                last, wait = "429 rate limited", _retry_after(response)
                continue
            if response.status_code >= 500:
                last, wait = f"{response.status_code} {response.reason_phrase}", _backoff(attempt)
                continue
            if response.status_code in (401, 403):
                raise ZendeskError(
                    f"GET {url}: {response.status_code} — check DOCGAP_ZENDESK_EMAIL and DOCGAP_ZENDESK_TOKEN "
                    "(an agent email and an API token)"
                )
            if response.is_error:
                raise ZendeskError(f"GET {url}: {response.status_code} {response.text[:200]}")
            try:
                body = response.json()
            except ValueError as exc:
                raise ZendeskError(f"GET {url}: response is not JSON ({exc})") from exc
            if not isinstance(body, dict):
                raise ZendeskError(f"GET {url}: expected a JSON object, got {type(body).__name__}")
            return body
        raise ZendeskError(f"GET {url} failed after {MAX_ATTEMPTS} attempts; last: {last}")

    def ticket_pages(self, cursor: str | None, start_time: int = 0) -> Iterator[dict[str, Any]]:
        """Incremental export pages from `cursor` (or `start_time` on the first sync), up to the end of the stream."""
        params: dict[str, Any] = {"include": "users,organizations"}
        params.update({"cursor": cursor} if cursor else {"start_time": start_time})
        while True:
            page = self.get("/api/v2/incremental/tickets/cursor.json", params)
            yield page
            after = page.get("after_cursor")
            if page.get("end_of_stream") or not after:
                return
            params = {"include": "users,organizations", "cursor": after}

    def comments(self, ticket_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """All comments of a ticket (oldest first) and the users side-loaded with them (commenting agents)."""
        comments: list[dict[str, Any]] = []
        users: list[dict[str, Any]] = []
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments.json"
        params: dict[str, Any] | None = {"include": "users"}
        for _ in range(MAX_COMMENT_PAGES):
            if not url:
                break
            page = self.get(url, params)
            comments.extend(c for c in page.get("comments") or [] if isinstance(c, dict))
            users.extend(u for u in page.get("users") or [] if isinstance(u, dict))
            url, params = page.get("next_page"), None  # next_page carries its own query string
        return comments, users


def _backoff(attempt: int) -> float:
    return float(2**attempt)


def _retry_after(response: httpx.Response) -> float:
    try:
        wait = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        wait = 1.0
    return min(max(wait, 0.0), MAX_WAIT)


@dataclass
class SyncResult:
    ingest: IngestResult = field(default_factory=IngestResult)
    pages: int = 0
    tickets: int = 0
    cursor: str | None = None
    embedded: int = 0

    def summary(self) -> str:
        return f"{self.pages} pages, {self.tickets} tickets: {self.ingest.summary()}; {self.embedded} embedded"


def base_url(runtime: Runtime) -> str:
    s = runtime.settings
    if s.zendesk_url:
        return s.zendesk_url
    if s.zendesk_subdomain:
        return f"https://{s.zendesk_subdomain}.zendesk.com"
    raise ZendeskError("set DOCGAP_ZENDESK_SUBDOMAIN (or DOCGAP_ZENDESK_URL) to sync from Zendesk")


def load_cursor(runtime: Runtime) -> str | None:
    with Session(runtime.engine) as session:
        row = session.get(SyncCursor, CURSOR_SOURCE)
        return row.cursor if row else None


def sync_zendesk(
    runtime: Runtime, client: ZendeskClient | None = None, sleep: Sleep = time.sleep, start_time: int = 0
) -> SyncResult:
    """Import the tickets changed since the last sync, then embed the new and edited questions.

    `start_time` (epoch seconds) only applies to the first sync; afterwards the stored cursor decides.
    """
    s = runtime.settings
    if client is None:
        if not (s.zendesk_email and s.zendesk_token):
            raise ZendeskError("set DOCGAP_ZENDESK_EMAIL and DOCGAP_ZENDESK_TOKEN to sync from Zendesk")
        client = ZendeskClient(base_url(runtime), s.zendesk_email, s.zendesk_token, sleep=sleep)
    result = SyncResult(cursor=load_cursor(runtime))
    staff = set(s.staff_domain_list)
    with client:
        for page in client.ticket_pages(result.cursor, start_time):
            records = list(_page_records(client, page, staff, s.zendesk_team_field))
            result.pages += 1
            result.tickets += len(page.get("tickets") or [])
            after = page.get("after_cursor") or result.cursor
            stored = store_batch(runtime.engine, records, _cursor_writer(runtime, after))
            result.ingest.add(stored)
            result.cursor = after
    if pending_count(runtime):
        result.embedded = embed_pending_questions(runtime)
    return result


def _cursor_writer(runtime: Runtime, cursor: str | None) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        if cursor:
            session.merge(SyncCursor(source=CURSOR_SOURCE, cursor=cursor, updated_at=runtime.clock()))

    return write


def _page_records(
    client: ZendeskClient, page: dict[str, Any], staff: set[str], team_field: str = ""
) -> Iterator[QuestionRecord | IngestError]:
    """Records for a page's tickets; deleted tickets are skipped, malformed ones reported."""
    users = {str(u.get("id")): u for u in page.get("users") or [] if isinstance(u, dict)}
    orgs = {str(o.get("id")): o for o in page.get("organizations") or [] if isinstance(o, dict)}
    for i, ticket in enumerate(page.get("tickets") or []):
        ident = ticket.get("id") if isinstance(ticket, dict) else None
        label = f"ticket {ident}" if ident is not None else f"tickets[{i}]"
        if not isinstance(ticket, dict) or ident is None:
            yield IngestError("zendesk api", label, "ticket without an id")
            continue
        if ticket.get("status") == "deleted":
            continue
        comments, commenters = client.comments(str(ident))
        users.update({str(u.get("id")): u for u in commenters if str(u.get("id")) not in users})
        try:
            yield ticket_record({**ticket, "comments": comments}, users, orgs, staff, team_field)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            yield IngestError("zendesk api", label, f"bad ticket: {exc!r}")
