"""Slack export zips under fuzzing: no crash, no file written, bombs and escaping names refused, good threads kept."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingest.records import IngestError, QuestionRecord
from ingest.slack import MAX_ZIP_ENTRY_BYTES, read_slack_export, unsafe_name
from tests.ingest.fuzz._support import assert_well_typed, fuzz, json_values, nested, question_text, store

CHANNELS = [{"id": "C1", "name": "acme-support"}, {"id": "C2", "name": "globex"}]
USERS = [
    {"id": "U1", "team_id": "T1", "profile": {"email": "ann@acme.com"}},
    {"id": "U2", "profile": {"email": "sam@fernpay.com"}},
    {"id": "U3", "profile": ["not", "an", "object"]},
]
BAD_MESSAGES: dict[str, Any] = {
    "no ts": lambda m: {k: v for k, v in m.items() if k != "ts"},
    "ts not a number": lambda m: {**m, "ts": "yesterday"},
    "ts a list": lambda m: {**m, "ts": [m["ts"]]},
    "ts NaN": lambda m: {**m, "ts": "nan"},
    "ts out of range": lambda m: {**m, "ts": "99999999999999999999"},
    "text an object": lambda m: {**m, "text": {"t": m["text"]}},
    "user a list": lambda m: {**m, "user": ["U1"]},
    "subtype a list": lambda m: {**m, "subtype": ["bot_message"]},
    "thread_ts an object": lambda m: {**m, "thread_ts": {}},
    "nested 200 deep": lambda m: {**m, "blocks": nested(200)},
    "not an object": lambda m: m["text"],
}


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 3, 1, 0, 0, 0)), data)
    return path


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


Export = tuple[dict[str, bytes], set[str], list[str]]


@st.composite
def export(draw: st.DrawFn) -> Export:
    """Zip entries, the external ids of good top-level customer messages, and the labels of the bad messages."""
    good: set[str] = set()
    bad: list[str] = []
    entries = {"channels.json": json.dumps(CHANNELS).encode(), "users.json": json.dumps(USERS).encode()}
    ts = 1767225600
    for channel in CHANNELS:
        day: list[Any] = []
        for i in range(draw(st.integers(0, 5))):
            ts += 1
            m = {"ts": f"{ts}.000100", "user": draw(st.sampled_from(["U1", "U3", "U9"])), "text": draw(question_text)}
            m["junk"] = draw(json_values)
            if draw(st.integers(0, 2)) == 0:
                m = BAD_MESSAGES[draw(st.sampled_from(sorted(BAD_MESSAGES)))](m)
                if not isinstance(m, dict):
                    bad.append(f"message {i}")
                else:
                    bad.append(f"{channel['id']}/{m['ts'] if isinstance(m.get('ts'), str) else '?'}")
            else:
                good.add(f"{channel['id']}:{ts}.000100")
            day.append(m)
        entries[f"{channel['name']}/2026-03-01.json"] = json.dumps(day).encode()
    return entries, good, bad


@fuzz(100)
@given(st.binary(max_size=400))
def test_any_bytes_are_reported_not_raised(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.zip"
        path.write_bytes(raw)
        items = list(read_slack_export(path))
    assert items and all(isinstance(i, IngestError) for i in items), "random bytes are never a zip with messages"


NAMES = st.lists(st.sampled_from(["..", ".", "", "acme-support", "etc", "C:", "x.json", "\\..\\x.json", "2026.json"]),
                 min_size=1, max_size=5).map("/".join)  # fmt: skip


@fuzz(100)
@given(
    st.dictionaries(
        NAMES | st.sampled_from(["channels.json", "users.json", "acme-support/2026-03-01.json"]) | st.text(max_size=20),
        st.binary(max_size=100) | json_values.map(lambda v: json.dumps(v).encode()),
        max_size=6,
    )
)
def test_any_entries_are_read_in_memory_and_escaping_names_reported(entries: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        path = _zip(root / "in" / "export.zip", {n: d for n, d in entries.items() if n and "\x00" not in n})
        before = _files(root)
        cwd = os.getcwd()
        os.chdir(root / "in")  # were anything extracted relative to the working directory, it would land here
        try:
            items = list(read_slack_export(path))
        finally:
            os.chdir(cwd)
        assert _files(root) == before, "reading an export writes nothing"
    for item in items:
        assert_well_typed(item)
    reported = {e.file.split(":", 1)[1] for e in items if isinstance(e, IngestError) and e.record == "entry"}
    base = Path("/srv/extract")
    for name in entries:
        escapes = not (base / name).resolve().is_relative_to(base)
        assert not escapes or repr(name) in reported, f"{name!r} would escape an extraction folder: not reported"


@fuzz(40)
@given(export())
def test_every_good_message_is_stored_and_every_bad_one_reported(case: Export) -> None:
    entries, good, bad = case
    with tempfile.TemporaryDirectory() as tmp:
        items = list(read_slack_export(_zip(Path(tmp) / "export.zip", entries), ["fernpay.com"]))
    for item in items:
        assert_well_typed(item)
    assert sorted(e.record for e in items if isinstance(e, IngestError)) == sorted(bad)
    assert {r.external_id for r in items if isinstance(r, QuestionRecord)} == good
    result, stored = store(items)
    assert set(stored) == good, result.summary()


def test_a_zip_bomb_over_the_entry_limit_is_refused_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    day = [{"ts": "1767225600.000100", "user": "U1", "text": "How do I export invoices?"}]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("channels.json", json.dumps(CHANNELS))
        zf.writestr("users.json", json.dumps(USERS))
        zf.writestr("globex/2026-03-01.json", json.dumps(day))
        with zf.open("acme-support/2026-03-01.json", "w", force_zip64=True) as fh:
            fh.write(b"[")
            for _ in range(MAX_ZIP_ENTRY_BYTES // 2**20):  # valid JSON: brackets around a sea of spaces
                fh.write(b" " * 2**20)
            fh.write(b"]")
    assert path.stat().st_size < 2 * 2**20, "a bomb: over 100 times smaller than what it unpacks to"

    start = time.monotonic()
    items = list(read_slack_export(path))
    assert time.monotonic() - start < 2, "refused from its size, not unpacked"
    (error,) = [i for i in items if isinstance(i, IngestError)]
    assert error.file.endswith(":acme-support/2026-03-01.json") and "entry limit" in error.message
    assert [i.external_id for i in items if isinstance(i, QuestionRecord)] == ["C2:1767225600.000100"]


def test_an_entry_whose_header_understates_its_size_is_reported_not_trusted(tmp_path: Path) -> None:
    data = json.dumps([{"ts": "1767225600.000100", "user": "U1", "text": "x" * 50_000}]).encode()
    path = _zip(tmp_path / "liar.zip", {"channels.json": json.dumps(CHANNELS).encode(), "acme-support/d.json": data})
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("acme-support/d.json")
    central = raw.rindex(b"PK\x01\x02")  # the last central-directory record is this entry's
    struct.pack_into("<I", raw, info.header_offset + 22, 100)  # local header: uncompressed size
    struct.pack_into("<I", raw, central + 24, 100)  # central directory: uncompressed size
    path.write_bytes(bytes(raw))

    items = list(read_slack_export(path, max_entry_bytes=1_000))
    assert not [i for i in items if isinstance(i, QuestionRecord)]
    (error,) = items
    assert isinstance(error, IngestError) and error.file.endswith(":acme-support/d.json"), error


def test_an_export_over_the_total_limit_stops_with_one_clear_error(tmp_path: Path) -> None:
    day = json.dumps([{"ts": f"17672256{i:02}.000100", "user": "U1", "text": "How do I pay?"} for i in range(50)])
    entries = {"channels.json": json.dumps(CHANNELS).encode()}
    entries |= {f"acme-support/2026-03-{d:02}.json": day.encode() for d in range(1, 21)}
    path = _zip(tmp_path / "big.zip", entries)
    items = list(read_slack_export(path, max_total_bytes=len(day) * 5))
    errors = [i for i in items if isinstance(i, IngestError)]
    assert len(errors) == 1 and "unpacks to over" in errors[0].message and "zip bomb" in errors[0].message
    assert not [i for i in items if isinstance(i, QuestionRecord)], "nothing half-read is stored"


def test_path_traversal_names_are_reported_never_written(tmp_path: Path) -> None:
    evil = ["../../etc/x.json", "/abs/path.json", "acme-support/../../x.json", "..\\..\\x.json", "C:/x.json"]
    day = json.dumps([{"ts": "1767225600.000100", "user": "U1", "text": "How do I export invoices?"}]).encode()
    entries = {"channels.json": json.dumps(CHANNELS).encode(), "acme-support/2026-03-01.json": day}
    path = _zip(tmp_path / "evil.zip", entries | dict.fromkeys(evil, day))
    items = list(read_slack_export(path))
    reported = sorted(e.file.split(":", 1)[1] for e in items if isinstance(e, IngestError))
    assert reported == sorted(map(repr, evil))
    assert all(unsafe_name(n) for n in evil) and not unsafe_name("acme-support/2026-03-01.json")
    assert [i.external_id for i in items if isinstance(i, QuestionRecord)] == ["C1:1767225600.000100"]
    assert not (tmp_path.parent.parent / "etc" / "x.json").exists() and not Path("/abs/path.json").exists()
    assert not any(PurePosixPath(n).name == "x.json" for n in _files(tmp_path))
