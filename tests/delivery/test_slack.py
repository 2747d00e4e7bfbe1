"""Slack incoming webhooks against a local server that answers like Slack: Block Kit bodies, retries, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from delivery.slack import SlackError, escape, flag_alert, post_message, weekly_report
from reports.risk import Flag, FlagEvidence
from tests.delivery.servers import SlackWebhook, block_kit_problems


@pytest.fixture()
def hook() -> Iterator[SlackWebhook]:
    with SlackWebhook() as server:
        yield server


def _flag(account: str = "Brightline Logistics", text: str = "Questions about “transfer” rose.") -> Flag:
    evidence = FlagEvidence(text, [11, 12], [date(2026, 11, 9), date(2026, 11, 16)],
                            ["/topics/5", "/accounts/3/timeline"])  # fmt: skip
    return Flag(7, 3, account, "velocity", "Question velocity rising", 1.4, datetime(2026, 11, 24, 9), None, evidence,
                "“transfer” rising: 18 questions in 4 weeks")  # fmt: skip


def test_flag_alert_is_block_kit_with_links_and_is_accepted(hook: SlackWebhook) -> None:
    message = flag_alert(_flag(), "https://docgap.example.com/")
    assert block_kit_problems(message.payload()) == []
    post_message(hook.url, message)
    [body] = hook.accepted
    assert body["blocks"][0]["type"] == "header" and "Brightline Logistics" in body["blocks"][0]["text"]["text"]
    flat = str(body)
    assert "<https://docgap.example.com/topics/5|/topics/5>" in flat
    assert "<https://docgap.example.com/accounts/3/timeline|/accounts/3/timeline>" in flat
    assert "Brightline Logistics" in body["text"] and "2026-11-16" in flat


def test_customer_text_cannot_mention_or_link(hook: SlackWebhook) -> None:
    evil = _flag("Evil & Co <!channel>", "see <https://evil.example|your invoice> & <@U123>")
    body = flag_alert(evil, "https://docgap.example.com").payload()
    sections = " ".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert "<!channel>" not in sections and "<https://evil.example" not in sections and "<@U123>" not in sections
    assert "Evil &amp; Co &lt;!channel&gt;" in sections and "&lt;https://evil.example|your invoice&gt;" in sections
    assert "<!channel>" not in body["text"]
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    # The plain-text header is not parsed by Slack: it keeps the name as written.
    assert "Evil & Co <!channel>" in body["blocks"][0]["text"]["text"]


def test_without_a_public_url_pages_are_named_not_linked() -> None:
    body = flag_alert(_flag()).payload()
    assert "/topics/5" not in str(body) and "http" not in str(body)


def test_retries_on_500_and_honours_retry_after_on_429(hook: SlackWebhook) -> None:
    waits: list[float] = []
    hook.fail_next = [(500, "internal_error", {}), (429, "rate_limited", {"Retry-After": "3"})]
    post_message(hook.url, flag_alert(_flag()), sleep=waits.append)
    assert len(hook.posts) == 3 and len(hook.accepted) == 1
    assert waits == [1.0, 3.0], "exponential back-off after a 500, Slack's Retry-After after a 429"


def test_gives_up_after_the_attempts_and_says_why_without_the_url(hook: SlackWebhook) -> None:
    hook.fail_always = (503, "service_unavailable")
    waits: list[float] = []
    with pytest.raises(SlackError) as exc:
        post_message(hook.url, flag_alert(_flag()), attempts=3, sleep=waits.append)
    assert "503" in str(exc.value) and "3 attempts" in str(exc.value) and "secret" not in str(exc.value)
    assert len(hook.posts) == 3 and waits == [1.0, 2.0]


def test_a_refusal_is_not_retried(hook: SlackWebhook) -> None:
    with pytest.raises(SlackError, match="404 no_service") as exc:
        post_message(hook.url.replace("secret", "revoked"), flag_alert(_flag()), sleep=lambda s: None)
    assert len(hook.posts) == 1 and "revoked" not in str(exc.value)
    with pytest.raises(SlackError, match="http"):
        post_message("hooks.slack.com/services/x", flag_alert(_flag()))


def test_unreachable_webhook_is_a_clear_error() -> None:
    with SlackWebhook() as gone:
        url = gone.url
    with pytest.raises(SlackError, match="could not reach the Slack webhook"):
        post_message(url, flag_alert(_flag()), attempts=2, sleep=lambda s: None)


def test_weekly_report_digest(hook: SlackWebhook) -> None:
    data = {
        "week_start": "2026-11-16", "week_end": "2026-11-22", "total": 81, "previous_total": 77, "mode": "offline",
        "summary": "Card <b>delivery</b> & PINs led.",
        "top_topics": [{"id": 4, "label": "card delivery <!here>", "count": 9, "previous": 5}],
        "new_topics": [], "top_gaps": [{"id": 8, "label": "refunds", "gap_kind": "missing", "gap_score": 41.0}],
        "rising_accounts": [{"account": "Brightline Logistics", "topics": [[5, "transfer not received"]],
                             "focus_weekly": [1, 2, 3, 4, 5, 6]}],
    }  # fmt: skip
    message = weekly_report(data, "https://docgap.example.com")
    post_message(hook.url, message)
    [body] = hook.accepted
    flat = str(body)
    assert "2026-11-16" in body["blocks"][0]["text"]["text"] and "81 questions" in flat
    assert "<https://docgap.example.com/topics/4|card delivery &lt;!here&gt;>" in flat and "<!here>" not in flat
    assert "&lt;b&gt;delivery&lt;/b&gt; &amp; PINs" in flat
    assert "<https://docgap.example.com/reports/weekly/2026-11-16|the full report>" in flat
    assert "Brightline Logistics" in flat and "3 4 5 6" in flat
    assert "Gaps closed" not in flat and "Doc impact" not in flat, "empty sections are left out"


def test_weekly_digest_carries_week_over_week_closed_gaps_and_doc_impact(hook: SlackWebhook) -> None:
    data = {
        "week_start": "2026-11-16", "week_end": "2026-11-22", "total": 81, "previous_total": 60,
        "total_change_pct": 35, "mode": "offline",
        "movers": [{"id": 3, "label": "PIN resets", "count": 12, "previous": 4}],
        "gaps_closed": [{"id": 7, "label": "refund <times>", "status": "documented", "on": "2026-11-18"}],
        "doc_impact": [{"topic_id": 9, "label": "card limits", "verdict": "down 60% in the 4 weeks since"}],
    }  # fmt: skip
    post_message(hook.url, weekly_report(data, "https://docgap.example.com"))
    [body] = hook.accepted
    flat = str(body)
    assert "+35% week over week" in flat
    assert "*Biggest moves week over week*" in flat and "— 12 (4 the week before)" in flat
    assert "<https://docgap.example.com/topics/7|refund &lt;times&gt;> — marked documented on 2026-11-18" in flat
    assert "<https://docgap.example.com/topics/9|card limits>: down 60% in the 4 weeks since" in flat
