"""The account brief and the executive brief, for the pages, the API and the command line alike.

Both are reads (`Permission.READ`). An account brief holds only that account's questions: it is built from
queries filtered by the account, and the risk flags' evidence is checked against the account's own question ids
(`reports.account_brief`).
"""

from __future__ import annotations

from sqlmodel import Session

from core.models import Account
from core.runtime import Runtime
from reports.account_brief import DEFAULT_DAYS, AccountBrief, build_account_brief
from reports.executive_brief import ExecutiveBrief, build_executive_brief
from usecases.accounts import account_id_named
from usecases.permissions import Actor, Permission, require

MAX_DAYS = 3650


class UnknownAccount(LookupError):
    """No account has that id or name."""


def find_account(runtime: Runtime, id_or_name: int | str) -> int:
    """The id of the account given by id (a number) or by name (any case); `UnknownAccount` otherwise."""
    text = str(id_or_name).strip()
    found = account_id_named(runtime, text)
    if found is None and text.isdigit():
        with Session(runtime.engine) as session:
            found = int(text) if session.get(Account, int(text)) is not None else None
    if found is None:
        raise UnknownAccount(f"no account with the id or name {text!r}")
    return found


def account_brief(runtime: Runtime, actor: Actor, account_id_or_name: int | str,
                  days: int = DEFAULT_DAYS) -> AccountBrief:  # fmt: skip
    """The account's brief over the `days` ending where the data does."""
    require(actor, Permission.READ)
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    brief = build_account_brief(runtime, find_account(runtime, account_id_or_name), days)
    if brief is None:
        raise UnknownAccount(f"no account with the id or name {account_id_or_name!r}")
    return brief


def executive_brief(runtime: Runtime, actor: Actor) -> ExecutiveBrief:
    """Every account ranked by risk weighted by ARR, with the totals and the week's priority actions."""
    require(actor, Permission.READ)
    return build_executive_brief(runtime)
