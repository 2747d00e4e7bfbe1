import csv
import filecmp
import json
from datetime import date
from pathlib import Path

from demo import DEMO_DIR, HELPCENTER_DIR
from demo.build import RISING_ACCOUNT, RISING_INTENT, build


def test_build_is_reproducible_and_sized(tmp_path: Path, demo_sources: Path) -> None:
    again = build(tmp_path / "again", date(2026, 11, 23))
    assert again["questions"] >= 1900 and again["accounts"] == 15
    for rel in ("accounts.csv", "truth.csv", "zendesk/tickets.json", "slack/fernpay-slack-export.zip"):
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


def test_attribution_is_carried() -> None:
    source = (DEMO_DIR / "banking77" / "SOURCE.md").read_text()
    assert "CC BY 4.0" in source and "Casanueva" in source
    assert (DEMO_DIR / "banking77" / "LICENSE.upstream").exists()
