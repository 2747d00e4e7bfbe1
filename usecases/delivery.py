"""`docgap report weekly --deliver` (and hourly while serving): send the week's report to Slack and email, once.

The report is the archived one (`Report` row) for that week, built and saved first if the archive lacks it, so
what arrives is what the archive page shows. Each channel that is configured is sent once per week: the ledger
(`delivery.ledger`) records it, a restart or a second run sends nothing new, a failed channel is retried on the
next run and its error is kept. Run every hour while serving, it sends last week's report once the week is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from clustering.trends import week_start
from core.models import Report
from core.runtime import Runtime
from delivery import ledger
from delivery.email import EmailError, SmtpConfig, report_message, send
from delivery.slack import SlackError, post_message, weekly_report
from reports.weekly import build_weekly_report, last_complete_week, save_report
from usecases.permissions import Actor, Permission, require
from usecases.reports import weekly_report as archived_report

REPORT_KIND = "weekly_report"
CHANNELS = ("slack", "email")


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str
    status: str
    """"sent", "already sent" (or being sent by another run), "failed" or "not configured"."""
    detail: str = ""


@dataclass(frozen=True)
class WeeklyDelivery:
    week_start: date
    built: bool
    """True when the report had to be built and archived first."""
    channels: list[ChannelOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ChannelOutcome]:
        return [c for c in self.channels if c.status == "failed"]

    def summary(self) -> str:
        sent = "; ".join(f"{c.channel}: {c.status}" + (f" ({c.detail})" if c.detail else "") for c in self.channels)
        return f"week of {self.week_start:%Y-%m-%d}" + (" (report built first)" if self.built else "") + f": {sent}"


def smtp_config(runtime: Runtime) -> SmtpConfig | None:
    s = runtime.settings
    if not s.smtp_host or not s.report_recipient_list:
        return None
    return SmtpConfig(s.smtp_host, s.smtp_port, s.smtp_from, s.report_recipient_list, s.smtp_user, s.smtp_password,
                      s.smtp_ca_file)  # fmt: skip


def configured_channels(runtime: Runtime) -> list[str]:
    return [c for c, on in (("slack", bool(runtime.settings.slack_webhook_url)),
                            ("email", smtp_config(runtime) is not None)) if on]  # fmt: skip


def subject(row: Report) -> str:
    end = row.data.get("week_end", "")
    return f"docgap weekly report: week of {row.period_start.isoformat()}" + (f" to {end}" if end else "")


def deliver_weekly(runtime: Runtime, actor: Actor, week: date | None = None) -> WeeklyDelivery:
    """Send the report of `week` (any day in it; default: the last complete week) to each configured channel."""
    require(actor, Permission.DELIVER)
    start = week_start(week) if week else last_complete_week(runtime.clock())
    channels = configured_channels(runtime)
    row, built = archived_report(runtime, start), False
    if row is None and channels:
        row, built = save_report(runtime, build_weekly_report(runtime, start)), True
    outcomes = [ChannelOutcome(c, "not configured") for c in CHANNELS if c not in channels]
    for channel in channels:
        assert row is not None
        if not ledger.claim(runtime, REPORT_KIND, start.isoformat(), channel):
            outcomes.append(ChannelOutcome(channel, "already sent"))
            continue
        try:
            note = _send(runtime, channel, row)
        except (SlackError, EmailError) as exc:
            ledger.finish(runtime, REPORT_KIND, start.isoformat(), channel, str(exc), sent=False)
            outcomes.append(ChannelOutcome(channel, "failed", str(exc)))
            continue
        ledger.finish(runtime, REPORT_KIND, start.isoformat(), channel, note or None)
        outcomes.append(ChannelOutcome(channel, "sent", note))
    order = {c: i for i, c in enumerate(CHANNELS)}
    return WeeklyDelivery(start, built, sorted(outcomes, key=lambda o: order[o.channel]))


def _send(runtime: Runtime, channel: str, row: Report) -> str:
    """Send one channel; returns a note for the ledger (recipients the server refused), raises on failure."""
    public = runtime.settings.public_url.rstrip("/")
    if channel == "slack":
        post_message(runtime.settings.slack_webhook_url, weekly_report(row.data, public))
        return ""
    config = smtp_config(runtime)
    assert config is not None
    link = f"{public}/reports/weekly/{row.period_start.isoformat()}" if public else ""
    refused = send(config, report_message(config, subject(row), row.markdown, link))
    return f"refused by the server: {', '.join(refused)}" if refused else ""


def deliver_due_weekly(runtime: Runtime, actor: Actor) -> WeeklyDelivery | None:
    """The scheduled job: last complete week's report to every configured channel not yet sent (None: nothing to do)."""
    if not configured_channels(runtime):
        return None
    return deliver_weekly(runtime, actor)
