"""CSV and JSONL files under fuzzing: no crash, every bad row named by its line, every good row stored."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingest.records import IngestError, QuestionRecord
from ingest.tabular import ColumnMap, read_csv, read_jsonl
from tests.conftest import NOW
from tests.ingest.fuzz._support import assert_well_typed, fuzz, json_values, nested, question_text, store

COLUMNS = ColumnMap(text="text", id="id", account="account", created="created")
BAD_CELLS = {
    "created not a date": ("created", "the day after"),
    "created out of range": ("created", "99999999999999999999"),
    "empty id": ("id", "  "),
    "text over the csv field limit": ("text", "x" * 131_073),
}
BAD_JSON: dict[str, Any] = {
    "text a number": lambda r: {**r, "text": 42},
    "text a list": lambda r: {**r, "text": ["a"]},
    "id an object": lambda r: {**r, "id": {"n": 1}},
    "account a list": lambda r: {**r, "account": ["Acme"]},
    "missing text": lambda r: {k: v for k, v in r.items() if k != "text"},
    "created NaN": lambda r: {**r, "created": float("nan")},
    "created infinite": lambda r: {**r, "created": float("inf")},
    "created a list": lambda r: {**r, "created": [1]},
    "nested 200 deep": lambda r: {**r, "extra": nested(200)},
    "not an object": lambda r: [r],
}


@st.composite
def rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 8))
    return [
        {
            "id": f"r{i}",
            "text": draw(question_text),
            "account": draw(st.text(max_size=20)),
            "created": draw(st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01", "1767225600"])),
        }
        for i in range(n)
    ]


def _write(name: str, raw: bytes) -> Path:
    path = Path(tempfile.mkdtemp()) / name
    path.write_bytes(raw)
    return path


@fuzz(150)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_csv_or_jsonl_yield_only_records_and_errors(raw: bytes) -> None:
    for item in [*read_csv(_write("q.csv", raw), COLUMNS, NOW), *read_jsonl(_write("q.jsonl", raw), COLUMNS, NOW)]:
        assert_well_typed(item)


@fuzz(60)
@given(rows(), st.data())
def test_every_good_csv_row_is_stored_and_every_bad_one_named_by_line(
    good_rows: list[dict[str, Any]], data: Any
) -> None:
    bad_at = data.draw(st.sets(st.integers(0, len(good_rows) - 1), max_size=len(good_rows) - 1))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, ["id", "text", "account", "created"])
    writer.writeheader()
    for i, row in enumerate(good_rows):
        if i in bad_at:
            column, value = BAD_CELLS[data.draw(st.sampled_from(sorted(BAD_CELLS)))]
            row = {**row, column: value}
        writer.writerow(row)
    raw = out.getvalue().encode()
    if bad_at and data.draw(st.booleans()):  # one bad row gets an undecodable byte instead
        raw = raw.replace(f"\nr{min(bad_at)},".encode(), f"\nr{min(bad_at)}\xff,".encode("latin-1"))
    items = list(read_csv(_write("q.csv", raw), COLUMNS, NOW))
    for item in items:
        assert_well_typed(item)
    result, stored = store(items)
    # the reader names a line; the store names a row it refuses (text too long) by its id, r<i> on line i + 2
    reported = [e.record if e.record.startswith("line ") else f"line {int(e.record[1:]) + 2}" for e in result.errors]
    assert sorted(reported) == sorted(f"line {i + 2}" for i in bad_at), result.errors
    good = {f"r{i}" for i in range(len(good_rows)) if i not in bad_at}
    assert set(stored) == good and result.added == len(good), result.summary()


@fuzz(60)
@given(rows(), st.data())
def test_every_good_jsonl_line_is_stored_and_every_bad_one_named(good_rows: list[dict[str, Any]], data: Any) -> None:
    bad_at = data.draw(st.sets(st.integers(0, len(good_rows) - 1), max_size=len(good_rows)))
    lines: list[bytes] = []
    for i, row in enumerate(good_rows):
        if i in bad_at:
            kind = data.draw(st.sampled_from([*sorted(BAD_JSON), "invalid JSON", "invalid UTF-8"]))
            if kind == "invalid JSON":
                lines.append(json.dumps(row).encode()[:-1])
            elif kind == "invalid UTF-8":
                lines.append(json.dumps(row).encode().replace(b'"r', b'"\xff'))
            else:
                lines.append(json.dumps(BAD_JSON[kind](row)).encode())
        else:
            lines.append(json.dumps({**row, "junk": data.draw(json_values)}).encode())
    items = list(read_jsonl(_write("q.jsonl", b"\n".join(lines)), COLUMNS, NOW))
    for item in items:
        assert_well_typed(item)
    assert sorted(e.record for e in items if isinstance(e, IngestError)) == sorted(f"line {i + 1}" for i in bad_at)
    good = {f"r{i}" for i in range(len(good_rows)) if i not in bad_at}
    result, stored = store(items)
    assert set(stored) == good and result.added == len(good), result.summary()


def test_a_real_replacement_character_is_text_not_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("id,text\nr1,Why does my invoice show \ufffd instead of €?\nr2,caf\xe9\n", encoding="utf-8")
    path.write_bytes(path.read_bytes().replace(b"caf\xc3\xa9", b"caf\xe9"))  # r2: Latin-1, not UTF-8
    items = list(read_csv(path, ColumnMap("text", "id"), NOW))
    assert [i.external_id for i in items if isinstance(i, QuestionRecord)] == ["r1"]
    assert [(e.record, e.message) for e in items if isinstance(e, IngestError)] == [("line 3", "not valid UTF-8")]
