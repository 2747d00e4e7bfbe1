"""`docgap worker` and `docgap jobs`: the queue's worker, and what it is doing."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from cli.common import AsJson, fail, out, runtime

app = typer.Typer(
    help="Jobs (imports, syncs, clustering, reports, exports): list them and their errors, or start one now.\n\n"
    "With `DOCGAP_REDIS_URL` they are queued and `docgap worker` runs them; without, `docgap serve` does.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def worker(
    burst: Annotated[bool, typer.Option("--burst", help="Stop when the queue is empty (scripts, tests).")] = False,
) -> None:
    """Run queued jobs (and the schedule) until stopped; start as many as the load needs.

    Needs `DOCGAP_REDIS_URL`. The database is brought to this version's schema first, as `docgap serve` does.
    """
    from usecases.jobs import work

    rt = runtime()
    if rt.queue is None:
        fail("docgap worker needs a queue: set DOCGAP_REDIS_URL (for example redis://127.0.0.1:6379/0)")
    rt.engine  # noqa: B018  (opening the database migrates it)
    out.print(f"docgap worker: taking jobs from the queue{' until it is empty' if burst else ''}")
    work(rt, burst=burst)


@app.command("list")
def list_(as_json: AsJson = False) -> None:
    """Queued, scheduled (waiting to retry), running, failed and recently finished jobs."""
    from usecases.job_status import list_jobs
    from usecases.permissions import OPERATOR

    rt = runtime()
    if rt.queue is None:
        fail("no queue configured (DOCGAP_REDIS_URL): jobs run inside `docgap serve`; its Jobs page lists them")
    view = list_jobs(rt, OPERATOR)
    if as_json:
        print(json.dumps([asdict(j) for j in view.jobs], default=str, indent=1))
        return
    table = Table("id", "job", "state", "asked by", "enqueued", "error / result")
    for j in view.jobs:
        when = j.enqueued_at.strftime("%Y-%m-%d %H:%M") if j.enqueued_at else ""
        table.add_row(j.id[:8], j.name, j.state, j.requested_by, when, j.error or j.result)
    out.print(table)
    out.print(f"{view.depth} waiting in the queue")


@app.command("start")
def start(name: Annotated[str, typer.Argument(help="The job, e.g. 'full re-cluster', 'weekly report'.")]) -> None:
    """Enqueue a job now. Example: `docgap jobs start "gap assessment"`."""
    from usecases.job_status import start_job
    from usecases.permissions import OPERATOR

    rt = runtime()
    if rt.queue is None:
        fail("no queue configured (DOCGAP_REDIS_URL); without one, run the command itself (`docgap cluster`)")
    try:
        job_id = start_job(rt, OPERATOR, name)
    except KeyError as exc:
        fail(str(exc.args[0]))
    out.print(f"queued {name!r} as job {job_id}")
