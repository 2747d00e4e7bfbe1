"""`docgap alerts`: check the accounts' risk flags and send Slack alerts for new ones; list the open flags."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import AsJson, err, out, runtime
from core.runtime import Runtime

app = typer.Typer(
    help="Risk flags on accounts (question velocity, repeat requesters, sentiment drop, unanswered questions) and "
    "their Slack alerts.\n\nExample: `DOCGAP_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/… docgap alerts "
    "check` (re-running sends nothing new); `docgap alerts list --json`.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _flag_json(flag: Any) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(flag), default=str))


def _table(flags: list[Any], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "account", "flag", "severity", "raised", "summary"):
        table.add_column(column, justify="right" if column in ("id", "severity") else "left")
    for f in flags:
        table.add_row(str(f.id), escape(f.account), f.title, f"{f.severity:.2f}", f"{f.raised_at:%Y-%m-%d}",
                      escape(f.summary))  # fmt: skip
    return table


@app.command("check")
def check(as_json: AsJson = False) -> None:
    """Evaluate every account's risk flags now and post a Slack alert for each flag not yet alerted.

    Flags are raised, updated or cleared (README, "Risk flags"); with `DOCGAP_SLACK_WEBHOOK_URL` set, each raised
    flag is announced once. Exit status 1 when an alert could not be sent (it is retried on the next check).
    """
    from usecases.alerts import check_alerts
    from usecases.permissions import OPERATOR

    result = check_alerts(runtime(), OPERATOR)
    if as_json:
        print(json.dumps({
            "raised": [_flag_json(f) for f in result.raised],
            "cleared": [_flag_json(f) for f in result.cleared],
            "open": [_flag_json(f) for f in result.open],
            "sent": [f.id for f in result.sent],
            "failed": [{"flag": f.id, "error": e} for f, e in result.failed],
            "slack_configured": result.slack_configured,
        }, indent=1, ensure_ascii=False))  # fmt: skip
    else:
        counts = f"{len(result.raised)} raised, {len(result.cleared)} cleared, {len(result.open)} open"
        out.print(counts, highlight=False)
        if result.open:
            out.print(_table(result.open, "Open risk flags"))
        if not result.slack_configured:
            out.print("Slack alerts off: set DOCGAP_SLACK_WEBHOOK_URL to post raised flags.", highlight=False)
        elif result.sent:
            out.print(f"sent {len(result.sent)} Slack alert(s)", highlight=False)
    for f, error in result.failed:
        err.print(f"[bold red]error:[/] alert for flag #{f.id} not sent: {escape(error)}", highlight=False)
    if result.failed:
        raise typer.Exit(1)


@app.command("list")
def list_(
    account: Annotated[int | None, typer.Option(help="Only this account id.")] = None, as_json: AsJson = False
) -> None:
    """The open risk flags as of the last check, most severe first (`docgap alerts check` updates them)."""
    from usecases.alerts import list_flags
    from usecases.permissions import OPERATOR

    flags = list_flags(runtime(), OPERATOR, account)
    if as_json:
        print(json.dumps([_flag_json(f) for f in flags], indent=1, ensure_ascii=False))
        return
    if not flags:
        out.print("No open risk flags (run `docgap alerts check` to evaluate them).", highlight=False)
        return
    out.print(_table(flags, "Open risk flags"))
    for f in flags:
        out.print(f"#{f.id} {escape(f.account)}: {escape(f.evidence.text)}", highlight=False)


def deliver_report(rt: Runtime, week: Any) -> None:
    """`docgap report weekly --deliver`: send the archived week to each configured channel; exit 1 if one failed."""
    from usecases.delivery import deliver_weekly
    from usecases.permissions import OPERATOR

    result = deliver_weekly(rt, OPERATOR, week)
    for c in result.channels:
        line = f"{c.channel}: {c.status}" + (f" ({escape(c.detail)})" if c.detail else "")
        err.print(f"[bold red]error:[/] {line}" if c.status == "failed" else line, highlight=False)
    if result.failed:
        raise typer.Exit(1)
