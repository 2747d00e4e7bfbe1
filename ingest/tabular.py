"""CSV and JSONL files of questions with an explicit column (field) mapping.

Both formats go through the same row mapping, so a column mapping means the same thing in either. Every row is a
request and is stored; a row whose text is empty is counted as skipped ("empty") by the store, while a text that is
not text at all (a number, a list) is an error naming its line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.records import AccountHint, IngestError, QuestionRecord, loads_json, text_field
from ingest.timeparse import parse_timestamp

_FIELD_LIMIT = 2**31 - 1
_UNDECODABLE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class ColumnMap:
    text: str
    id: str | None = None
    account: str | None = None
    created: str | None = None
    team: str | None = None

    def missing(self, fields: set[str] | list[str]) -> list[str]:
        return [c for c in (self.text, self.id, self.account, self.created, self.team) if c and c not in fields]


def _record(source: str, row: Mapping[str, Any], columns: ColumnMap, n: int, now: datetime) -> QuestionRecord:
    """One row as a question; raises ValueError/KeyError/TypeError with what is wrong."""
    text = row.get(columns.text)
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError(f"{columns.text!r} is not text: {text!r}"[:200])
    ext = (text_field(row.get(columns.id), repr(columns.id)) if columns.id else str(n)) or ""
    if not ext.strip():
        raise ValueError(f"empty {columns.id!r}")
    created = parse_timestamp(row[columns.created]) if columns.created else now
    account = text_field(row.get(columns.account), repr(columns.account)) if columns.account else None
    team = text_field(row.get(columns.team), repr(columns.team)) if columns.team else None
    return QuestionRecord(
        source=source,
        external_id=ext.strip(),
        text=text.strip(),
        created_at=created,
        hint=AccountHint(account_name=account.strip() or None if account else None),
        team=team.strip() or None if team else None,
    )


def read_csv(path: Path, columns: ColumnMap, now: datetime) -> Iterator[QuestionRecord | IngestError]:
    """Rows become questions; without an id column the row number is the id (stable for an unchanged file)."""
    source = f"csv:{path.name}"
    # The csv module's 128 KiB field limit raises mid-row, and the reader then resumes inside that row: a later
    # field with a line break reads as rows of its own. Lifted (never lowered, so concurrent readers agree), a long
    # text is read whole and the store reports it (`ingest.store.MAX_TEXT_CHARS`).
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    # surrogateescape, not replace: a real U+FFFD in valid UTF-8 is text, only undecodable bytes become surrogates
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
        reader = csv.DictReader(fh)
        try:
            fields = reader.fieldnames or []
        except csv.Error as exc:
            yield IngestError(str(path), "header", f"unreadable header: {exc}")
            return
        if missing := columns.missing(fields):
            yield IngestError(str(path), "header", f"missing column(s) {missing}; the file has {fields}")
            return
        n = 1
        while True:
            n += 1  # a row the csv module refuses still counts, so the rows after it keep their ids
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # a field over `csv.field_size_limit()` (a pasted log), a stray quote
                yield IngestError(str(path), f"line {n}", f"unreadable row: {exc}")
                continue
            if any(_UNDECODABLE.search(v) for v in row.values() if isinstance(v, str)):
                yield IngestError(str(path), f"line {n}", "not valid UTF-8")
                continue
            try:
                yield _record(source, row, columns, n - 1, now)
            except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
                yield IngestError(str(path), f"line {n}", str(exc))


def read_jsonl(path: Path, columns: ColumnMap, now: datetime) -> Iterator[QuestionRecord | IngestError]:
    """One JSON object per line; a line that is not valid JSON, or lacks the mapped fields, is an error."""
    source = f"jsonl:{path.name}"
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = loads_json(raw.decode("utf-8"))
                if not isinstance(row, dict):
                    raise TypeError(f"expected an object, got {type(row).__name__}")
                if missing := columns.missing(list(row)):
                    raise KeyError(f"missing field(s) {missing}")
                yield _record(source, row, columns, n, now)
            except UnicodeDecodeError as exc:
                yield IngestError(str(path), f"line {n}", f"not valid UTF-8 (byte {exc.start})")
            except json.JSONDecodeError as exc:
                yield IngestError(str(path), f"line {n}", f"invalid JSON: {exc.msg} at column {exc.colno}")
            except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
                yield IngestError(str(path), f"line {n}", str(exc))
