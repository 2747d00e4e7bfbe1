"""CSV (and JSONL) files of questions with an explicit column mapping."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingest.records import AccountHint, IngestError, QuestionRecord
from ingest.timeparse import parse_timestamp


@dataclass(frozen=True)
class ColumnMap:
    text: str
    id: str | None = None
    account: str | None = None
    created: str | None = None


def read_csv(path: Path, columns: ColumnMap, now: datetime) -> Iterator[QuestionRecord | IngestError]:
    """Rows become questions; without an id column the row number is the id (stable for an unchanged file)."""
    source = f"csv:{path.name}"
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        missing = [c for c in (columns.text, columns.id, columns.account, columns.created) if c and c not in fields]
        if missing:
            yield IngestError(str(path), "header", f"missing column(s) {missing}; the file has {fields}")
            return
        for n, row in enumerate(reader, start=2):
            try:
                text = (row.get(columns.text) or "").strip()
                if not text:
                    raise ValueError(f"empty {columns.text!r}")
                ext = (row.get(columns.id) or "").strip() if columns.id else str(n - 1)
                if not ext:
                    raise ValueError(f"empty {columns.id!r}")
                created = parse_timestamp(row[columns.created]) if columns.created else now
            except (ValueError, KeyError, TypeError) as exc:
                yield IngestError(str(path), f"line {n}", str(exc))
                continue
            account = (row.get(columns.account) or "").strip() if columns.account else ""
            yield QuestionRecord(
                source=source,
                external_id=ext,
                text=text,
                created_at=created,
                hint=AccountHint(account_name=account or None),
            )
