"""`docgap alerts check` (and hourly while serving): evaluate the risk flags, alert Slack once per raised flag.

Every open flag whose alert has not gone out is sent, oldest first: a newly raised one, one whose send failed
last time, and, when a webhook is configured after flags were raised, those too (each once). A flag that
cleared before its alert went out is not announced. The delivery ledger (`delivery.ledger`) makes "once" hold
across restarts and concurrent runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.runtime import Runtime
from delivery import ledger
from delivery.slack import SlackError, flag_alert, post_message
from reports.risk import Flag, evaluate_flags, flags_to_alert, mark_alerted, open_flags
from usecases.permissions import Actor, Permission, require

ALERT_KIND = "flag_alert"


@dataclass(frozen=True)
class AlertCheck:
    raised: list[Flag]
    cleared: list[Flag]
    open: list[Flag]
    sent: list[Flag] = field(default_factory=list)
    failed: list[tuple[Flag, str]] = field(default_factory=list)
    slack_configured: bool = False

    def summary(self) -> str:
        counts = f"{len(self.raised)} raised, {len(self.cleared)} cleared, {len(self.open)} open"
        if not self.slack_configured:
            return f"{counts}; no Slack alerts (DOCGAP_SLACK_WEBHOOK_URL not set)"
        return f"{counts}; {len(self.sent)} alerts sent, {len(self.failed)} failed"


def check_alerts(runtime: Runtime, actor: Actor, now: datetime | None = None) -> AlertCheck:
    """Evaluate the flags as of `now` (default: the clock), then post an alert for each flag not yet alerted."""
    require(actor, Permission.DELIVER)
    changes = evaluate_flags(runtime, now)
    url = runtime.settings.slack_webhook_url
    if not url:
        return AlertCheck(changes.raised, changes.cleared, changes.open)
    sent, failed = [], []
    for flag in flags_to_alert(runtime):
        key = str(flag.id)
        if not ledger.claim(runtime, ALERT_KIND, key, "slack"):
            continue
        try:
            post_message(url, flag_alert(flag, runtime.settings.public_url))
        except SlackError as exc:
            ledger.finish(runtime, ALERT_KIND, key, "slack", str(exc), sent=False)
            failed.append((flag, str(exc)))
            continue
        ledger.finish(runtime, ALERT_KIND, key, "slack")
        mark_alerted(runtime, flag.id, runtime.clock())
        sent.append(flag)
    return AlertCheck(changes.raised, changes.cleared, changes.open, sent, failed, True)


def list_flags(runtime: Runtime, actor: Actor, account_id: int | None = None) -> list[Flag]:
    """The open flags as of the last check, most severe first (reading needs only READ)."""
    require(actor, Permission.READ)
    return open_flags(runtime, account_id)
