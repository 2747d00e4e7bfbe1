"""The `docgap` command line: thin commands over the pipeline functions.

Every command reads the same settings (`DOCGAP_*` variables and `.env`); `--json` output is for machines,
tables and progress bars are for people, and failures are one clear line on stderr with a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.alerts import app as alerts_app
from cli.backup import app as backup_app
from cli.briefs import app as briefs_app
from cli.common import err, fail, out, runtime
from cli.db import app as db_app
from cli.jobs import app as jobs_app
from cli.jobs import worker
from cli.tickets import app as tickets_app
from core.runtime import Runtime
from ingest.records import IngestError, QuestionRecord

app = typer.Typer(
    help="docgap: find what customers keep asking that your docs do not answer.\n\n"
    "Quick start: `docgap demo` builds a demo data set, analyses it and serves it on http://127.0.0.1:8000.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,  # a traceback's locals would print settings, keys and tokens
)
ingest_app = typer.Typer(help="Import questions (Zendesk, Slack, CSV) and documentation.", no_args_is_help=True)
accounts_app = typer.Typer(help="Manage customer accounts (CRM import).", no_args_is_help=True)
topics_app = typer.Typer(help="List recurring question topics, or export question→topic assignments.")
report_app = typer.Typer(help="Generate reports.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys for the `/v1` JSON API.", no_args_is_help=True)
users_app = typer.Typer(help="Create, list and disable the people who log in to the pages.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(accounts_app, name="accounts")
app.add_typer(topics_app, name="topics")
app.add_typer(report_app, name="report")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(briefs_app, name="brief")
app.add_typer(tickets_app, name="tickets")
app.add_typer(alerts_app, name="alerts")
app.add_typer(backup_app)  # `docgap backup`, `docgap restore`: top-level commands
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker)


@contextmanager
def _progress() -> Iterator[Callable[[str, int | None], Callable[[int], None]]]:
    """A rich progress display handed to the pipeline as its `Progress` callback (on stderr, off when piped)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:

        def start(name: str, total: int | None) -> Callable[[int], None]:
            task = bar.add_task(name, total=total)
            return lambda n: bar.advance(task, n)

        yield start


def _report_import(result, label: str) -> None:  # type: ignore[no-untyped-def]
    out.print(f"{label}: {result.summary()}")
    for e in result.errors[:20]:
        err.print(f"[yellow]  {e}[/]")
    if len(result.errors) > 20:
        err.print(f"[yellow]  … and {len(result.errors) - 20} more errors[/]")
    if result.errors:
        raise typer.Exit(2)


def _check_file(path: Path) -> None:
    if not path.exists():
        fail(f"{path} does not exist")


def _import_questions(kind: str, path: Path, read: Callable[[Runtime], Iterable[QuestionRecord | IngestError]]) -> None:
    """The body every question-import command shares: check the path, import with progress, report, exit code."""
    _check_file(path)
    from usecases.pipeline import import_questions

    rt = runtime()
    with _progress() as p:
        result = import_questions(rt, read(rt), p, location=str(path))
    _report_import(result, f"{kind} {path}")


