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
from ingest.records import AccountHint, IngestError, QuestionRecord, ShapeError, check_shape, loads_json, text_field
from ingest.timeparse import parse_timestamp

SOURCE = "zendesk"
STAFF_ROLES = {"agent", "admin"}


def _pages(path: Path) -> Iterator[tuple[str, Any] | IngestError]:
    """Yield (record label, JSON value) for each document in the file, or an error for unreadable parts.

    NDJSON is decoded line by line, so a line with bad UTF-8 or truncated JSON is reported by its number and the
    other lines still land. Nesting is checked per ticket later, so one absurd ticket does not sink its page.
    """
    raw = path.read_bytes()
    stripped = raw.lstrip()
    if stripped.startswith(b"[") or (stripped.startswith(b"{") and b"\n{" not in stripped.strip()):
        try:
            yield "document", loads_json(raw.decode("utf-8"), max_depth=None)
            return
        except UnicodeDecodeError as exc:
            yield IngestError(str(path), f"byte {exc.start}", "not valid UTF-8")
            return
        except ShapeError as exc:
            yield IngestError(str(path), "document", str(exc))
            return
        except json.JSONDecodeError:
            pass  # maybe NDJSON whose first object spans one line; fall through
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {n}", loads_json(line.decode("utf-8"), max_depth=None)
        except ShapeError as exc:
            yield IngestError(str(path), f"line {n}", str(exc))
        except UnicodeDecodeError as exc:
            yield IngestError(str(path), f"line {n}", f"not valid UTF-8 (byte {exc.start} of the line)")
        except json.JSONDecodeError as exc:
            yield IngestError(str(path), f"line {n}", f"invalid JSON: {exc.msg} at column {exc.colno}")


def _id(value: Any) -> str | None:
    """A side-loaded user's or organization's id as the key tickets refer to it by; None when it is not an id."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def read_zendesk(
    path: Path, staff_domains: list[str] | None = None, team_field: str = ""
) -> Iterator[QuestionRecord | IngestError]:
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
            tickets.extend((f"{label} tickets[{i}]", t) for i, t in enumerate(_list(value.get("tickets"))))
            users.update({_id(u.get("id")): u for u in _list(value.get("users")) if _side_load(u)})
            orgs.update({_id(o.get("id")): o for o in _list(value.get("organizations")) if _side_load(o)})
        else:
            tickets.append((label, value))
    staff = set(staff_domains or [])
    for label, ticket in tickets:
        ident = _id(ticket.get("id")) if isinstance(ticket, dict) else None
        try:
            check_shape(ticket)
            yield _ticket(ticket, users, orgs, staff, team_field)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            yield IngestError(str(path), f"{label} (ticket {ident})" if ident else label, f"bad ticket: {exc!r}")


def _list(value: Any) -> list[Any]:
    """A side-load or ticket list; a page whose `tickets` is not a list has none (and says so by yielding none)."""
    return value if isinstance(value, list) else []


def _side_load(item: Any) -> bool:
    """A user or organization worth keeping: an object with a usable id and no absurd nesting."""
    if not isinstance(item, dict) or _id(item.get("id")) is None:
        return False
    try:
        check_shape(item)
    except ShapeError:
        return False
    return True


def _opt(value: Any) -> str | None:
    """A side-loaded user's or organization's text field, or None for junk.

    Junk there (a list for an email) counts as absent: failing on it would fail every ticket that person touched.
    """
    return value if isinstance(value, str) else None


def _is_staff(user: dict[str, Any] | None, staff_domains: set[str]) -> bool:
    if not user:
        return False
    return _opt(user.get("role")) in STAFF_ROLES or email_domain(_opt(user.get("email"))) in staff_domains


def _team(t: dict[str, Any], requester: dict[str, Any], field: str) -> str | None:
    """The customer's team: the requester's user field of that key, else the ticket field of that id.

    Zendesk's own `group_id` is the agent group that handled the ticket, not a team of the customer's, so a team
    comes only from a field the account set up for it. A multi-select field's values are joined.
    """
    if not field:
        return None
    user_fields = requester.get("user_fields")
    value = user_fields.get(field) if isinstance(user_fields, dict) else None
    if value in (None, ""):
        for f in t.get("custom_fields") or t.get("fields") or []:
            if isinstance(f, dict) and str(f.get("id")) == field:
                value = f.get("value")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return text_field(value, f"team field {field}") or None


def _ticket(
    t: dict[str, Any],
    users: dict[str, dict[str, Any]],
    orgs: dict[str, dict[str, Any]],
    staff: set[str],
    team_field: str = "",
) -> QuestionRecord:
    if not isinstance(t, dict):
        raise TypeError(f"expected an object, got {type(t).__name__}")
    ticket_id = text_field(t["id"], "id")
    if not ticket_id:
        raise ValueError("empty id")
    subject = (text_field(t.get("subject") or t.get("raw_subject"), "subject") or "").strip()
    comments = [c for c in t.get("comments") or [] if isinstance(c, dict)]
    first_body = comments[0].get("body") if comments else None
    description = (text_field(t.get("description") or first_body, "description") or "").strip()
    requester_id = text_field(t.get("requester_id"), "requester_id")
    requester = users.get(requester_id or "") or {}
    org_id = text_field(t.get("organization_id"), "organization_id")
    org = orgs.get(org_id or "") or {}
    staff_answer: str | None = None
    follow_ups: list[str] = []
    for c in comments[1:]:
        author_id = _id(c.get("author_id"))
        body = (text_field(c.get("body") or c.get("plain_body"), "comment body") or "").strip()
        if not body:
            continue
        if _is_staff(users.get(author_id or ""), staff):
            if staff_answer is None and c.get("public", True):
                staff_answer = body
        elif author_id is not None and author_id == requester_id:
            follow_ups.append(body)
    via = t.get("via")
    return QuestionRecord(
        source=SOURCE,
        external_id=ticket_id,
        text=description,
        subject=subject or None,
        created_at=parse_timestamp(t["created_at"]),
        hint=AccountHint(
            zendesk_org_id=org_id,
            organization_name=_opt(org.get("name")),
            email_domain=email_domain(_opt(requester.get("email"))),
        ),
        author=_opt(requester.get("email")) or requester_id,
        channel=text_field(via.get("channel"), "via.channel") if isinstance(via, dict) else None,
        team=_team(t, requester, team_field),
        thread_id=ticket_id,
        priority=text_field(t.get("priority"), "priority"),
        staff_answer=staff_answer,
        follow_ups=follow_ups,
    )


def ticket_record(
    ticket: dict[str, Any],
    users: dict[str, dict[str, Any]],
    orgs: dict[str, dict[str, Any]],
    staff: set[str],
    team_field: str = "",
) -> QuestionRecord:
    """One ticket as a record, for the live API sync (`ingest.zendesk_api`), which parses exactly like the export.

    `ticket["comments"]` holds its comments (first = the description); `users`/`orgs` are keyed by id as strings.
    Raises KeyError/TypeError/ValueError on a malformed ticket.
    """
    return _ticket(ticket, users, orgs, staff, team_field)
