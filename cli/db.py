"""`docgap db upgrade`, `docgap db current` and `docgap db revision`: the database's schema revision."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated

import typer

from cli.common import AsJson, fail, out, runtime
from core import migrations

app = typer.Typer(
    help="The database's schema: upgrade it to this version's revision, or show where it is.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("upgrade")
def upgrade(as_json: AsJson = False) -> None:
    """Bring the database to this version's newest schema revision; running it again changes nothing.

    `docgap serve` does the same at start, so this is for upgrading before starting, or for a database that
    several servers share. A data dir made before migrations is brought to the baseline first (missing columns
    and indexes added), then stamped.

    Example: `docgap db upgrade`
    """
    try:
        was, done = migrations.upgrade_database(runtime().settings.resolved_database_url)
    except RuntimeError as exc:  # what cannot be migrated as it stands (rows that break a new unique index)
        fail(str(exc))
    now = replace(was, revision=done.after, predates_migrations=done.after is None)
    if as_json:
        print(json.dumps({"database": was.database, "before": was.revision, "after": now.revision,
                          "head": was.head, "patched": list(done.patched)}, indent=2))  # fmt: skip
    else:
        out.print(f"database: {was.database}", highlight=False, soft_wrap=True)
        out.print(f"  before: {was.label()}", highlight=False)
        out.print(
            f"  after:  {now.label()}" + ("  (nothing to do)" if done.after == was.revision else ""), highlight=False
        )
        if done.patched:
            out.print(f"  brought to the baseline: {', '.join(done.patched)}", highlight=False, soft_wrap=True)
    if not now.is_head:
        fail("the database is not at the head revision: see the warning above")


@app.command("current")
def current(as_json: AsJson = False) -> None:
    """Show the database's schema revision and whether it is this version's newest (the head).

    Changes nothing. Exits 1 when the database is not at the head (`docgap db upgrade` brings it there).

    Example: `docgap db current`
    """
    now = migrations.status(runtime().settings.resolved_database_url)
    if as_json:
        print(json.dumps({"database": now.database, "current": now.revision, "head": now.head,
                          "is_head": now.is_head}))  # fmt: skip
    else:
        out.print(f"database: {now.database}", highlight=False, soft_wrap=True)
        out.print(f"  revision: {now.label()}", highlight=False)
    if not now.is_head:
        raise typer.Exit(1)


@app.command("revision")
def revision(message: Annotated[str, typer.Option("-m", "--message", help="What the revision changes.")]) -> None:
    """For developers: write a migration for what the models changed (in `core/migrations/versions/`).

    Compares the models with the schema the existing revisions build (in memory; no database is touched) and
    writes the difference as a new revision script. Read it before committing: renames come out as a drop and an
    add, and a new column of an existing table wants a server default for the rows already there.

    Example: `docgap db revision -m "topic owner"`
    """
    try:
        path = migrations.new_revision(message)
    except RuntimeError as exc:
        fail(str(exc))
        return
    out.print(f"wrote {path}", highlight=False, soft_wrap=True)