@ingest_app.command("docs")
def ingest_docs(
    path: Annotated[
        Path | None,
        typer.Argument(help="Folder of pages (.md, .markdown, .mdx, .html, .htm, .rst), searched recursively."),
    ] = None,
    sitemap: Annotated[
        str | None, typer.Option(help="Crawl a docs site instead: URL of its sitemap.xml (or sitemap index).")
    ] = None,
    openapi: Annotated[
        Path | None, typer.Option(help="Index an OpenAPI spec (JSON or YAML) instead: one passage per operation.")
    ] = None,
    max_pages: Annotated[int | None, typer.Option(help="With --sitemap: fetch at most this many pages.")] = None,
    concurrency: Annotated[int, typer.Option(help="With --sitemap: pages fetched at once.")] = 4,
    source: Annotated[
        str | None, typer.Option(help="Name of this doc source (default: the folder's path, sitemap URL or spec path).")
    ] = None,
) -> None:
    """Index documentation for answers and coverage: a folder, a site (via its sitemap), or an OpenAPI spec.

    Re-running re-indexes only changed pages and drops pages that were deleted. Pages that fail to fetch are
    reported by URL (exit status 2) and keep their previous passages.

    Example: `docgap ingest docs ./helpcenter`

    Example: `docgap ingest docs --sitemap https://docs.example.com/sitemap.xml --max-pages 500`

    Example: `docgap ingest docs --openapi openapi.yaml`
    """
    if sum(x is not None for x in (path, sitemap, openapi)) != 1:
        fail("give exactly one of a folder, --sitemap URL or --openapi FILE")
    if path is not None and not path.is_dir():
        fail(f"{path} is not a folder")
    if openapi is not None:
        _check_file(openapi)
    from ingest.site import CrawlOptions
    from usecases.pipeline import import_docs

    rt = runtime()
    crawl = CrawlOptions(max_pages=max_pages, concurrency=concurrency)
    with _progress() as p:
        result = import_docs(rt, path, source, p, sitemap=sitemap, openapi=openapi, crawl=crawl)
    _report_import(result, f"docs from {path or sitemap or openapi}")


@ingest_app.command("zendesk")
def ingest_zendesk(
    file: Annotated[
        Path, typer.Argument(help="Zendesk ticket export: JSON (tickets + users + organizations) or NDJSON.")
    ],
) -> None:
    """Import a Zendesk ticket export.

    Subject + first comment is the question; the first agent reply is kept as the staff answer. Re-importing the
    same file adds nothing.

    Example: `docgap ingest zendesk tickets.json`
    """
    from ingest.zendesk import read_zendesk

    _import_questions(
        "zendesk", file, lambda rt: read_zendesk(file, rt.settings.staff_domain_list, rt.settings.zendesk_team_field)
    )


@ingest_app.command("slack")
def ingest_slack(
    export: Annotated[Path, typer.Argument(help="Slack workspace export zip (channels.json, users.json, day files).")],
) -> None:
    """Import a Slack workspace export zip.

    Each thread's first customer message is a question; replies by staff (see `DOCGAP_STAFF_DOMAINS`) become its
    staff answer. Chatter ("thanks!", reactions, announcements), joins, bots and staff posts are skipped and
    counted (`docgap sources`); everything else is kept, terse requests ("card not working") included.

    Example: `DOCGAP_STAFF_DOMAINS=fernpay.com docgap ingest slack export.zip`
    """
    from ingest.slack import read_slack_export

    _import_questions("slack", export, lambda rt: read_slack_export(export, rt.settings.staff_domain_list))


@ingest_app.command("email")
def ingest_email(
    path: Annotated[Path, typer.Argument(help="An mbox file, or a folder of .eml files (searched recursively).")],
) -> None:
    """Import email threads.

    The first customer message of a thread is the question; the first reply from `DOCGAP_STAFF_DOMAINS` is its
    staff answer; quoted history and signatures are removed; the sender's domain maps it to an account.

    Example: `DOCGAP_STAFF_DOMAINS=mycompany.com docgap ingest email support.mbox`
    """
    from ingest.mail import read_email

    _import_questions("email", path, lambda rt: read_email(path, rt.settings.staff_domain_list))


@ingest_app.command("csv")
def ingest_csv(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    text_column: Annotated[str, typer.Option(help="Column holding the question text.")],
    id_column: Annotated[str | None, typer.Option(help="Column with a stable id (default: row number).")] = None,
    account_column: Annotated[str | None, typer.Option(help="Column with the account name.")] = None,
    created_column: Annotated[str | None, typer.Option(help="Column with an ISO 8601 timestamp.")] = None,
    team_column: Annotated[
        str | None, typer.Option(help="Column with the customer's team or department (briefs group by it).")
    ] = None,
) -> None:
    """Import questions from a CSV with an explicit column mapping.

    Example: `docgap ingest csv questions.csv --text-column body --id-column ticket_id --account-column company`
    """
    from ingest.tabular import ColumnMap, read_csv

    columns = ColumnMap(text_column, id_column, account_column, created_column, team_column)
    _import_questions("csv", file, lambda rt: read_csv(file, columns, rt.clock()))


