"""Zendesk ticket exports: a JSON document or NDJSON, as the incremental export API and admin export write them.

Accepted shapes: an object with `tickets` (and optionally side-loaded `users` and `organizations`, as
`?include=users,organizations` returns them), a list of tickets, or NDJSON with one ticket per line (lines that
are objects with `users`/`organizations`/`tickets` are read as side-load pages). A ticket's question is its
subject plus first comment (`description`); the first public comment by an agent is the staff answer; later
comments by the requester are follow-ups. A ticket is a request and is always stored; one with neither subject
nor description is counted as skipped ("empty"), as auto-replies and bounces are (by the store).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.normalize import email_domain
from ingest.records import AccountHint, IngestError, QuestionRecord
from ingest.timeparse import parse_timestamp

SOURCE = "zendesk"
STAFF_ROLES = {"agent", "admin"}


def _pages(path: Path) -> Iterator[tuple[str, Any] | IngestError]:
    """Yield (record label, JSON value) for each document in the file, or an error for unreadable parts.

    NDJSON is decoded line by line, so a line with bad UTF-8 or truncated JSON is reported by its number and the
    other lines still land.
    """
    raw = path.read_bytes()
    stripped = raw.lstrip()
    if stripped.startswith(b"[") or (stripped.startswith(b"{") and b"\n{" not in stripped.strip()):
        try:
            yield "document", json.loads(raw.decode("utf-8"))
            return
        except UnicodeDecodeError as exc:
            yield IngestError(str(path), f"byte {exc.start}", "not valid UTF-8")
            return
        except json.JSONDecodeError:
            pass  # maybe NDJSON whose first object spans one line; fall through
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {n}", json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield IngestError(str(path), f"line {n}", f"not valid UTF-8 (byte {exc.start} of the line)")
        except json.JSONDecodeError as exc:
            yield IngestError(str(path), f"line {n}", f"invalid JSON: {exc.msg} at column {exc.colno}")


def read_zendesk(path: Path, staff_domains: list[str] | None = None) -> Iterator[QuestionRecord | IngestError]:
    tickets: list[tuple[str, Any]] = []
    users: dict[str, dict[str, Any]] = {}
    orgs: dict[str, dict[str, Any]] = {}
    for item in _pages(path):
        if isinstance(item, IngestError):
            yield item
            continue
        label, value = item
        if isinstance(value, list):
            tickets.extend((f"{label} [{i}]", t) for i, t in enumerate(value))
        elif isinstance(value, dict) and any(k in value for k in ("tickets", "users", "organizations")):
            tickets.extend((f"{label} tickets[{i}]", t) for i, t in enumerate(value.get("tickets") or []))
            users.update({str(u.get("id")): u for u in value.get("users") or [] if isinstance(u, dict)})
            orgs.update({str(o.get("id")): o for o in value.get("organizations") or [] if isinstance(o, dict)})
        else:
            tickets.append((label, value))
    staff = set(staff_domains or [])
    for label, ticket in tickets:
        try:
            yield _ticket(ticket, users, orgs, staff)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            ident = ticket.get("id") if isinstance(ticket, dict) else None
            yield IngestError(str(path), f"{label} (ticket {ident})" if ident else label, f"bad ticket: {exc!r}")


def _is_staff(user: dict[str, Any] | None, staff_domains: set[str]) -> bool:
    if not user:
        return False
    return user.get("role") in STAFF_ROLES or email_domain(user.get("email")) in staff_domains


def _ticket(
    t: dict[str, Any], users: dict[str, dict[str, Any]], orgs: dict[str, dict[str, Any]], staff: set[str]
) -> QuestionRecord:
    if not isinstance(t, dict):
        raise TypeError(f"expected an object, got {type(t).__name__}")
    ticket_id = str(t["id"])
    subject = str(t.get("subject") or t.get("raw_subject") or "").strip()
    comments = [c for c in t.get("comments") or [] if isinstance(c, dict)]
    description = str(t.get("description") or (comments[0].get("body") if comments else "") or "").strip()
    requester = users.get(str(t.get("requester_id")))
    org_id = str(t["organization_id"]) if t.get("organization_id") is not None else None
    org = orgs.get(org_id or "")
    staff_answer: str | None = None
    follow_ups: list[str] = []
    for c in comments[1:] if comments else []:
        author = users.get(str(c.get("author_id")))
        body = str(c.get("body") or c.get("plain_body") or "").strip()
        if not body:
            continue
        if _is_staff(author, staff):
            if staff_answer is None and c.get("public", True):
                staff_answer = body
        elif str(c.get("author_id")) == str(t.get("requester_id")):
            follow_ups.append(body)
    return QuestionRecord(
        source=SOURCE,
        external_id=ticket_id,
        text=description,
        subject=subject or None,
        created_at=parse_timestamp(t["created_at"]),
        hint=AccountHint(
            zendesk_org_id=org_id,
            organization_name=(org or {}).get("name"),
            email_domain=email_domain((requester or {}).get("email")),
        ),
        author=(requester or {}).get("email") or (str(t["requester_id"]) if t.get("requester_id") else None),
        channel=(t.get("via") or {}).get("channel") if isinstance(t.get("via"), dict) else None,
        thread_id=ticket_id,
        priority=t.get("priority"),
        staff_answer=staff_answer,
        follow_ups=follow_ups,
    )


def ticket_record(
    ticket: dict[str, Any], users: dict[str, dict[str, Any]], orgs: dict[str, dict[str, Any]], staff: set[str]
) -> QuestionRecord:
    """One ticket as a record, for the live API sync (`ingest.zendesk_api`), which parses exactly like the export.

    `ticket["comments"]` holds its comments (first = the description); `users`/`orgs` are keyed by id as strings.
    Raises KeyError/TypeError/ValueError on a malformed ticket.
    """
    return _ticket(ticket, users, orgs, staff)
