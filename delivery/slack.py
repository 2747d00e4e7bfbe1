"""Slack incoming webhooks: Block Kit messages for a risk flag and for the weekly report, posted with retries.

An incoming webhook (https://api.slack.com/messaging/webhooks) takes a JSON body with `blocks` and a `text`
fallback (shown in notifications and by clients that cannot render blocks). Slack answers `200 ok`, `429` with
`Retry-After` when rate limited, or a 4xx with a short reason (`invalid_payload`, `no_service`, …). 429, 5xx and
network errors are retried a few times; anything else is a `SlackError` that names Slack's reason. The webhook
URL is a secret (anyone holding it can post), so no error message includes it.

Customer text (account names, topic labels, evidence) is escaped for mrkdwn: `&`, `<` and `>` are the control
characters Slack parses (links, mentions such as `<!channel>`), so escaping them keeps text literal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from reports.risk import Flag

ATTEMPTS = 4
"""Tries per message: the first and three retries (about 1 + 2 + 4 s apart unless Slack says how long)."""
MAX_RETRY_AFTER = 60.0
"""Longest `Retry-After` obeyed; Slack asks for seconds, and a job must not hang on a bad header."""
TIMEOUT = 15.0
MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150


class SlackError(Exception):
    """The webhook refused the message, or kept failing; the message says why (never the URL)."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SlackMessage:
    text: str
    """The fallback: notifications and clients without Block Kit show this."""
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks[:MAX_BLOCKS]}