@ingest_app.command("jsonl")
def ingest_jsonl(
    file: Annotated[Path, typer.Argument(help="JSON Lines file: one object per line.")],
    text_field: Annotated[str, typer.Option(help="Field holding the question text.")],
    id_field: Annotated[str | None, typer.Option(help="Field with a stable id (default: line number).")] = None,
    account_field: Annotated[str | None, typer.Option(help="Field with the account name.")] = None,
    created_field: Annotated[str | None, typer.Option(help="Field with an ISO 8601 or epoch timestamp.")] = None,
    team_field: Annotated[
        str | None, typer.Option(help="Field with the customer's team or department (briefs group by it).")
    ] = None,
) -> None:
    """Import questions from JSON Lines with an explicit field mapping.

    Example: `docgap ingest jsonl chats.jsonl --text-field message --id-field id --account-field org`
    """
    from ingest.tabular import ColumnMap, read_jsonl

    columns = ColumnMap(text_field, id_field, account_field, created_field, team_field)
    _import_questions("jsonl", file, lambda rt: read_jsonl(file, columns, rt.clock()))


@accounts_app.command("import")
def accounts_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CRM CSV: name, domains, zendesk_org_ids, slack_channel_ids, slack_team_ids, owner, "
            "segment, arr, renewal_date (lists separated by `;`)."
        ),
    ],
) -> None:
    """Create or update accounts, then map already-imported questions to them.

    Example: `docgap accounts import accounts.csv`
    """
    _check_file(file)
    from usecases.pipeline import import_accounts

    result, mapped = import_accounts(runtime(), file)
    out.print(f"{mapped} questions newly mapped to an account")
    _report_import(result, f"accounts {file}")


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    skipped: Annotated[
        bool, typer.Option("--skipped", help="List the newest messages that were not stored, and why.")
    ] = False,
    source: Annotated[str | None, typer.Option(help="With --skipped: only this source (as listed).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="With --skipped: how many messages to list.")] = 20,
) -> None:
    """Show each question source: questions stored, messages skipped and why, the last import or sync, its errors.

    Tickets, CSV/JSONL rows, emails and API posts are always stored; only empty texts, auto-replies and bounces are
    skipped. Slack also drops chatter (thanks, reactions, announcements), bots, joins and staff posts. A last import
    shown as "interrupted" was killed mid-way; re-running the same command resumes it.

    Example: `docgap sources --skipped --source slack` shows what Slack messages were dropped, and why.
    """
    from ingest.records import describe_skips
    from ingest.runs import skipped_messages, source_statuses

    if skipped:
        messages = skipped_messages(runtime(), source, limit)
        if as_json:
            print(json.dumps([asdict(m) for m in messages], indent=1))
            return
        if not messages:
            out.print("Nothing skipped" + (f" in {source}." if source else "."))
            return
        table = Table("source", "id", "reason", "written", "text")
        for m in messages:
            table.add_row(m.source, m.external_id, m.reason, m.created_at, m.preview)
        out.print(table)
        return
    rows = source_statuses(runtime())
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
        return
    if not rows:
        out.print("No sources yet: try `docgap ingest zendesk FILE` or `docgap demo`.")
        return
    table = Table("source", "questions", "skipped", "last import", "status", "added", "errors", "from")
    for r in rows:
        table.add_row(
            r.source,
            str(r.questions),
            describe_skips(r.skipped) or "0",
            r.last_import or "—",
            r.last_status or "—",
            str(r.last_added),
            str(r.last_errors),
            r.last_location or r.cursor or "—",
        )
    out.print(table)


@app.command()
def cluster(
    full: Annotated[
        bool, typer.Option("--full", help="Re-cluster everything from scratch (ids still kept by overlap).")
    ] = False,
) -> None:
    """Group questions into recurring topics and judge how well the docs cover each.

    By default new questions join the nearest existing topic and only the rest are clustered into new topics, so
    old questions never move. `--full` re-clusters everything and matches the result to the previous topics.
    Either way topic ids and writers' decisions (renames, statuses, merges, splits) are kept. Run after importing.
    """
    from usecases.pipeline import analyse

    rt = runtime()
    with err.status("clustering and assessing coverage…"):
        res = analyse(rt, full=full)
    out.print(res.clustering.summary())


@topics_app.callback(invoke_without_command=True)
def topics(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many topics (0 = all).")] = 0,
) -> None:
    """List topics, biggest documentation gap first. `docgap topics export FILE.csv` writes assignments."""
    if ctx.invoked_subcommand:
        return
    from clustering.topics import list_topics

    rows = list_topics(runtime(), limit=limit or None)
    if as_json:
        print(json.dumps([asdict(r) for r in rows], default=str, indent=1))
        return
    if not rows:
        out.print("No topics yet: import questions, then run `docgap cluster`.")
        return
    table = Table("id", "label", "questions", "accounts", "coverage", "gap", "score", "status")
    for t in rows:
        table.add_row(
            str(t.id),
            t.label,
            str(t.size),
            str(t.account_count),
            f"{t.coverage or 0:.2f}",
            t.gap_kind or "covered",
            f"{t.gap_score:.1f}",
            t.status,
        )
    out.print(table)


@topics_app.command("show")
def topics_show(
    topic_id: Annotated[int, typer.Argument(help="The topic id.")],
    limit: Annotated[int, typer.Option(help="Questions to list (newest first).")] = 20,
) -> None:
    """One topic: label, gap, examples and its newest questions with their ids (for `docgap topics split`)."""
    from clustering.topics import topic_detail

    d = topic_detail(runtime(), topic_id, question_limit=limit)
    if d is None:
        fail(f"no topic {topic_id}")
        return
    t = d.topic
    out.print(f"[bold]#{t.id} {t.label}[/bold]  ({t.status}; {t.size} questions, {t.account_count} accounts)")
    out.print(f"gap: {t.gap_kind or 'covered'} · coverage {t.coverage or 0:.2f} · score {t.gap_score:.1f}")
    out.print(f"keywords: {', '.join(t.keywords)}")
    table = Table("question id", "asked", "account", "question")
    for q in d.questions:
        table.add_row(str(q["id"]), q["created_at"][:10], q["account"] or "—", q["text"][:100])
    out.print(table)


@topics_app.command("merge")
def topics_merge(
    sources: Annotated[list[int], typer.Argument(help="Topic ids to merge away.")],
    into: Annotated[int, typer.Option("--into", help="The topic id that absorbs them.")],
) -> None:
    """Merge topics into one; the merge survives every later re-cluster.

    Example: `docgap topics merge 12 31 --into 7`
    """
    from clustering.curation import CurationError
    from core.locks import TopicsBusy
    from usecases.permissions import OPERATOR
    from usecases.topics import merge_topics

    try:
        t = merge_topics(runtime(), OPERATOR, sources, into)
    except (CurationError, LookupError, TopicsBusy) as exc:
        fail(str(exc))
        return
    out.print(f"merged {', '.join(map(str, sources))} into topic {t.id} ({t.size} questions): {t.label}")


@topics_app.command("split")
def topics_split(
    topic_id: Annotated[int, typer.Argument(help="The topic to split.")],
    question: Annotated[
        list[int] | None,
        typer.Option("--question", help="A question id (as in `docgap topics show`) to move; repeat for several."),
    ] = None,
    label: Annotated[str | None, typer.Option(help="Label for the new topic.")] = None,
) -> None:
    """Split a topic in two: the given questions, or (without --question) its two most distinct halves.

    Later re-clusters keep the two apart. Example: `docgap topics split 7 --question 120 --question 121`
    """
    from clustering.curation import CurationError
    from core.locks import TopicsBusy
    from usecases.permissions import OPERATOR
    from usecases.topics import split_topic

    try:
        t = split_topic(runtime(), OPERATOR, topic_id, question, label)
    except (CurationError, LookupError, TopicsBusy) as exc:
        fail(str(exc))
        return
    out.print(f"split {t.size} questions out of topic {topic_id} into new topic {t.id}: {t.label}")


@topics_app.command("lineage")
def topics_lineage(topic_id: Annotated[int, typer.Argument(help="The topic id.")]) -> None:
    """Show what happened to a topic: merges, splits, renames, status changes, re-cluster retirements."""
    from clustering.curation import lineage

    events = lineage(runtime(), topic_id)
    if not events:
        out.print(f"No recorded changes for topic {topic_id}.")
        return
    table = Table("when", "what", "topic", "other", "by", "detail")
    for e in events:
        table.add_row(
            e.at[:16],
            e.kind,
            str(e.topic_id),
            str(e.other_topic_id or "—"),
            e.actor,
            ", ".join(f"{k}={v}" for k, v in e.detail.items()),
        )
    out.print(table)


@topics_app.command("export")
def topics_export(file: Annotated[Path, typer.Argument(help="CSV file to write.")]) -> None:
    """Write one CSV row per question: question_id, topic_id, topic_label.

    question_id is the id the source gave it; topic_id is empty when the question is in no topic.

    Example: `docgap topics export assignments.csv`
    """
    from clustering.topics import export_assignments

    n = export_assignments(runtime(), file)
    out.print(f"wrote {n} questions to {file}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer object as JSON.")] = False,
    account: Annotated[str | None, typer.Option(help="Account asking (recorded with the question).")] = None,
    top_k: Annotated[int, typer.Option(min=1, max=20, help="Passages to retrieve.")] = 5,
) -> None:
    """Answer a question from the docs with numbered citations, or say the docs do not cover it.

    Uses the LLM when `DOCGAP_LLM_BASE_URL` is set, an extractive answer otherwise.

    Example: `docgap ask "How long does a card take to arrive?"`
    """
    from core.llm import LLMError
    from retrieval.answer import answer_question, stream_answer
    from usecases.answers import no_docs_answer

    rt = runtime()
    empty = no_docs_answer(rt, question)
    if empty is not None:
        if as_json:
            print(json.dumps(empty.to_dict(), indent=1))
            raise typer.Exit(1)
        fail(empty.answer)
    if rt.llm is not None and not as_json and sys.stdout.isatty():
        result, pieces = stream_answer(rt, question, account=account, top_k=top_k)
        try:
            for piece in pieces:
                out.print(piece, end="", markup=False, highlight=False)
        except LLMError as exc:
            fail(f"\nthe LLM stopped mid-answer ({exc}); try again, or unset DOCGAP_LLM_BASE_URL to answer offline")
        out.print()
    else:
        result = answer_question(rt, question, account=account, top_k=top_k)
        if as_json:
            print(json.dumps(result.to_dict(), indent=1))
            return
        out.print(result.answer, markup=False, highlight=False)
    out.print()
    for c in result.citations:
        out.print(f"[{c.n}] {c.title} — {c.url} (score {c.score:.2f})")
    how = "written by the LLM" if result.mode == "llm" else "extracted offline (no LLM configured)"
    out.print(f"\nconfidence {result.confidence:.2f} · {'covered' if result.covered else 'NOT covered'} · {how}")


