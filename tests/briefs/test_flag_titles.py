"""A risk flag names topics by their current title.

A writer renames a topic after a flag quoting it was raised, with no check since (they run hourly while serving,
and a cleared flag is never checked again). Every reader then shows the new title, the one the suggested action
beside the flag uses: the account brief (data, page and `GET /v1/accounts/{id}/brief`), the executive brief (data,
page and API), the flag list (`GET /v1/flags`) and the Slack alert built for it. The stored text is not rewritten;
it stands in when the topic is gone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from core.models import RiskFlag, Topic
from core.runtime import Runtime
from delivery.slack import flag_alert
from reports.indicators import Quote
from reports.risk import Flag, evaluate_flags, flags_to_alert, open_flags, requote
from tests.conftest import NOW, LiveServer, copy_data, logged_in
from usecases.accounts import account_id_named
from usecases.apikeys import create_key
from usecases.briefs import account_brief, executive_brief
from usecases.flags import list_risk_flags
from usecases.permissions import OPERATOR, user_actor
from usecases.topics import change_topic, merge_topics
from usecases.users import create_user

RISING = "Brightline Logistics"
RENAMED = "Transfers that never reached the recipient"
WRITER = user_actor("wes", "docs_writer")
AM = ("titles-am", "titles-am-password-01")


@dataclass(frozen=True)
class Renamed:
    rt: Runtime
    flag: Flag
    """Brightline's velocity flag as raised, before the rename."""
    topic_id: int
    old: str
    """The topic's title as the flag quoted it when raised."""
    stored: dict[str, Any]
    """The flag's evidence JSON as stored at raise time."""


def _raise_and_rename(rt: Runtime) -> Renamed:
    """Raise the flags as `docgap alerts check` does, then rename the velocity flag's subject as a writer does."""
    flag = next(f for f in evaluate_flags(rt, NOW).raised if f.kind == "velocity" and f.account == RISING)
    assert flag.evidence.topics, "the velocity flag records the topic it quotes"
    topic_id, old = flag.evidence.topics[0]
    assert f"“{old}”" in flag.summary and f"Questions about “{old}” came at" in flag.evidence.text
    assert old != RENAMED
    with Session(rt.engine) as s:
        row, topic = s.get(RiskFlag, flag.id), s.get(Topic, topic_id)
        assert row is not None and topic is not None
        stored, status = dict(row.evidence), topic.status
    assert stored["quotes"][0] == {"topic_id": topic_id, "title": old, "label": topic.label}
    change_topic(rt, WRITER, topic_id, status, label=RENAMED)
    return Renamed(rt, flag, topic_id, old, stored)


@pytest.fixture(scope="module")
def renamed(demo_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Renamed]:
    """A private copy of the demo with its flags raised and the rising account's subject renamed afterwards."""
    rt = copy_data(demo_runtime.settings.data_dir, tmp_path_factory.mktemp("flag-titles") / "data",
                   demo_runtime.embedder)  # fmt: skip
    yield _raise_and_rename(rt)
    rt.engine.dispose()


def _names_new_not_old(text: str, r: Renamed) -> None:
    assert f"“{RENAMED}”" in text, text
    assert f"“{r.old}”" not in text, text


def test_every_reader_in_process_shows_the_new_title(renamed: Renamed) -> None:
    r = renamed
    flag = next(f for f in open_flags(r.rt) if f.id == r.flag.id)
    assert flag.evidence.text.startswith(f"Questions about “{RENAMED}” came at")
    assert flag.evidence.text.replace(RENAMED, r.old) == r.stored["text"], "only the title changed"
    _names_new_not_old(flag.summary, r)
    assert flag.evidence.topics == [(r.topic_id, RENAMED)]

    brief = account_brief(r.rt, OPERATOR, RISING)
    line = next(f for f in brief.flags if f.id == r.flag.id)
    _names_new_not_old(line.summary, r)
    _names_new_not_old(line.evidence, r)
    beside = [a for a in brief.actions if a.topic_id == r.topic_id]
    assert beside and all(a.topic == RENAMED and f"“{RENAMED}”" in a.text for a in beside), brief.actions

    top = next(row for row in executive_brief(r.rt, OPERATOR).accounts if row.account == RISING)
    _names_new_not_old(next(f for f in top.flags if f.id == r.flag.id).line, r)

    listed = next(row for row in list_risk_flags(r.rt, OPERATOR).open if row.id == r.flag.id)
    _names_new_not_old(listed.line, r)
    _names_new_not_old(listed.text, r)

    # The alert the sender builds for a flag not announced yet (no webhook was configured when it was raised).
    alert = flag_alert(next(f for f in flags_to_alert(r.rt) if f.id == r.flag.id), "https://docgap.example.com")
    _names_new_not_old(alert.text, r)
    sections = " ".join(b["text"]["text"] for b in alert.blocks if b["type"] == "section")
    _names_new_not_old(sections, r)

    with Session(r.rt.engine) as s:
        row = s.get(RiskFlag, r.flag.id)
        assert row is not None and row.evidence == r.stored, "the stored evidence is as raised: read-time titles"


