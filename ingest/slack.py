"""Slack workspace exports (the zip an admin downloads): `channels.json`, `users.json`, `<channel>/<day>.json`.

A thread's first customer message is the question; customer replies are follow-ups; the first reply by staff
(users whose email domain is one of the staff domains) is the staff answer. Shared channels map to accounts by
channel id. Records are of kind "chat": the store drops chatter ("thanks!", "FYI …") and keeps the rest.

Top-level bot posts, system messages (joins, topic changes) and staff announcements are never questions; they are
still yielded, marked with why (`QuestionRecord.skip`), so the store counts them per reason for `docgap sources`.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ingest.normalize import email_domain
from ingest.records import AccountHint, IngestError, QuestionRecord
from ingest.timeparse import parse_timestamp

SOURCE = "slack"
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
    """
    subtype = m.get("subtype")
    if subtype in _CONTENT_SUBTYPES:
        return "bot" if m.get("bot_id") or m.get("user") == "USLACKBOT" else "content"
    if subtype == "bot_message":
        return "bot"
    if subtype in _SYSTEM_SUBTYPES:
        return "system"
    return None


def _load_json(zf: zipfile.ZipFile, name: str) -> Any:
    return json.loads(zf.read(name).decode("utf-8"))


def read_slack_export(path: Path, staff_domains: list[str] | None = None) -> Iterator[QuestionRecord | IngestError]:
    staff = set(staff_domains or [])
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        try:
            channels = _load_json(zf, "channels.json") if "channels.json" in names else []
            users = {u["id"]: u for u in _load_json(zf, "users.json")} if "users.json" in names else {}
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
            yield IngestError(str(path), "channels.json/users.json", f"unreadable: {exc}")
            return
        by_name = {c.get("name"): c for c in channels if isinstance(c, dict)}
        messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for name in sorted(names):
            p = PurePosixPath(name)
            if len(p.parts) != 2 or p.suffix != ".json":
                continue
            channel = by_name.get(p.parts[0])
            if channel is None:
                continue
            try:
                day = _load_json(zf, name)
                if not isinstance(day, list):
                    raise TypeError("expected a list of messages")
            except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
                yield IngestError(f"{path}:{name}", "file", f"unreadable: {exc}")
                continue
            for i, m in enumerate(day):
                if isinstance(m, dict):
                    messages[channel["id"]].append(m)
                else:
                    yield IngestError(f"{path}:{name}", f"message {i}", "not an object")
        for channel_id, msgs in messages.items():
            yield from _threads(str(path), channel_id, msgs, users, staff)


def _threads(
    file: str, channel_id: str, msgs: list[dict[str, Any]], users: dict[str, Any], staff: set[str]
) -> Iterator[QuestionRecord | IngestError]:
    def is_staff(uid: str | None) -> bool:
        profile = (users.get(uid or "") or {}).get("profile") or {}
        return email_domain(profile.get("email")) in staff

    threads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in msgs:
        if "ts" not in m:
            continue
        kind = message_kind(m)
        top_level = str(m.get("thread_ts") or m["ts"]) == str(m["ts"])
        if kind in ("bot", "system") and top_level:
            yield _not_a_question(file, channel_id, m, str(kind))
        elif kind == "content":
            threads[str(m.get("thread_ts") or m["ts"])].append(m)
    for root_ts, thread in threads.items():
        thread.sort(key=lambda m: float(m["ts"]))
        root = thread[0]
        if str(root["ts"]) != root_ts:
            continue  # replies whose parent is outside the export (or deleted): no question to attach them to
        if is_staff(root.get("user")):
            yield _not_a_question(file, channel_id, root, "staff")
            continue
        try:
            created = parse_timestamp(root["ts"])
            text = str(root.get("text") or "")
        except (ValueError, TypeError) as exc:
            yield IngestError(file, f"{channel_id}/{root.get('ts')}", str(exc))
            continue
        staff_answer = next((str(r.get("text") or "") for r in thread[1:] if is_staff(r.get("user"))), None)
        follow_ups = [str(r.get("text") or "") for r in thread[1:] if not is_staff(r.get("user"))]
        profile = (users.get(root.get("user") or "") or {}).get("profile") or {}
        yield QuestionRecord(
            source=SOURCE,
            external_id=f"{channel_id}:{root_ts}",
            text=text,
            created_at=created,
            hint=AccountHint(
                slack_channel_id=channel_id,
                slack_team_id=root.get("user_team") or (users.get(root.get("user") or "") or {}).get("team_id"),
                email_domain=email_domain(profile.get("email")),
            ),
            author=profile.get("email") or root.get("user"),
            channel=channel_id,
            thread_id=root_ts,
            staff_answer=staff_answer,
            follow_ups=follow_ups,
            kind="chat",
        )


def _not_a_question(file: str, channel_id: str, m: dict[str, Any], why: str) -> QuestionRecord | IngestError:
    """A top-level message that is not a customer's (bot, system, staff), as a record the store counts, not stores."""
    try:
        created = parse_timestamp(m["ts"])
    except (ValueError, TypeError) as exc:
        return IngestError(file, f"{channel_id}/{m.get('ts')}", str(exc))
    return QuestionRecord(
        source=SOURCE,
        external_id=f"{channel_id}:{m['ts']}",
        text=str(m.get("text") or ""),
        created_at=created,
        channel=channel_id,
        thread_id=str(m["ts"]),
        kind="chat",
        skip=why,
    )