@report_app.command("weekly")
def report_weekly(
    week: Annotated[str | None, typer.Option(help="Any day of the week to report (default: last full week).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report data as JSON.")] = False,
    deliver: Annotated[
        bool,
        typer.Option(
            "--deliver",
            help="Also send it to Slack and email, each once per week (DOCGAP_SLACK_WEBHOOK_URL, DOCGAP_SMTP_*).",
        ),
    ] = False,
) -> None:
    """Build the weekly recurring-question report, archive it (see /reports) and print it as Markdown.

    Example: `docgap report weekly --week 2026-11-16`, `docgap report weekly --deliver`
    """
    from reports.weekly import build_weekly_report, render_markdown, save_report

    try:
        day = date.fromisoformat(week) if week else None
    except ValueError:
        fail(f"--week must be a date like 2026-11-16, got {week!r}")
        return
    rt = runtime()
    report = build_weekly_report(rt, day)
    save_report(rt, report)
    if as_json:
        print(json.dumps(report.to_dict(), indent=1, default=str))
    else:
        print(render_markdown(report))
    if deliver:
        from cli.alerts import deliver_report

        deliver_report(rt, report.week_start)


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        list[str], typer.Option(help="answers:read, questions:write, topics:write or admin (all); repeat for several.")
    ],
    name: Annotated[str, typer.Option(help="A label to recognise the key by in `docgap keys list`.")] = "",
    rate_limit: Annotated[
        int | None, typer.Option(min=1, help="Requests per minute (default: DOCGAP_API_RATE_LIMIT_PER_MINUTE).")
    ] = None,
) -> None:
    """Create an API key and print it, alone on stdout. It is shown this once: only its hash is stored.

    Example: `docgap keys create --scope answers:read --scope questions:write --name zendesk-trigger`
    """
    from usecases.apikeys import create_key

    try:
        key = create_key(runtime(), scope, name=name, rate_limit=rate_limit)
    except ValueError as exc:
        fail(str(exc))
        return
    err.print(f"API key {key.id} ({key.prefix}…, scopes {', '.join(key.scopes)}); store it now, it is not shown again:")
    print(key.secret)


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List API keys (id, shown prefix, scopes, last use, revocation); never the keys themselves."""
    from usecases.apikeys import list_keys

    rows = list_keys(runtime())
    if as_json:
        print(json.dumps([asdict(k) for k in rows], indent=1))
        return
    if not rows:
        out.print("No API keys yet: `docgap keys create --scope answers:read`.")
        return
    table = Table("id", "name", "prefix", "scopes", "rate/min", "created", "last used", "revoked")
    for k in rows:
        table.add_row(
            str(k.id),
            k.name,
            f"{k.prefix}…",
            ", ".join(k.scopes),
            str(k.rate_limit_per_minute or "default"),
            k.created_at,
            k.last_used_at or "—",
            k.revoked_at or "—",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or its prefix as listed (`dg_…`).")]) -> None:
    """Revoke an API key: requests with it get 401 from now on.

    Example: `docgap keys revoke 3`
    """
    from usecases.apikeys import revoke_key

    try:
        info = revoke_key(runtime(), key)
    except LookupError as exc:
        fail(str(exc))
        return
    out.print(f"revoked API key {info.id} ({info.prefix}…) at {info.revoked_at}")


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="The user name they log in with (no spaces).")],
    role: Annotated[str, typer.Option(help="account_manager, docs_writer or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of generating one.")
    ] = False,
) -> None:
    """Create a user. Without `--password-stdin` a random password is generated and printed, alone on stdout, once.

    Example: `docgap users create dana --role docs_writer` or `printf %s "$PW" | docgap users create dana --role
    admin --password-stdin`
    """
    from usecases.permissions import OPERATOR
    from usecases.users import UserError, create_user, new_password

    password = sys.stdin.read().rstrip("\r\n") if password_stdin else new_password()
    try:
        user = create_user(runtime(), OPERATOR, name, role, password)
    except UserError as exc:
        fail(str(exc))
        return
    err.print(f"user {user.name} ({user.role}) created")
    if not password_stdin:
        err.print("password, shown this once:")
        print(password)


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List users with their role and whether they are disabled (never a password or its hash)."""
    from usecases.permissions import OPERATOR
    from usecases.users import list_users

    rows = list_users(runtime(), OPERATOR)
    if as_json:
        print(json.dumps([asdict(u) for u in rows], indent=1))
        return
    if not rows:
        out.print("No users yet: `docgap users create NAME --role admin`.")
        return
    table = Table("id", "name", "role", "created", "disabled")
    for u in rows:
        table.add_row(str(u.id), u.name, u.role, u.created_at, "yes" if u.disabled else "")
    out.print(table)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Disable a user: they cannot log in any more and their open sessions end now."""
    from usecases.permissions import OPERATOR
    from usecases.users import disable_user

    try:
        user = disable_user(runtime(), OPERATOR, name)
    except LookupError as exc:
        fail(str(exc))
        return
    out.print(f"disabled {user.name}")


@app.command()
def sync(source: Annotated[str, typer.Argument(help="The live source to sync: `zendesk`.")]) -> None:
    """Import what changed in a live source since the last sync (run it from cron or a scheduler).

    Zendesk: the incremental ticket export from the cursor stored in the database, plus each ticket's comments.
    Needs `DOCGAP_ZENDESK_SUBDOMAIN` (or `DOCGAP_ZENDESK_URL`), `DOCGAP_ZENDESK_EMAIL` and `DOCGAP_ZENDESK_TOKEN`.

    Example: `docgap sync zendesk`
    """
    if source != "zendesk":
        fail(f"unknown source {source!r}; supported: zendesk")
    from ingest.zendesk_api import ZendeskError, sync_zendesk

    try:
        with err.status("syncing Zendesk…"):
            result = sync_zendesk(runtime())
    except ZendeskError as exc:
        fail(f"{exc} (pages synced before the failure are kept; re-run to resume)")
        return
    _report_import(result.ingest, f"zendesk sync, {result.pages} pages / {result.tickets} tickets")


@app.command()
def reindex() -> None:
    """Re-embed every question and doc passage with the configured embedding model.

    Run it after changing `DOCGAP_EMBEDDING_MODEL`.
    """
    from usecases.maintenance import reindex_all

    rt = runtime()
    with _progress() as p:
        q, c = reindex_all(rt, p)
    out.print(f"re-embedded {q} questions and {c} passages with {rt.settings.embedding_model}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (each loads the model); more than 1 needs DOCGAP_REDIS_URL.")
    ] = 1,
) -> None:
    """Serve the web app (gap board, chat, accounts, reports) and the JSON API (OpenAPI at /docs).

    The database is brought to this version's schema first (as `docgap db upgrade` does), before listening.
    Several `--workers` share the load; the scheduled jobs then belong to `docgap worker`, so a queue is needed.
    """
    import uvicorn

    from server.access_log import UVICORN_LOGS
    from server.app import create_app

    rt = runtime()
    rt.engine  # noqa: B018  (opening the database migrates it: a schema problem stops here, not at the first page)
    base = f"http://{host}:{port}"
    out.print(
        f"\n[bold]docgap is running on {base}/[/]  (Ctrl+C to stop)\n"
        f"  gap board      {base}/\n  ask the docs   {base}/chat\n  accounts       {base}/accounts\n"
        f"  weekly report  {base}/reports/weekly/latest\n  API (OpenAPI)  {base}/docs\n"
        "Every page asks for a login: `docgap users create NAME --role admin` (the demo printed one user per role).\n"
    )
    level = rt.settings.log_level.lower()
    if workers == 1:
        uvicorn.run(create_app(rt, run_jobs=True), host=host, port=port, log_level=level, **UVICORN_LOGS)
        return
    if rt.queue is None:
        fail("--workers above 1 needs a queue (DOCGAP_REDIS_URL): each process would run the schedule itself")
    # Each process builds its own runtime from the same settings (the environment).
    uvicorn.run("server.app:served_app", factory=True, workers=workers, host=host, port=port, log_level=level,
                **UVICORN_LOGS)  # fmt: skip


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the result when done.")] = True,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    end: Annotated[str | None, typer.Option(help="Last day of demo data, YYYY-MM-DD (default: this Monday).")] = None,
) -> None:
    """Build the Fernpay demo data set, run the whole pipeline on it and serve it.

    The demo has a 40-page help center and ~2,000 customer questions from BANKING77 written out as a Zendesk export
    and a Slack export; it also writes the weekly report.
    """
    from usecases.demo import run_demo

    rt = runtime()
    try:
        end_day = date.fromisoformat(end) if end else None
    except ValueError:
        fail(f"--end must be a date like 2026-11-23, got {end!r}")
        return
    with _progress() as p:
        summary = run_demo(rt, end_day, p, log=out.print)
    out.print(summary)
    if serve_after:
        serve(host, port)


def main() -> None:
    from core.vectors import IndexMismatchError

    try:
        app()
    except IndexMismatchError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
