"""The normalized record every source format produces, and the bookkeeping of an import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    thread_id: str | None = None
    priority: str | None = None
    staff_answer: str | None = None
    follow_ups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IngestError:
    file: str
    record: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: record {self.record}: {self.message}"


@dataclass
class IngestResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[IngestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped (not questions), {len(self.errors)} errors"
        )
