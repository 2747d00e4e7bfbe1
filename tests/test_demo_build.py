import csv
import filecmp
import json
import sqlite3
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session, select

from core.models import Report, Topic, TopicEvent
from core.runtime import Runtime
from demo import DEMO_DIR, HELPCENTER_DIR
from demo.build import (
    RISING_ACCOUNT,
    RISING_INTENT,
    STAFF_DOMAIN,
    STAFF_REPLIES,
    build,
)
from ingest.records import QuestionRecord
from ingest.slack import read_slack_export
from ingest.zendesk import read_zendesk
from tests.conftest import DEMO_END
from usecases.demo import DEMO_DOCUMENTED, document_answered_topics, report_and_act, shipping_day
from usecases.topics import topic_page


def _records(sources: Path) -> dict[tuple[str, str], QuestionRecord]:
    """The built exports as docgap reads them, by (source, external id) as in truth.csv."""
    staff = [STAFF_DOMAIN]
    read = [*read_zendesk(sources / "zendesk" / "tickets.json", staff),
            *read_slack_export(sources / "slack" / "fernpay-slack-export.zip", staff)]  # fmt: skip
    return {(r.source, r.external_id): r for r in read if isinstance(r, QuestionRecord)}


def test_build_is_reproducible_and_sized(tmp_path: Path, demo_sources: Path) -> None:
    again = build(tmp_path / "again", date(2026, 11, 23))
    assert again["questions"] >= 1900 and again["accounts"] == 15
    for rel in ("accounts.csv", "truth.csv", "planted.json", "zendesk/tickets.json", "slack/fernpay-slack-export.zip"):
        assert filecmp.cmp(demo_sources / rel, tmp_path / "again" / rel, shallow=False), rel


def test_planted_gaps_and_rising_account(demo_sources: Path) -> None:
    intents = json.loads((DEMO_DIR / "intents.json").read_text())["intents"]
    statuses = [v["status"] for v in intents.values()]
    assert 15 <= statuses.count("undocumented") <= 25 and statuses.count("partial") >= 5
    pages = {v["page"] for v in intents.values() if v["page"]}
    assert all((HELPCENTER_DIR / p).exists() for p in pages)
    assert 35 <= len(list(HELPCENTER_DIR.rglob("*.md"))) <= 45
    rows = list(csv.DictReader((demo_sources / "truth.csv").open()))
    rising = sorted(r["external_id"] for r in rows if r["account"] == RISING_ACCOUNT and r["intent"] == RISING_INTENT)
    assert len(rising) >= 23


def test_the_biggest_gaps_get_their_own_staff_answers(demo_sources: Path) -> None:
    own = json.loads((DEMO_DIR / "staff_replies.json").read_text())["replies"]
    intents = json.loads((DEMO_DIR / "intents.json").read_text())["intents"]
    assert own and all(intents[i]["status"] != "documented" and 3 <= len(r) for i, r in own.items())
    records = _records(demo_sources)
    answered: dict[str, list[str]] = {}
    for r in csv.DictReader((demo_sources / "truth.csv").open()):
        rec = records.get((r["source"], r["external_id"]))
        if rec is not None and rec.staff_answer:
            answered.setdefault(r["intent"], []).append(rec.staff_answer)
    for intent, replies in own.items():
        assert set(answered[intent]) == set(replies), f"{intent} is answered with its own lines, each of them"
    assert {a for i, said in answered.items() if i not in own for a in said} == set(STAFF_REPLIES)
    share = sum(map(len, answered.values())) / len(records)
    assert 0.38 <= share <= 0.52, "the reply rate is what it was"


def test_attribution_is_carried() -> None:
    source = (DEMO_DIR / "banking77" / "SOURCE.md").read_text()
    assert "CC BY 4.0" in source and "Casanueva" in source
    assert (DEMO_DIR / "banking77" / "LICENSE.upstream").exists()


