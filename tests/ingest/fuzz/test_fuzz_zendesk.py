"""Zendesk exports (JSON document or NDJSON) under fuzzing: no crash, every bad ticket named, every good one stored."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingest.records import IngestError, QuestionRecord
from ingest.zendesk import read_zendesk
from tests.ingest.fuzz._support import assert_well_typed, fuzz, json_values, nested, question_text, store

BAD_TICKETS: dict[str, Any] = {
    "no id": lambda t: {k: v for k, v in t.items() if k != "id"},
    "id is a list": lambda t: {**t, "id": [t["id"]]},
    "id is an object": lambda t: {**t, "id": {"n": t["id"]}},
    "id is a boolean": lambda t: {**t, "id": True},
    "empty id": lambda t: {**t, "id": ""},
    "no created_at": lambda t: {k: v for k, v in t.items() if k != "created_at"},
    "created_at not a date": lambda t: {**t, "created_at": "last tuesday"},
    "created_at out of range": lambda t: {**t, "created_at": 1e300},
    "created_at NaN": lambda t: {**t, "created_at": float("nan")},
    "created_at a list": lambda t: {**t, "created_at": ["2026-01-01"]},
    "subject an object": lambda t: {**t, "subject": {"text": "hi"}},
    "description a list": lambda t: {**t, "description": ["a", "b"]},
    "priority a list": lambda t: {**t, "priority": ["high"]},
    "organization_id an object": lambda t: {**t, "organization_id": {"id": 1}},
    "via.channel a list": lambda t: {**t, "via": {"channel": ["web"]}},
    "nested 200 deep": lambda t: {**t, "custom_fields": nested(200)},
    "not an object": lambda t: t["id"],
}


@st.composite
def good_ticket(draw: st.DrawFn, n: int) -> dict[str, Any]:
    """A well-formed ticket whose id is `n`, with junk in the fields the reader ignores or treats as optional."""
    ticket: dict[str, Any] = {
        "id": draw(st.sampled_from([n, str(n), f"zd-{n}"])),
        "created_at": draw(st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00+02:00", 1767225600])),
        "subject": draw(st.none() | st.text(max_size=40)),
        "description": draw(question_text),
        "requester_id": draw(st.none() | st.integers(1, 5)),
        "organization_id": draw(st.none() | st.integers(1, 3)),
        "priority": draw(st.none() | st.sampled_from(["low", "normal", "high", "urgent"])),
        "custom_fields": draw(json_values),
        "tags": draw(json_values),
    }
    if draw(st.booleans()):
        first = {"author_id": draw(st.integers(1, 5)), "body": draw(st.text(max_size=30))}
        ticket["comments"] = [first, *draw(st.lists(json_values, max_size=3))]
    return ticket


@st.composite
def export(draw: st.DrawFn) -> tuple[bytes, list[str], list[int], bool]:
    """An export: its bytes, the external ids of its good tickets, the positions of its bad ones, NDJSON or not."""
    count = draw(st.integers(2, 8))
    tickets: list[Any] = []
    good: list[str] = []
    bad: list[int] = []
    ndjson = draw(st.booleans())
    for i in range(count):
        ticket = draw(good_ticket(i + 1))
        if i > 0 and draw(st.integers(0, 2)) == 0:  # the first stays good: an NDJSON file starts with an object
            ticket = BAD_TICKETS[draw(st.sampled_from(sorted(BAD_TICKETS)))](ticket)
            bad.append(i)
        else:
            good.append(str(ticket["id"]))
        tickets.append(ticket)
    users = [{"id": u, "email": draw(st.sampled_from([f"u{u}@acme.com", None, ["x"], 7]))} for u in range(1, 6)]
    users.append(draw(json_values))  # junk in a side-load is ignored, never fatal
    orgs = [{"id": o, "name": draw(st.none() | st.text(max_size=20) | json_values)} for o in range(1, 4)]
    if ndjson:
        lines = [json.dumps(t) for t in tickets] + [json.dumps({"users": users, "organizations": orgs})]
        return "\n".join(lines).encode(), good, bad, True
    doc = {"tickets": tickets, "users": users, "organizations": orgs}
    return json.dumps(doc, indent=draw(st.sampled_from([None, 2]))).encode(), good, bad, False


def _read(raw: bytes) -> list[QuestionRecord | IngestError]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.json"
        path.write_bytes(raw)
        return list(read_zendesk(path, ["fernpay.com"]))


@fuzz(150)
@given(
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.lists(json_values, max_size=5).map(lambda vs: "\n".join(map(json.dumps, vs)).encode())
    | st.dictionaries(st.sampled_from(["tickets", "users", "organizations"]), json_values).map(
        lambda d: json.dumps(d).encode()
    )
)
def test_any_bytes_or_json_yield_only_records_and_errors(raw: bytes) -> None:
    for item in _read(raw):
        assert_well_typed(item)


@fuzz(60)
@given(export())
def test_every_good_ticket_is_stored_and_every_bad_one_reported(case: tuple[bytes, list[str], list[int], bool]) -> None:
    raw, good, bad, ndjson = case
    items = _read(raw)
    for item in items:
        assert_well_typed(item)
    errors = [i for i in items if isinstance(i, IngestError)]
    labels = [f"line {i + 1}" if ndjson else f"document tickets[{i}]" for i in bad]
    assert len(errors) == len(bad), errors
    for label, error in zip(labels, errors, strict=True):
        assert error.record.startswith(label) and error.message.startswith("bad ticket:"), (label, error)
    result, stored = store(items)
    assert sorted(stored) == sorted(good) and result.added == len(good), result.summary()
    assert len(result.errors) == len(bad)


def test_absurd_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    good = json.dumps({"id": 1, "created_at": "2026-03-01T10:00:00Z", "description": "How do I export invoices?"})
    path = tmp_path / "tickets.json"

    path.write_text(json.dumps({"tickets": []})[:-2] + deep + "]}")
    (error,) = list(read_zendesk(path))
    assert isinstance(error, IngestError) and "nested deeper than" in error.message

    path.write_text("\n".join([good, deep, good.replace('"id": 1', '"id": 2')]))
    items = list(read_zendesk(path))
    assert [i.external_id for i in items if isinstance(i, QuestionRecord)] == ["1", "2"]
    assert [(e.record, "nested deeper than" in e.message) for e in items if isinstance(e, IngestError)] == [
        ("line 2", True)
    ]
