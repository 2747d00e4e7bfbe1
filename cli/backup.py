"""`docgap backup FILE` and `docgap restore FILE`: the whole instance in one archive, and back."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from cli.common import AsJson, fail, out, runtime

app = typer.Typer(rich_markup_mode="markdown")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {name}" for name, n in counts.items() if n) or "nothing"


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="Archive to write (.tar.gz).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    as_json: AsJson = False,
) -> None:
    """Back up the instance: the database (SQLite or PostgreSQL) and the vector store, in one archive.

    Safe while `docgap serve` runs: the database is copied as of one moment (SQLite's online backup, or
    `pg_dump` under one snapshot, which needs `pg_dump` on PATH) and the vectors are read through Chroma and matched
    to it. The data dir's other files (calibration profiles, Markdown tickets) go in too; `demo-sources/` does not.
    A manifest records versions, the embedding model, row counts and checksums. Keep the archive private: it holds
    every customer question (redacted) and the password and key hashes.

    Example: `docgap backup backups/docgap-$(date +%F).tar.gz`
    """
    from usecases.backup import BackupError
    from usecases.backup import backup as run_backup
    from usecases.permissions import OPERATOR

    try:
        summary = run_backup(runtime(), OPERATOR, file, overwrite=force)
    except BackupError as exc:
        fail(str(exc))
        return
    if as_json:
        print(json.dumps(asdict(summary), indent=2))
        return
    out.print(f"backed up to {summary.path} ({summary.size_bytes / 1e6:.1f} MB, {summary.seconds:.1f} s)")
    out.print(f"  database ({summary.database}): {_counts(summary.tables)}")
    out.print(f"  vectors: {_counts(summary.vectors)}; files: {summary.files}")
    if summary.pending:
        out.print(f"  rewritten while backing up, embedded again on restore: {_counts(summary.pending)}")


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="Archive written by `docgap backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the database and vectors of an instance that holds data.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Restore a backup into this instance's data dir (or database and Chroma server), then verify it.

    The archive is checked first (checksums, format and docgap version, database kind, embedding model); an
    instance that already holds data is refused unless `--force`, and nothing is changed when anything is refused.
    Afterwards every table's rows and every collection's vectors are counted against the backup. Stop
    `docgap serve` before restoring over a running instance.

    Example: `DOCGAP_DATA_DIR=./restored docgap restore docgap-2026-11-23.tar.gz`
    """
    from usecases.backup import BackupError
    from usecases.backup import restore as run_restore
    from usecases.permissions import OPERATOR

    try:
        summary = run_restore(runtime(), OPERATOR, file, force=force)
    except BackupError as exc:
        fail(str(exc))
        return
    if as_json:
        print(json.dumps(asdict(summary), indent=2))
        return
    out.print(f"restored {summary.path} (backup of {summary.created_at}, docgap {summary.docgap_version}) "
              f"in {summary.seconds:.1f} s; counts verified")  # fmt: skip
    out.print(f"  database ({summary.database}): {_counts(summary.tables)}")
    out.print(f"  vectors: {_counts(summary.vectors)}; files: {summary.files}")
    if summary.reembedded:
        out.print(f"  embedded again: {_counts(summary.reembedded)}")
