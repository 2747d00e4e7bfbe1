"""`docgap tickets`: documentation-improvement tickets from gap topics, and their export to issue trackers."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from cli.common import AsJson, err, fail, out, runtime
from core.models import TICKET_STATUSES, TRACKERS

app = typer.Typer(
    help="Documentation-improvement tickets: write one from a topic, list them, export them to a tracker.\n\n"
    "Example: `docgap tickets create 12`, then `docgap tickets export 1 --to github` "
    "(`DOCGAP_GITHUB_REPO`, `DOCGAP_GITHUB_TOKEN`).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("create")
def create(
    topic_id: Annotated[int, typer.Argument(help="The topic id (`docgap topics`).")], as_json: AsJson = False
) -> None:
    """Write the ticket for a topic; a topic's open ticket is refreshed rather than written twice."""
    from usecases.permissions import OPERATOR
    from usecases.tickets import TicketError, create_ticket, ticket_markdown

    rt = runtime()
    try:
        ticket, created = create_ticket(rt, OPERATOR, topic_id)
    except (LookupError, TicketError) as exc:
        fail(str(exc))
        return
    if as_json:
        print(json.dumps({**asdict(ticket), "created": created}, indent=1, ensure_ascii=False))
        return
    err.print(f"{'created' if created else 'refreshed'} ticket #{ticket.id} for topic #{topic_id}", highlight=False)
    print(ticket_markdown(rt, OPERATOR, ticket.id), end="")


@app.command("list")
def list_(as_json: AsJson = False) -> None:
    """Every ticket, newest first, with where it was exported."""
    from usecases.permissions import OPERATOR
    from usecases.tickets import list_tickets

    tickets = list_tickets(runtime(), OPERATOR)
    if as_json:
        print(json.dumps([asdict(t) for t in tickets], indent=1, ensure_ascii=False))
        return
    if not tickets:
        out.print("No tickets yet: `docgap tickets create TOPIC_ID` (`docgap topics` lists the gaps).")
        return
    table = Table("id", "topic", "title", "status", "outline", "target page", "exported to")
    for t in tickets:
        target = ("new: " if t.target_is_new else "") + t.target_page
        table.add_row(str(t.id), f"#{t.topic_id}", t.title, t.status, t.outline_mode, target,
                      "\n".join(f"{e.tracker}: {e.url}" for e in t.exports) or "—")  # fmt: skip
    out.print(table)


@app.command("status")
def status(
    ticket_id: Annotated[int, typer.Argument(help="The ticket id.")],
    value: Annotated[str, typer.Argument(help=f"One of {', '.join(TICKET_STATUSES)}.")],
) -> None:
    """Set a ticket's status (the next export moves its issues: GitHub, Asana, Jira and Linear)."""
    from usecases.permissions import OPERATOR
    from usecases.tickets import TicketError, set_ticket_status

    try:
        t = set_ticket_status(runtime(), OPERATOR, ticket_id, value)
    except (LookupError, TicketError) as exc:
        fail(str(exc))
        return
    out.print(f"ticket #{t.id} is {t.status.replace('_', ' ')}")


@app.command("export")
def export(
    ticket_ids: Annotated[list[int] | None, typer.Argument(help="Ticket ids; none: every open ticket.")] = None,
    to: Annotated[str, typer.Option("--to", help=f"Where to: {', '.join(TRACKERS)}.")] = "markdown",
    as_json: AsJson = False,
) -> None:
    """Export tickets to a tracker; exporting again updates the issues it created instead of opening new ones.

    Exporting again also compares statuses: when the issue moved in the tracker since the last export (closed,
    done, reopened, in progress), the ticket takes its status; when the ticket moved instead, the issue is moved
    (GitHub open/closed, Asana completed, a Jira transition, a Linear workflow state).

    Settings per tracker: GitHub `DOCGAP_GITHUB_REPO`, `DOCGAP_GITHUB_TOKEN`; Jira `DOCGAP_JIRA_URL`,
    `DOCGAP_JIRA_EMAIL`, `DOCGAP_JIRA_TOKEN`, `DOCGAP_JIRA_PROJECT`; Linear `DOCGAP_LINEAR_TOKEN`,
    `DOCGAP_LINEAR_TEAM_ID`; Asana `DOCGAP_ASANA_TOKEN`, `DOCGAP_ASANA_PROJECT`; Markdown `DOCGAP_TICKETS_DIR`.
    """
    from trackers import TrackerError
    from usecases.permissions import OPERATOR
    from usecases.tickets import TicketError, export_tickets

    try:
        results = export_tickets(runtime(), OPERATOR, ticket_ids or [], to)
    except (LookupError, TicketError, TrackerError) as exc:
        fail(str(exc))
        return
    if as_json:
        print(json.dumps([asdict(r) for r in results], indent=1))
    elif not results:
        out.print("No open tickets to export.")
    for r in results if not as_json else []:
        if r.action == "failed":
            err.print(f"[red]ticket #{r.ticket_id} failed:[/] {r.error}", highlight=False)
        else:
            moved = f" · status {r.status_was} → {r.status} (the issue: {r.external_status})" if r.status_was else ""
            out.print(f"ticket #{r.ticket_id}: {r.action} {r.url}{moved}", highlight=False)
        if r.note:
            err.print(f"[yellow]ticket #{r.ticket_id}:[/] {r.note}", highlight=False)
    if any(r.action == "failed" for r in results):
        raise typer.Exit(2)
