"""Accounts: the CRM CSV import, and mapping a message's hints (Zendesk org, Slack channel, email domain) to one.

Questions keep their hints, so importing accounts after the questions still maps them (`remap_questions`).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from core.models import Account, Question
from ingest.records import AccountHint, IngestError, IngestResult

ACCOUNT_COLUMNS = (
    "name",
    "domains",
    "zendesk_org_ids",
    "slack_channel_ids",
    "slack_team_ids",
    "owner",
    "segment",
    "arr",
    "renewal_date",
)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").replace(";", ",").split(",") if v.strip()]


def import_accounts_csv(session: Session, path: Path) -> IngestResult:
    """Create or update accounts from a CRM CSV (`name` required; list columns separated by `;` or `,`)."""
    result = IngestResult()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "name" not in reader.fieldnames:
            result.errors.append(IngestError(str(path), "header", f"needs a `name` column; found {reader.fieldnames}"))
            return result
        for n, row in enumerate(reader, start=2):
            try:
                name = (row.get("name") or "").strip()
                if not name:
                    raise ValueError("empty name")
                arr = float(row["arr"]) if (row.get("arr") or "").strip() else None
                renewal = (
                    date.fromisoformat(row["renewal_date"].strip()) if (row.get("renewal_date") or "").strip() else None
                )
            except (ValueError, KeyError) as exc:
                result.errors.append(IngestError(str(path), f"line {n}", str(exc)))
                continue
            account = session.exec(select(Account).where(Account.name == name)).first()
            fields = {
                "domains": [d.lower() for d in _split(row.get("domains"))],
                "zendesk_org_ids": _split(row.get("zendesk_org_ids")),
                "slack_channel_ids": _split(row.get("slack_channel_ids")),
                "slack_team_ids": _split(row.get("slack_team_ids")),
                "owner": (row.get("owner") or "").strip() or None,
                "segment": (row.get("segment") or "").strip() or None,
                "arr": arr,
                "renewal_date": renewal,
            }
            if account is None:
                session.add(Account(name=name, **fields))
                result.added += 1
            elif any(getattr(account, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(account, k, v)
                result.updated += 1
            else:
                result.unchanged += 1
    session.flush()
    return result


class AccountResolver:
    """Looks up the account for a hint; unknown Zendesk organizations become accounts of their own name."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_org: dict[str, int] = {}
        self._by_channel: dict[str, int] = {}
        self._by_team: dict[str, int] = {}
        self._by_domain: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        for acc in session.exec(select(Account)).all():
            assert acc.id is not None
            self._index(acc)

    def _index(self, acc: Account) -> None:
        assert acc.id is not None
        self._by_name[acc.name.lower()] = acc.id
        for o in acc.zendesk_org_ids:
            self._by_org[o] = acc.id
        for c in acc.slack_channel_ids:
            self._by_channel[c] = acc.id
        for t in acc.slack_team_ids:
            self._by_team[t] = acc.id
        for d in acc.domains:
            self._by_domain[d] = acc.id

    def resolve(self, hint: AccountHint, create: bool = True) -> int | None:
        if hint.account_name and hint.account_name.lower() in self._by_name:
            return self._by_name[hint.account_name.lower()]
        if hint.zendesk_org_id and hint.zendesk_org_id in self._by_org:
            return self._by_org[hint.zendesk_org_id]
        if hint.slack_channel_id and hint.slack_channel_id in self._by_channel:
            return self._by_channel[hint.slack_channel_id]
        if hint.slack_team_id and hint.slack_team_id in self._by_team:
            return self._by_team[hint.slack_team_id]
        if hint.email_domain and hint.email_domain in self._by_domain:
            return self._by_domain[hint.email_domain]
        name = hint.organization_name or hint.account_name
        if create and name:
            if name.lower() in self._by_name:
                return self._by_name[name.lower()]
            acc = Account(name=name, zendesk_org_ids=[hint.zendesk_org_id] if hint.zendesk_org_id else [])
            self._session.add(acc)
            self._session.flush()
            self._index(acc)
            return acc.id
        return None


def remap_questions(session: Session) -> int:
    """Give unmapped questions an account from their stored hints; returns how many were mapped."""
    resolver = AccountResolver(session)
    mapped = 0
    for q in session.exec(select(Question).where(col(Question.account_id).is_(None))).all():
        account_id = resolver.resolve(AccountHint(**q.account_hint), create=False)
        if account_id is not None:
            q.account_id = account_id
            mapped += 1
    return mapped
