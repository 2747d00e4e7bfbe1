"""Who may do what: one set of rules for the pages, the JSON API and the command line.

A person's role and an API key's scopes both become an `Actor` holding permissions, and every use case that
changes something calls `require` before doing it. The front ends only translate a refusal into their own terms
(a 403 page, an HTTP 403, a CLI error); none of them decides on its own.

Roles: an account manager reads everything and uses the chat (and, later, briefs); a docs writer also changes
topics (status, rename, notes, merge, split, tickets); an admin also manages users and API keys. API-key scopes
map onto the same permissions: `answers:read` reads and asks, `questions:write` pushes questions,
`topics:write` changes topics like a docs writer, `admin` may do everything. The command line is run by whoever
operates the instance (they own the data dir), so it acts as an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.models import ROLES


class Permission(StrEnum):
    READ = "read"
    """See topics, questions, accounts, docs and reports."""
    ASK = "ask"
    """Ask the chat or the answers API (and give feedback on an answer)."""
    WRITE_QUESTIONS = "questions:write"
    """Push customer questions in (`POST /v1/questions`)."""
    WRITE_TOPICS = "topics:write"
    """Change topics: status, rename, notes, merge, split, doc tickets."""
    MANAGE_USERS = "users:manage"
    MANAGE_KEYS = "keys:manage"
    DELIVER = "deliver"
    """Check risk flags and send alerts and reports to Slack and email (admins and the operator)."""
    RUN_JOBS = "jobs"
    """See the jobs (queued, running, failed with the error) and start one (admins and the operator)."""
    READ_METRICS = "metrics:read"
    """Scrape `/metrics` (counts and latencies, no customer text): a Prometheus server's key."""
    BACKUP = "backup"
    """Back the instance up and restore it (admins and the operator): a backup holds every customer question."""


EVERYTHING = frozenset(Permission)
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "account_manager": frozenset({Permission.READ, Permission.ASK}),
    "docs_writer": frozenset({Permission.READ, Permission.ASK, Permission.WRITE_TOPICS}),
    "admin": EVERYTHING,
}
SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "answers:read": frozenset({Permission.READ, Permission.ASK}),
    "questions:write": frozenset({Permission.WRITE_QUESTIONS}),
    "topics:write": frozenset({Permission.READ, Permission.WRITE_TOPICS}),
    "metrics:read": frozenset({Permission.READ_METRICS}),
    "admin": EVERYTHING,
}
assert set(ROLE_PERMISSIONS) == set(ROLES)


class PermissionDenied(Exception):
    """The actor may not do this; the message says which permission was missing."""


@dataclass(frozen=True)
class Actor:
    """Someone doing something: a logged-in person, an API key or the operator at the command line."""

    name: str
    kind: str
    """"user", "key" or "cli"."""
    permissions: frozenset[Permission]
    role: str | None = None
    user_id: int | None = None
    """The person's `User.id` (their chat history is theirs); None for keys and the command line."""

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def user_actor(name: str, role: str, user_id: int | None = None) -> Actor:
    return Actor(name, "user", ROLE_PERMISSIONS.get(role, frozenset()), role, user_id)


def key_actor(name: str, scopes: list[str]) -> Actor:
    granted = frozenset().union(*(SCOPE_PERMISSIONS.get(s, frozenset()) for s in scopes))
    return Actor(name or "API key", "key", granted)


OPERATOR = Actor("command line", "cli", EVERYTHING, "admin")
"""The command line: run by whoever owns the data dir."""


def scopes_granting(permission: Permission) -> list[str]:
    return [s for s, granted in SCOPE_PERMISSIONS.items() if permission in granted]


def require(actor: Actor, permission: Permission) -> None:
    """Raise `PermissionDenied` unless `actor` holds `permission`."""
    if actor.may(permission):
        return
    if actor.kind == "key":
        raise PermissionDenied(f"this API key lacks a scope granting {permission.value!r}: one of "
                               f"{', '.join(scopes_granting(permission))}")  # fmt: skip
    raise PermissionDenied(f"{actor.name} ({actor.role or actor.kind}) may not {permission.value}")