def _expected_documented(data_dir: Path, sources: Path) -> list[tuple[int, str, str]]:
    """(topic id, intent, page) for the demo's rule, counted here with plain SQL over the database file: the two
    biggest active topics (ties: lower id) at least 3/4 of whose questions are one intent the help center
    documents, one topic per page."""
    intents = json.loads((DEMO_DIR / "intents.json").read_text())["intents"]
    intent_of = {(r["source"], r["external_id"]): r["intent"] for r in csv.DictReader((sources / "truth.csv").open())}
    per_topic: dict[int, Counter[str]] = {}
    with sqlite3.connect(data_dir / "docgap.sqlite3") as db:
        rows = db.execute(
            "SELECT q.source, q.external_id, q.topic_id FROM question q JOIN topic t ON t.id = q.topic_id "
            "WHERE t.active"
        ).fetchall()
    for source, external_id, topic_id in rows:
        per_topic.setdefault(topic_id, Counter())[intent_of[(source, external_id)]] += 1
    out: list[tuple[int, str, str]] = []
    for topic_id, counts in sorted(per_topic.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        intent, k = counts.most_common(1)[0]
        page = (intents.get(intent) or {}).get("page")
        documented = (intents.get(intent) or {}).get("status") == "documented"
        if documented and 4 * k >= 3 * sum(counts.values()) and page not in {p for _, _, p in out}:
            out.append((topic_id, intent, page))
    return out[:2]


def _weekly(data_dir: Path, topic_id: int, start: date, weeks: int) -> list[int]:
    """Questions of the topic per Monday-to-Sunday week from `start`, with plain SQL."""
    with sqlite3.connect(data_dir / "docgap.sqlite3") as db:
        return [
            db.execute(
                "SELECT count(*) FROM question WHERE topic_id = ? AND created_at >= ? AND created_at < ?",
                (topic_id, (start + timedelta(weeks=k)).isoformat(), (start + timedelta(weeks=k + 1)).isoformat()),
            ).fetchone()[0]
            for k in range(weeks)
        ]


def test_the_demo_documents_answered_topics_before_its_report_shows_their_impact(
    demo_copy: Runtime, demo_sources: Path
) -> None:
    """`docgap demo`'s steps after the analysis (`report_and_act`, as `run_demo` runs them) on the analysed demo:
    the topics one documented page answers are marked documented with that page five weeks before the end, and
    the weekly report it saves carries their doc impact, counted from the questions."""
    data_dir = demo_copy.settings.data_dir
    expected = _expected_documented(data_dir, demo_sources)
    assert len(expected) == DEMO_DOCUMENTED and all((HELPCENTER_DIR / page).exists() for _, _, page in expected)
    shipped = date(2026, 10, 21)  # the Wednesday of the week five weeks before the demo's end (2026-11-23)
    assert shipping_day(DEMO_END) == shipped

    lines: list[str] = []
    report = report_and_act(demo_copy, demo_sources, DEMO_END, lines.append)

    with Session(demo_copy.engine) as s:
        for topic_id, _, page in expected:
            t = s.get(Topic, topic_id)
            assert t is not None and t.status == "documented", (topic_id, t and t.status)
            assert (t.documented_url, t.documented_at) == (page, datetime.combine(shipped, time())), topic_id
        saved = s.exec(select(Report).where(Report.kind == "weekly", Report.period_start == date(2026, 11, 16))).one()
    assert report.week_start == date(2026, 11, 16)
    impacts = {d["topic_id"]: d for d in saved.data["doc_impact"]}
    assert sorted(impacts) == sorted(t for t, _, _ in expected), "the saved report measures exactly those topics"
    for topic_id, intent, page in expected:
        d = impacts[topic_id]
        before = _weekly(data_dir, topic_id, date(2026, 9, 21), 4)  # the four weeks before the week of 10-19
        after = _weekly(data_dir, topic_id, date(2026, 10, 26), 4)  # the four full weeks since, to 11-22
        assert (d["documented_on"], d["doc_url"]) == ("2026-10-21", page)
        assert [n for _, n in d["before"]] == before and [n for _, n in d["after"]] == after, topic_id
        b, a = sum(before), sum(after)
        change = round(100 * (a - b) / b) if b else None
        word = "unchanged" if change == 0 else f"down {-change}%" if change and change < 0 else f"up {change}%"
        assert b and d["change_pct"] == change and d["verdict"] == f"{word} in the 4 weeks since", d
        section = saved.markdown.split("## Doc impact\n", 1)[1].split("\n## ", 1)[0]
        row = next(r for r in section.splitlines() if r.startswith(f"| #{topic_id} "))
        assert f"| 2026-10-21 | {page} |" in row.replace("\\", "") and d["sentence"] in row, row
        assert any(line.startswith(f"doc impact: topic #{topic_id} ") and page in line and intent in line
                   for line in lines), lines  # fmt: skip
        assert f"weekly report 2026-11-16, doc impact of topic #{topic_id}: {d['sentence']}" in lines
        shown = topic_page(demo_copy, topic_id)
        assert shown is not None and shown.impact is not None and shown.impact.sentence == d["sentence"]

    with Session(demo_copy.engine) as s:
        events = len(s.exec(select(TopicEvent)).all())
    again = document_answered_topics(demo_copy, demo_sources / "truth.csv", DEMO_END)
    assert [(d.topic_id, d.already) for d in again] == [(t, True) for t, _, _ in expected], "a re-run changes nothing"
    with Session(demo_copy.engine) as s:
        assert len(s.exec(select(TopicEvent)).all()) == events
