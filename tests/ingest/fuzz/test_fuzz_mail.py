"""mbox files and .eml folders under fuzzing: no crash, every unreadable message named, every good thread stored."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingest.mail import read_email
from ingest.records import IngestError, QuestionRecord
from tests.ingest.fuzz._support import assert_well_typed, fuzz, question_text, store

header_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
"""What a header value may hold once it is on one line: anything, non-ASCII and control characters included."""
BAD: dict[str, Any] = {
    "no Message-ID": lambda h: {k: v for k, v in h.items() if k != "Message-ID"},
    "no From": lambda h: {k: v for k, v in h.items() if k != "From"},
    "From without an address": lambda h: {**h, "From": "<>"},
    "no Date": lambda h: {k: v for k, v in h.items() if k != "Date"},
    "Date not a date": lambda h: {**h, "Date": "soon"},
    "Date offset out of range": lambda h: {**h, "Date": "Sun, 01 Mar 2026 10:00:00 +9999"},
}


def _message(headers: dict[str, str], body: str) -> bytes:
    lines = [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8", "surrogateescape")


@st.composite
def mailbox_case(draw: st.DrawFn) -> tuple[list[bytes], list[str], list[int]]:
    """Messages, the Message-IDs of the good ones (each its own thread), and the positions of the bad ones."""
    messages: list[bytes] = []
    good: list[str] = []
    bad: list[int] = []
    for i in range(draw(st.integers(1, 6))):
        headers = {
            "Message-ID": f"<m{i}@acme.com>",
            "From": f"Ann {i} <ann{i}@acme.com>",
            "Date": "Sun, 01 Mar 2026 10:00:00 +0000",
            "Subject": f"Question {i}: " + draw(header_text),
            "X-Junk": draw(header_text),
        }
        if draw(st.sampled_from(["", "plain", "junk charset"])) == "junk charset":
            headers["Content-Type"] = "text/plain; charset=" + draw(st.sampled_from(["x-unknown", "utf-7", '"']))
        if draw(st.integers(0, 2)) == 0:
            headers = BAD[draw(st.sampled_from(sorted(BAD)))](headers)
            bad.append(i)
        else:
            good.append(f"<m{i}@acme.com>")
        messages.append(_message(headers, draw(question_text)))
    return messages, good, bad


@fuzz(100)
@given(st.binary(max_size=400), st.booleans())
def test_any_bytes_as_eml_or_mbox_yield_only_records_and_errors(raw: bytes, as_mbox: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if as_mbox:
            path = Path(tmp) / "box.mbox"
            path.write_bytes(b"From MAILER-DAEMON Sun Mar  1 10:00:00 2026\n" + raw)
        else:
            path = Path(tmp)
            (path / "m.eml").write_bytes(raw)
        items = list(read_email(path, ["fernpay.com"]))
    for item in items:
        assert_well_typed(item)


@fuzz(50)
@given(mailbox_case())
def test_every_good_eml_is_stored_and_every_bad_one_named(case: tuple[list[bytes], list[str], list[int]]) -> None:
    messages, good, bad = case
    with tempfile.TemporaryDirectory() as tmp:
        for i, raw in enumerate(messages):
            (Path(tmp) / f"{i:02}.eml").write_bytes(raw)
        items = list(read_email(Path(tmp), ["fernpay.com"]))
        for item in items:
            assert_well_typed(item)
        assert sorted(Path(e.file).name for e in items if isinstance(e, IngestError)) == [f"{i:02}.eml" for i in bad], [
            str(e) for e in items if isinstance(e, IngestError)
        ]
    assert {r.external_id for r in items if isinstance(r, QuestionRecord)} == set(good)
    result, stored = store(items)
    assert set(stored) == set(good), result.summary()


@fuzz(50)
@given(mailbox_case())
def test_every_good_mbox_message_is_stored_and_every_bad_one_named(
    case: tuple[list[bytes], list[str], list[int]],
) -> None:
    messages, good, bad = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "box.mbox"
        path.write_bytes(b"".join(b"From ann@acme.com Sun Mar  1 10:00:00 2026\n" + m + b"\n" for m in messages))
        items = list(read_email(path, ["fernpay.com"]))
    assert sorted(e.record for e in items if isinstance(e, IngestError)) == sorted(f"message {i + 1}" for i in bad)
    assert {r.external_id for r in items if isinstance(r, QuestionRecord)} == set(good)
