"""The delivery ledger's claims: once sent never again, a failure is claimable, a live claim blocks, a dead one not."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from core.runtime import Runtime
from core.settings import Settings
from delivery.ledger import STALE_CLAIM, claim, entries, finish


def test_claims(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 24, 9)]
    rt = Runtime(Settings(data_dir=tmp_path / "data", _env_file=None), clock=lambda: now[0])  # type: ignore[call-arg]
    assert claim(rt, "weekly_report", "2026-11-16", "slack")
    assert not claim(rt, "weekly_report", "2026-11-16", "slack"), "someone is sending it"
    assert claim(rt, "weekly_report", "2026-11-16", "email"), "channels are independent"
    finish(rt, "weekly_report", "2026-11-16", "slack", "Slack answered 503", sent=False)
    assert claim(rt, "weekly_report", "2026-11-16", "slack"), "a failure is retried"
    finish(rt, "weekly_report", "2026-11-16", "slack")
    assert not claim(rt, "weekly_report", "2026-11-16", "slack"), "sent once"
    now[0] += STALE_CLAIM + timedelta(seconds=1)
    assert claim(rt, "weekly_report", "2026-11-16", "email"), "a claim whose sender died is taken over"
    by_channel = {e.channel: e for e in entries(rt, "weekly_report")}
    assert by_channel["slack"].status == "sent" and by_channel["slack"].attempts == 2
    assert by_channel["slack"].error is None and by_channel["email"].attempts == 2