def escape(text: str) -> str:
    """Text shown literally in mrkdwn: no link, mention or markup can come out of `&`, `<`, `>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Retryable) and exc.retry_after is not None:
        return min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER)
    return float(2 ** (state.attempt_number - 1))


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def post_message(
    webhook_url: str,
    message: SlackMessage,
    *,
    attempts: int = ATTEMPTS,
    timeout: float = TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """POST the message to the webhook; retried on 429/5xx/network errors, `SlackError` when it cannot be sent."""
    if not webhook_url.startswith(("https://", "http://")):
        raise SlackError("DOCGAP_SLACK_WEBHOOK_URL must be an http(s) URL (https://hooks.slack.com/services/…)")

    def once(client: httpx.Client) -> None:
        try:
            r = client.post(webhook_url, json=message.payload())
        except httpx.HTTPError as exc:
            raise _Retryable(f"could not reach the Slack webhook: {type(exc).__name__}") from None
        reason = r.text.strip()[:200]
        if r.status_code == 429 or r.status_code >= 500:
            wait = _retry_after(r.headers.get("Retry-After"))
            raise _Retryable(f"Slack answered {r.status_code} {reason}".strip(), wait)
        if r.status_code >= 300:
            raise SlackError(f"Slack refused the message: {r.status_code} {reason}".strip())

    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
        retrying = Retrying(stop=stop_after_attempt(max(attempts, 1)), wait=_wait, sleep=sleep,
                            retry=retry_if_exception_type(_Retryable), reraise=True)  # fmt: skip
        try:
            retrying(once, client)
        except _Retryable as exc:
            raise SlackError(f"{exc} (gave up after {attempts} attempts)") from None


# --- Block Kit builders ------------------------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(" ".join(text.split()), HEADER_LIMIT)}}


def section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(mrkdwn, SECTION_LIMIT)}}


def context(*mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(t, 2000)} for t in mrkdwn[:10]]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def link(public_url: str, path: str, label: str) -> str:
    """A mrkdwn link to one of our pages, or the label alone when no public URL is configured (Slack needs one)."""
    if not public_url:
        return escape(label)
    return f"<{escape(public_url.rstrip('/') + path)}|{escape(label).replace('|', '¦')}>"


def flag_alert(flag: Flag, public_url: str = "") -> SlackMessage:
    """A raised risk flag: who, what, why (the evidence in one paragraph) and where to look."""
    e = flag.evidence
    links = [link(public_url, p, p) for p in e.links] if public_url else []
    weeks = ", ".join(w.isoformat() for w in e.weeks[-6:])
    blocks = [
        header(f"Risk flag: {flag.account} — {flag.title}"),
        section(f"*{escape(flag.account)}*: {escape(flag.summary or flag.title)}"),
        section(escape(e.text)),
        context(
            f"severity {flag.severity:.2f} (1.00 = at the threshold) · raised {flag.raised_at:%Y-%m-%d %H:%M} UTC",
            f"{len(e.question_ids)} questions as evidence" + (f" · weeks {weeks}" if weeks else ""),
        ),
    ]
    if links:
        blocks.append(section("  ·  ".join(links)))
    text = f"Risk flag on {escape(flag.account)}: {escape(flag.title)} — {escape(flag.summary)}"
    return SlackMessage(text, blocks)


def weekly_report(data: Mapping[str, Any], public_url: str = "") -> SlackMessage:
    """The weekly report (its saved `Report.data`) as a digest of each section, linked to the full report."""
    start, end = str(data.get("week_start", "")), str(data.get("week_end", ""))
    mode = "LLM" if data.get("mode") == "llm" else "offline template (no LLM configured)"
    change = data.get("total_change_pct")
    week_over_week = f", {change:+d}% week over week" if isinstance(change, int) else ""
    blocks: list[dict[str, Any]] = [
        header(f"Weekly recurring questions: {start} to {end}"),
        section(f"*{data.get('total', 0)} questions* this week ({data.get('previous_total', 0)} the week before"
                f"{week_over_week})." + (f"\n{escape(str(data['summary']))}" if data.get("summary") else "")),
    ]  # fmt: skip

    def topics(key: str, title: str, line: Callable[[Mapping[str, Any]], str]) -> None:
        rows = [t for t in data.get(key) or [] if isinstance(t, Mapping)][:5]
        if rows:
            items = "\n".join(f"• {link(public_url, '/topics/' + str(t.get('id')), str(t.get('label', '')))} {line(t)}"
                              for t in rows)  # fmt: skip
            blocks.extend([divider(), section(f"*{title}*\n{items}")])

    topics("top_topics", "Most asked", lambda t: f"— {t.get('count', 0)} ({t.get('previous', 0)} the week before)")
    topics("new_topics", "New and growing", lambda t: f"— {t.get('trend', '')}: {t.get('count', 0)} this week")
    topics("top_gaps", "Biggest documentation gaps",
           lambda t: f"— {t.get('gap_kind', '')}, gap score {t.get('gap_score', 0)}")  # fmt: skip
    topics("movers", "Biggest moves week over week",
           lambda t: f"— {t.get('count', 0)} ({t.get('previous', 0)} the week before)")  # fmt: skip
    topics("gaps_closed", "Gaps closed", lambda t: f"— marked {t.get('status', '')} on {t.get('on', '')}")
    impact = [d for d in data.get("doc_impact") or [] if isinstance(d, Mapping)][:5]
    if impact:
        lines = [f"• {link(public_url, '/topics/' + str(d.get('topic_id')), str(d.get('label', '')))}: "
                 f"{escape(str(d.get('verdict', '')))}" for d in impact]  # fmt: skip
        blocks.extend([divider(), section("*Doc impact*\n" + "\n".join(lines))])
    rising = [s for s in data.get("rising_accounts") or [] if isinstance(s, Mapping)][:5]
    if rising:
        lines = []
        for s in rising:
            labels = ", ".join(f"“{escape(str(label))}”" for _, label in (s.get("topics") or [])[:2])
            weekly = " ".join(str(n) for n in s.get("focus_weekly", [])[-4:])
            lines.append(f"• *{escape(str(s.get('account', '')))}*: {labels} rising ({weekly} in the last 4 weeks)")
        blocks.extend([divider(), section("*Accounts asking more and more*\n" + "\n".join(lines))])
    full = link(public_url, f"/reports/weekly/{start}", "the full report") if public_url else "the report in docgap"
    blocks.append(context(f"Summary written by the {mode}. Read {full}."))
    return SlackMessage(f"Weekly recurring questions {start} to {end}: {data.get('total', 0)} questions", blocks)
