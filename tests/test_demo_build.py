import csv
import filecmp
import json
from datetime import date
from pathlib import Path

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
