"""The normalized record every source format produces, and the bookkeeping of an import."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

SourceKind = Literal["request", "chat"]
"""How a source's messages are judged when stored (`ingest.store` decides).

"request": a Zendesk ticket, a CSV/JSONL row, an email thread, a `POST /v1/questions`: someone asked support, so it
is a customer request by definition and is always stored; only empty texts, auto-replies and bounces are skipped.
"chat": a Slack message (export or Events API): channels also carry thanks, reactions and announcements, so the
chat detector (`ingest.detection.chatter_kind`) drops those and keeps everything else.
"""

SKIP_REASONS = {
    "empty": "no text left once quoted history, signature and greeting are removed",
    "auto-reply": "an automatic reply (out of office, autoresponder)",
    "bounce": "a delivery failure notice",
    "bot": "posted by a bot or an integration (chat)",
    "system": "a channel event: join, leave, topic or name change (chat)",
    "staff": "a top-level message by your own staff, i.e. an announcement (chat)",
    "reaction": "only emoji, +1 or the like (chat)",
    "pleasantry": "thanks, greetings, farewells, wishes, introductions (chat)",
    "acknowledgement": "ok, noted, works now, never mind (chat)",
    "announcement": "FYI, reminders, out-of-office and company news (chat)",
}
"""Every reason a message is not stored as a question, as counted per source by `docgap sources`."""


@dataclass(frozen=True)
class AccountHint:
    """What a message says about who sent it; `ingest.accounts` turns it into an account."""

    zendesk_org_id: str | None = None
    organization_name: str | None = None
    slack_channel_id: str | None = None
    slack_team_id: str | None = None
    email_domain: str | None = None
    account_name: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class QuestionRecord:
    source: str
    external_id: str
    text: str
    created_at: datetime
    hint: AccountHint = field(default_factory=AccountHint)
    subject: str | None = None
    """Ticket or email subject; stored in front of the cleaned text unless the text already says it."""
    author: str | None = None
    channel: str | None = None
    team: str | None = None
    """The customer's team or department, when the source names one (not the support team that answered)."""
    thread_id: str | None = None
    priority: str | None = None
    staff_answer: str | None = None
    follow_ups: list[str] = field(default_factory=list)
    kind: SourceKind = "request"
    """Requests are always stored; chat messages go through the chat detector. Readers of chat sources say so."""
    skip: str | None = None
    """A reader's own verdict from metadata the text does not carry (a bot id, a Slack subtype, an email's
    `Auto-Submitted` header): one of `SKIP_REASONS`. The record is then counted as skipped, never stored."""


@dataclass(frozen=True)
class IngestError:
    """A record that could not be read.

    The message is redacted on creation: messages quote what they could not parse (a card number where a date
    belongs, a number where text does), and they are printed, logged and kept in `ImportRun.errors`.
    """

    file: str
    record: str
    message: str

    def __post_init__(self) -> None:
        from ingest.redact import redact  # here, not at the top: every command imports this module

        object.__setattr__(self, "message", redact(self.message).text)

    def __str__(self) -> str:
        return f"{self.file}: record {self.record}: {self.message}"


@dataclass
class IngestResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_by: dict[str, int] = field(default_factory=dict)
    """Messages not stored, per reason (see `SKIP_REASONS`)."""
    errors: list[IngestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def skipped(self) -> int:
        return sum(self.skipped_by.values())

    def skip(self, reason: str) -> None:
        self.skipped_by[reason] = self.skipped_by.get(reason, 0) + 1

    def add(self, other: IngestResult) -> None:
        """Fold another batch's counts into this one (a sync adds up its pages)."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        for reason, n in other.skipped_by.items():
            self.skipped_by[reason] = self.skipped_by.get(reason, 0) + n
        self.errors.extend(other.errors)

    def summary(self) -> str:
        skipped = f"{self.skipped} skipped ({describe_skips(self.skipped_by)}), " if self.skipped else ""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{skipped}{len(self.errors)} errors"
        )


def describe_skips(counts: dict[str, int]) -> str:
    """The reasons, most frequent first ("3 empty, 1 bounce"), for summaries and `docgap sources`."""
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --- hostile input -------------------------------------------------------------------------------------------------

MAX_NESTING = 64
"""Deepest JSON/YAML nesting a reader accepts. Real exports and specs stay under 20 levels; anything deeper is broken
or hostile, and refusing it with a message beats a RecursionError in whatever walks or prints it next."""


class ShapeError(ValueError):
    """A decoded value too deep (or, through YAML aliases, too large) to be a real record or spec."""


def check_shape(value: Any, max_depth: int = MAX_NESTING, max_size: int | None = None) -> None:
    """Raise `ShapeError` when `value` nests deeper than `max_depth`, or expands past `max_size` (nodes + characters).

    The walk uses its own stack, so it cannot itself overflow. `max_size` is for YAML, whose aliases let a few bytes
    stand for an exponentially large tree (the "billion laughs"); counting as if every alias were copied stops the
    walk as soon as the budget is spent.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    size = 0
    while stack:
        node, depth = stack.pop()
        size += len(node) if isinstance(node, str) else 1
        if max_size is not None and size > max_size:
            raise ShapeError(f"expands to more than {max_size:,} values and characters (YAML aliases?)")
        if isinstance(node, dict):
            children: list[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            continue
        if children and depth >= max_depth:
            raise ShapeError(f"nested deeper than {max_depth} levels")
        stack.extend((c, depth + 1) for c in children)


def loads_json(text: str, max_depth: int | None = MAX_NESTING) -> Any:
    """`json.loads` that refuses absurd nesting with a `ShapeError` instead of raising RecursionError.

    `max_depth=None` leaves the depth check to the caller, who checks each record so one bad one spares its file.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ShapeError(f"nested deeper than {MAX_NESTING} levels") from None
    if max_depth is not None:
        check_shape(value, max_depth)
    return value


def text_field(value: object, name: str) -> str | None:
    """A field that must be text (an id, an email, a channel): numbers are ids written as numbers, None is absent.

    Anything else (a list, an object, a boolean) makes the record malformed: it is reported, not stored as garbage
    or fed to a database column that expects text.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{name} is not text: {type(value).__name__}")
