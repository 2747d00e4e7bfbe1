"""Alerts and weekly delivery end to end on the demo, against a local Slack webhook and a local SMTP server:
each flag and each week is sent once per channel (across runs and restarts), a failure is retried next run."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date

import pytest

from core.runtime import Runtime
from delivery.ledger import entries
from reports.risk import open_flags
from tests.commandline import docgap as run_docgap
from tests.conftest import make_runtime
from tests.delivery.servers import SlackWebhook, SmtpServer, block_kit_problems
from usecases.alerts import check_alerts
from usecases.delivery import deliver_weekly
from usecases.permissions import OPERATOR, PermissionDenied, user_actor

RECIPIENTS = "cs-lead@fernpay.example, vp@fernpay.example"


@pytest.fixture()
def hook() -> Iterator[SlackWebhook]:
    with SlackWebhook() as server:
        yield server


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _configured(rt: Runtime, hook: SlackWebhook | None = None, smtp_port: int | None = None) -> Runtime:
    """A runtime over the same data dir with delivery settings (as after a restart with a new configuration)."""
    settings: dict[str, object] = {"public_url": "https://docgap.example.com"}
    if hook:
        settings["slack_webhook_url"] = hook.url
    if smtp_port:
        settings.update(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_from="docgap@fernpay.example",
                        report_recipients=RECIPIENTS)  # fmt: skip
    return make_runtime(rt.settings.data_dir, rt.embedder, **settings)


def test_alerts_sent_once_per_flag_across_runs_and_restarts(demo_copy: Runtime, hook: SlackWebhook) -> None:
    rt = _configured(demo_copy, hook)
    first = check_alerts(rt, OPERATOR)
    assert first.slack_configured and first.raised and first.failed == []
    assert {f.id for f in first.sent} == {f.id for f in first.raised}
    assert len(hook.accepted) == len(first.raised) == len(hook.posts)
    for body in hook.accepted:
        assert block_kit_problems(body) == []
    velocity = next(f for f in first.raised if f.kind == "velocity")
    assert velocity.account == "Brightline Logistics"
    assert any("Brightline Logistics" in b["text"] and "velocity" in b["text"] for b in hook.accepted)
    assert all(f.alerted_at is not None for f in open_flags(rt))

    assert check_alerts(rt, OPERATOR).sent == []
    assert check_alerts(_configured(demo_copy, hook), OPERATOR).sent == []  # a restart
    assert len(hook.posts) == len(first.raised)
    assert {e.key for e in entries(rt, "flag_alert")} == {str(f.id) for f in first.raised}


def test_failed_alert_is_retried_on_the_next_check(demo_copy: Runtime, hook: SlackWebhook) -> None:
    rt = _configured(demo_copy, hook)
    hook.fail_always = (404, "no_service")
    failed = check_alerts(rt, OPERATOR)
    assert failed.sent == [] and len(failed.failed) == len(failed.raised) > 0
    assert all("no_service" in error for _, error in failed.failed)
    assert {e.status for e in entries(rt, "flag_alert")} == {"failed"}
    hook.fail_always = None
    retried = check_alerts(rt, OPERATOR)
    assert retried.raised == [] and {f.id for f in retried.sent} == {f.id for f, _ in failed.failed}
    assert all(e.status == "sent" and e.attempts == 2 and e.error is None for e in entries(rt, "flag_alert"))
    assert check_alerts(rt, OPERATOR).sent == []


def test_flags_raised_before_slack_was_configured_are_announced_once(demo_copy: Runtime, hook: SlackWebhook) -> None:
    off = check_alerts(demo_copy, OPERATOR)
    assert not off.slack_configured and off.raised and off.sent == [] and hook.posts == []
    on = check_alerts(_configured(demo_copy, hook), OPERATOR)
    assert on.raised == [] and {f.id for f in on.sent} == {f.id for f in off.raised}


def test_weekly_report_delivered_once_per_week_and_channel(
    demo_copy: Runtime, hook: SlackWebhook, smtp: SmtpServer
) -> None:
    rt = _configured(demo_copy, hook, smtp.port)
    first = deliver_weekly(rt, OPERATOR)
    assert first.week_start == date(2026, 11, 16) and not first.built  # the demo archived it
    assert [(c.channel, c.status) for c in first.channels] == [("slack", "sent"), ("email", "sent")]
    [body] = hook.accepted
    assert block_kit_problems(body) == [] and "2026-11-16" in body["blocks"][0]["text"]["text"]
    assert "https://docgap.example.com/reports/weekly/2026-11-16" in json.dumps(body)
    [mail] = smtp.received
    assert mail.recipients == ["cs-lead@fernpay.example", "vp@fernpay.example"]
    assert "2026-11-16" in mail.message["Subject"]
    assert mail.message.get_body(("plain",)) is not None and mail.message.get_body(("html",)) is not None
    assert "Recurring questions" in mail.message.get_body(("html",)).get_content()

    again = deliver_weekly(rt, OPERATOR)
    assert [c.status for c in again.channels] == ["already sent", "already sent"]
    restarted = deliver_weekly(_configured(demo_copy, hook, smtp.port), OPERATOR, date(2026, 11, 18))
    assert [c.status for c in restarted.channels] == ["already sent", "already sent"]
    assert len(hook.posts) == 1 and len(smtp.received) == 1

    earlier = deliver_weekly(rt, OPERATOR, date(2026, 11, 11))  # not archived yet: built, archived, sent
    assert earlier.week_start == date(2026, 11, 9) and earlier.built
    assert [c.status for c in earlier.channels] == ["sent", "sent"] and len(smtp.received) == 2
    assert "2026-11-09" in smtp.received[1].message["Subject"]


def test_failed_channel_is_retried_and_its_error_kept(demo_copy: Runtime, hook: SlackWebhook) -> None:
    with SmtpServer() as stopped:
        port = stopped.port
    rt = _configured(demo_copy, hook, port)
    hook.fail_always = (404, "no_service")
    first = deliver_weekly(rt, OPERATOR)
    assert [c.status for c in first.channels] == ["failed", "failed"]
    ledger = {e.channel: e for e in entries(rt, "weekly_report")}
    assert "no_service" in (ledger["slack"].error or "") and "could not send" in (ledger["email"].error or "")
    hook.fail_always = None
    with SmtpServer(port=port) as back:
        second = deliver_weekly(rt, OPERATOR)
        assert [c.status for c in second.channels] == ["sent", "sent"] and len(back.received) == 1
        assert [c.status for c in deliver_weekly(rt, OPERATOR).channels] == ["already sent", "already sent"]
    ledger = {e.channel: e for e in entries(rt, "weekly_report")}
    assert all(e.status == "sent" and e.attempts == 2 and e.error is None for e in ledger.values())
    assert len(hook.accepted) == 1


def test_only_admins_and_the_operator_deliver(demo_copy: Runtime) -> None:
    for role in ("account_manager", "docs_writer"):
        with pytest.raises(PermissionDenied):
            check_alerts(demo_copy, user_actor("someone", role))
        with pytest.raises(PermissionDenied):
            deliver_weekly(demo_copy, user_actor("someone", role))
    assert deliver_weekly(demo_copy, user_actor("boss", "admin")).channels[0].status == "not configured"


def test_command_line_alerts_and_report_delivery(demo_copy: Runtime, hook: SlackWebhook, smtp: SmtpServer) -> None:
    """`docgap alerts` and `docgap report weekly --deliver` configured by DOCGAP_* variables (in this process,
    through the console script's `main`: see `tests.commandline`)."""
    env = {"DOCGAP_SLACK_WEBHOOK_URL": hook.url, "DOCGAP_SMTP_HOST": "127.0.0.1", "DOCGAP_SMTP_PORT": str(smtp.port),
           "DOCGAP_SMTP_FROM": "docgap@fernpay.example", "DOCGAP_REPORT_RECIPIENTS": RECIPIENTS}  # fmt: skip

    def docgap(*args: str) -> subprocess.CompletedProcess[str]:
        return run_docgap(args, demo_copy.settings.data_dir, check=False, env=env)

    checked = docgap("alerts", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)
    assert any(f["account"] == "Brightline Logistics" and f["kind"] == "velocity" for f in result["raised"])
    assert sorted(result["sent"]) == sorted(f["id"] for f in result["raised"]) and len(hook.accepted) == len(
        result["sent"]
    )
    listed = json.loads(docgap("alerts", "list", "--json").stdout)
    assert [f["id"] for f in listed] == [f["id"] for f in result["open"]]
    delivered = docgap("report", "weekly", "--week", "2026-11-16", "--deliver", "--json")
    assert delivered.returncode == 0, delivered.stderr
    assert json.loads(delivered.stdout)["week_start"] == "2026-11-16"
    assert "slack: sent" in delivered.stderr and "email: sent" in delivered.stderr and len(smtp.received) == 1