def test_the_api_and_the_pages_show_the_new_title(renamed: Renamed) -> None:
    r = renamed
    create_user(r.rt, OPERATOR, AM[0], "account_manager", AM[1])
    auth = {"Authorization": f"Bearer {create_key(r.rt, ['answers:read'], name='titles').secret}"}
    aid = account_id_named(r.rt, RISING)
    with LiveServer(r.rt) as server:
        with httpx.Client(base_url=server.url, headers=auth, timeout=120) as api:
            brief = api.get(f"/v1/accounts/{aid}/brief").json()
            executive = api.get("/v1/briefs/executive").json()
            flags = api.get("/v1/flags").json()
        with logged_in(server.url, *AM) as (client, _):
            brief_page = html.unescape(client.get(f"/accounts/{aid}/brief").text)
            executive_page = html.unescape(client.get("/briefs/executive").text)
            flags_page = html.unescape(client.get("/flags").text)
    line = next(f for f in brief["flags"] if f["id"] == r.flag.id)
    _names_new_not_old(line["summary"], r)
    _names_new_not_old(line["evidence"], r)
    assert any(a["topic_id"] == r.topic_id and a["topic"] == RENAMED for a in brief["actions"])
    row = next(f for a in executive["accounts"] for f in a["flags"] if f["id"] == r.flag.id)
    _names_new_not_old(row["line"], r)
    listed = next(f for f in flags if f["id"] == r.flag.id)
    _names_new_not_old(listed["line"], r)
    _names_new_not_old(listed["text"], r)

    # On the pages, the flag's own words: its evidence (the brief, the list's tooltip) and its summary (the list,
    # the executive brief). Not the whole page: the example questions quoted under a flag are the account's own
    # and may well include the old title's words.
    evidence = re.compile(r"Questions about “([^”]+)” came at")
    summary = re.compile(r"“([^”]+)” rising:")
    flag_row = flags_page.split(f'id="flag-{r.flag.id}"', 1)[1].split("</tr>", 1)[0]
    for part, pattern in ((brief_page, evidence), (flag_row, evidence), (flag_row, summary)):
        assert pattern.findall(part) and set(pattern.findall(part)) == {RENAMED}, pattern.findall(part)
    _names_new_not_old(executive_page, r)  # the executive brief quotes the flag's summary only
    assert f"“{RENAMED}” rising:" in executive_page


def test_a_topic_merged_away_keeps_the_title_stored_with_the_flag(demo_copy: Runtime) -> None:
    r = _raise_and_rename(demo_copy)
    with Session(demo_copy.engine) as s:
        other = s.exec(
            select(Topic.id).where(col(Topic.active).is_(True), Topic.id != r.topic_id).order_by(col(Topic.id))
        ).first()
    assert other is not None
    merge_topics(demo_copy, WRITER, [r.topic_id], into=other)
    flag = next(f for f in open_flags(demo_copy) if f.id == r.flag.id)
    assert flag.evidence.text == r.stored["text"] and f"“{r.old}”" in flag.summary
    assert flag.evidence.topics == [(r.topic_id, r.old)]


def test_a_flag_stored_before_quotes_were_kept_reads_as_written(demo_copy: Runtime) -> None:
    r = _raise_and_rename(demo_copy)
    with Session(demo_copy.engine) as s:
        row = s.get(RiskFlag, r.flag.id)
        assert row is not None
        row.evidence = {k: v for k, v in r.stored.items() if k != "quotes"}
        s.add(row)
        s.commit()
    flag = next(f for f in open_flags(demo_copy) if f.id == r.flag.id)
    assert flag.evidence.text == r.stored["text"] and flag.evidence.topics == []


def test_requote_replaces_each_quote_in_turn() -> None:
    quotes = [Quote(1, "Same", "a"), Quote(2, "Same", "b"), Quote(3, "Absent", "c")]
    text = "most: “Same”, 4 times; in a channel, 2 people asked “Same”; “Same” again"
    assert requote(text, quotes, ["One", "Two", "Three"]) == (
        "most: “One”, 4 times; in a channel, 2 people asked “Two”; “Same” again"
    )
    assert requote("“Same” rising", quotes, ["One", "Two", "Three"]) == "“One” rising"
    assert requote("no quotes here", [], []) == "no quotes here"
