"""Slack workspace exports (the zip an admin downloads): `channels.json`, `users.json`, `<channel>/<day>.json`.

A thread's first customer message is the question; customer replies are follow-ups; the first reply by staff
(users whose email domain is one of the staff domains) is the staff answer. Shared channels map to accounts by
channel id. Records are of kind "chat": the store drops chatter ("thanks!", "FYI …") and keeps the rest.

Top-level bot posts, system messages (joins, topic changes) and staff announcements are never questions; they are
still yielded, marked with why (`QuestionRecord.skip`), so the store counts them per reason for `docgap sources`.

The zip is untrusted: entries are read into memory, never extracted, so no entry name can write anywhere; names that
would escape a folder (`../x`, `/abs`) are still reported, since an export never holds them. An entry that unpacks
past `MAX_ZIP_ENTRY_BYTES`, or an export past `MAX_ZIP_TOTAL_BYTES`, is refused (a zip bomb), whatever its header
claims.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ingest.normalize import email_domain
from ingest.records import MAX_NESTING, AccountHint, IngestError, QuestionRecord, check_shape, loads_json, text_field
from ingest.timeparse import parse_timestamp

SOURCE = "slack"
MAX_ZIP_ENTRY_BYTES = 256 * 2**20
"""Largest unpacked entry read (256 MiB): a day file is kilobytes, `users.json` of a 100k-member workspace ~200 MB."""
MAX_ZIP_TOTAL_BYTES = 4 * 2**30
"""Most bytes unpacked from one export (4 GiB), counted as read: the ceiling on what a zip bomb can cost."""
_BAD_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError)
"""What reading a corrupt, truncated, encrypted or oddly compressed entry raises."""
_CONTENT_SUBTYPES = {None, "thread_broadcast", "file_share"}
_SYSTEM_SUBTYPES = {
    "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "channel_archive",
    "channel_unarchive", "channel_convert_to_private", "channel_convert_to_public", "group_join", "group_leave",
    "group_topic", "group_purpose", "group_name", "group_archive", "group_unarchive", "pinned_item",
    "unpinned_item", "reminder_add", "sh_room_created", "huddle_thread",
}  # fmt: skip


def message_kind(m: dict[str, Any]) -> str | None:
    """Who wrote a message: "content" (a person), "bot", "system" (joins, topic changes …), or None.

    None is for events about other messages (deletions, edits, tombstones), which are not messages at all. Shared by
    the export importer and the Events API, so both judge a message alike.

    Raises:
        TypeError: the subtype is not text (a list or an object, say): the message is malformed, not of some kind.
    """
    subtype = m.get("subtype")
    if subtype is not None and not isinstance(subtype, str):
        raise TypeError(f"subtype is not text: {type(subtype).__name__}")
    if subtype in _CONTENT_SUBTYPES:
        return "bot" if m.get("bot_id") or m.get("user") == "USLACKBOT" else "content"
    if subtype == "bot_message":
        return "bot"
    if subtype in _SYSTEM_SUBTYPES:
        return "system"
    return None


class _Entries:
    """Reads entries of one export within the size limits; every refusal says which limit and why."""

    def __init__(self, zf: zipfile.ZipFile, max_entry: int, max_total: int) -> None:
        self.zf, self.max_entry, self.max_total, self.total = zf, max_entry, max_total, 0

    def json(self, name: str, max_depth: int | None = MAX_NESTING) -> Any:
        """The entry decoded; raises ValueError (too big, not JSON, too deep) or a zip error (corrupt)."""
        info = self.zf.getinfo(name)
        if info.file_size > self.max_entry:
            raise ValueError(f"unpacks to {info.file_size:,} bytes, over the {self.max_entry:,}-byte entry limit")
        with self.zf.open(info) as fh:
            data = fh.read(self.max_entry + 1)  # the header may lie about the size; the read cannot
        if len(data) > self.max_entry:
            raise ValueError(f"unpacks to over the {self.max_entry:,}-byte entry limit")
        self.total += len(data)
        if self.total > self.max_total:
            raise _TooBig(f"the export unpacks to over {self.max_total:,} bytes (a zip bomb?); stopped reading")
        return loads_json(data.decode("utf-8"), max_depth)


class _TooBig(Exception):
    """The whole export is over its limit: nothing more is read."""


def unsafe_name(name: str) -> bool:
    """An entry name that would land outside the folder it is extracted to: absolute, `..`, a drive or a backslash."""
    p = PurePosixPath(name)
    return p.is_absolute() or ".." in p.parts or "\\" in name or (len(name) > 1 and name[1] == ":") or "\0" in name


def read_slack_export(
    path: Path,
    staff_domains: list[str] | None = None,
    *,
    max_entry_bytes: int = MAX_ZIP_ENTRY_BYTES,
    max_total_bytes: int = MAX_ZIP_TOTAL_BYTES,
) -> Iterator[QuestionRecord | IngestError]:
    staff = set(staff_domains or [])
    try:
        zf = zipfile.ZipFile(path)
    except (*_BAD_ZIP, KeyError) as exc:
        yield IngestError(str(path), "file", f"not a readable zip file: {exc}")
        return
    with zf:
        try:
            yield from _read_export(path, zf, _Entries(zf, max_entry_bytes, max_total_bytes), staff)
        except _TooBig as exc:
            yield IngestError(str(path), "file", str(exc))


def _read_export(
    path: Path, zf: zipfile.ZipFile, entries: _Entries, staff: set[str]
) -> Iterator[QuestionRecord | IngestError]:
    names = set(zf.namelist())
    for name in sorted(n for n in names if unsafe_name(n)):
        yield IngestError(f"{path}:{name!r}", "entry", "unsafe entry name (absolute, `..` or a drive): not read")
    try:
        channels = entries.json("channels.json") if "channels.json" in names else []
        user_list = entries.json("users.json") if "users.json" in names else []
        if not isinstance(channels, list) or not isinstance(user_list, list):
            raise TypeError("expected a list")
        users = {u["id"]: u for u in user_list if isinstance(u, dict) and isinstance(u.get("id"), str)}
    except (*_BAD_ZIP, KeyError, TypeError) as exc:
        yield IngestError(str(path), "channels.json/users.json", f"unreadable: {exc}")
        return
    by_name: dict[str, dict[str, Any]] = {}
    for i, c in enumerate(channels):
        if isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("id"), str) and c["id"]:
            by_name[c["name"]] = c
        else:
            yield IngestError(f"{path}:channels.json", f"channel {i}", "not an object with a text `id` and `name`")
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in sorted(names):
        p = PurePosixPath(name)
        if len(p.parts) != 2 or p.suffix != ".json" or unsafe_name(name):
            continue
        channel = by_name.get(p.parts[0])
        if channel is None:
            continue
        try:
            day = entries.json(name, max_depth=None)  # each message is checked on its own
            if not isinstance(day, list):
                raise TypeError("expected a list of messages")
        except (*_BAD_ZIP, TypeError) as exc:
            yield IngestError(f"{path}:{name}", "file", f"unreadable: {exc}")
            continue
        for i, m in enumerate(day):
            if isinstance(m, dict):
                messages[channel["id"]].append(m)
            else:
                yield IngestError(f"{path}:{name}", f"message {i}", "not an object")
    for channel_id, msgs in messages.items():
        yield from _threads(str(path), channel_id, msgs, users, staff)


@dataclass
class _Message:
    """The fields of a message the reader uses, checked: a malformed message is reported, not half-read."""

    ts: str
    thread_ts: str
    created: datetime
    kind: str
    user: str | None
    text: str
    team: str | None

    @property
    def top_level(self) -> bool:
        return self.thread_ts == self.ts


def _message(m: dict[str, Any]) -> _Message | None:
    """The message, None for events about other messages (edits, deletions); raises ValueError/TypeError if bad."""
    kind = message_kind(m)
    if kind is None:
        return None
    ts = text_field(m.get("ts"), "ts")
    if not ts or not math.isfinite(float(ts)):
        raise ValueError(f"no usable timestamp: {ts!r}")
    created = parse_timestamp(ts)
    return _Message(
        ts=ts,
        thread_ts=text_field(m.get("thread_ts"), "thread_ts") or ts,
        created=created,
        kind=kind,
        user=text_field(m.get("user"), "user"),
        text=text_field(m.get("text"), "text") or "",
        team=text_field(m.get("user_team"), "user_team"),
    )


def _profile(users: dict[str, Any], uid: str | None) -> dict[str, Any]:
    profile = users.get(uid or "", {}).get("profile")
    return profile if isinstance(profile, dict) else {}


def _email(users: dict[str, Any], uid: str | None) -> str | None:
    email = _profile(users, uid).get("email")
    return email if isinstance(email, str) else None


def _threads(
    file: str, channel_id: str, msgs: list[dict[str, Any]], users: dict[str, Any], staff: set[str]
) -> Iterator[QuestionRecord | IngestError]:
    def is_staff(uid: str | None) -> bool:
        return email_domain(_email(users, uid)) in staff

    threads: dict[str, list[_Message]] = defaultdict(list)
    for raw in msgs:
        try:
            check_shape(raw)
            m = _message(raw)
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            ts = raw.get("ts")
            yield IngestError(file, f"{channel_id}/{ts if isinstance(ts, str) else '?'}", f"bad message: {exc}")
            continue
        if m is None:
            continue
        if m.kind in ("bot", "system") and m.top_level:
            yield _not_a_question(channel_id, m, m.kind)
        elif m.kind == "content":
            threads[m.thread_ts].append(m)
    for root_ts, thread in threads.items():
        thread.sort(key=lambda m: float(m.ts))
        root = thread[0]
        if root.ts != root_ts:
            continue  # replies whose parent is outside the export (or deleted): no question to attach them to
        if is_staff(root.user):
            yield _not_a_question(channel_id, root, "staff")
            continue
        team = users.get(root.user or "", {}).get("team_id")  # users are objects: `_read_export` keeps no others
        yield QuestionRecord(
            source=SOURCE,
            external_id=f"{channel_id}:{root_ts}",
            text=root.text,
            created_at=root.created,
            hint=AccountHint(
                slack_channel_id=channel_id,
                slack_team_id=root.team or (team if isinstance(team, str) else None),
                email_domain=email_domain(_email(users, root.user)),
            ),
            author=_email(users, root.user) or root.user,
            channel=channel_id,
            thread_id=root_ts,
            staff_answer=next((r.text for r in thread[1:] if is_staff(r.user)), None),
            follow_ups=[r.text for r in thread[1:] if not is_staff(r.user)],
            kind="chat",
        )


def _not_a_question(channel_id: str, m: _Message, why: str) -> QuestionRecord:
    """A top-level message that is not a customer's (bot, system, staff), as a record the store counts, not stores."""
    return QuestionRecord(
        source=SOURCE,
        external_id=f"{channel_id}:{m.ts}",
        text=m.text,
        created_at=m.created,
        channel=channel_id,
        thread_id=m.ts,
        kind="chat",
        skip=why,
    )
