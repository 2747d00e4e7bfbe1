"""`docgap brief account|executive`: the briefs in the terminal (Markdown), as JSON, or written to a file.

The same use cases as the pages and the API (`usecases.briefs`), run as the operator; `--json` prints exactly
what `GET /v1/accounts/{id}/brief` and `GET /v1/briefs/executive` return.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import err, fail, runtime

if TYPE_CHECKING:
    from reports.brief_render import Brief

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".pdf", ".json")
"""What `--out` may end in (`reports.brief_render.FORMATS`, which is imported only when a brief is made: the
reports stack takes seconds to import, and every `docgap` command would pay it)."""

app = typer.Typer(help="Account and executive briefs (Markdown, JSON, HTML or PDF).", no_args_is_help=True)

Out = Annotated[
    Path | None,
    typer.Option("--out", help="Write the brief to this file instead: .md, .html, .pdf (or .json), by its suffix."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the brief's data as JSON (what the API returns).")]


def _check_out(out: Path | None) -> None:
    """Refuse a file we cannot write before any work is done."""
    if out is None:
        return
    if out.suffix.lower() not in SUFFIXES:
        fail(f"--out must end in .md, .html, .pdf or .json, got {out.name!r}")
    if not out.parent.exists():
        fail(f"the folder {out.parent} does not exist")


def _emit(brief: Brief, as_json: bool, out: Path | None, base: str) -> None:
    """Print the brief, or write it to `out`; an HTML or PDF file's links point at `base` (DOCGAP_PUBLIC_URL)."""
    from reports.brief_render import FORMATS, PdfUnavailable, export, render_markdown, to_json

    if out is not None:
        fmt = FORMATS[out.suffix.lower()]
        try:
            data = export(brief, fmt, base)
        except PdfUnavailable as exc:
            fail(str(exc))
            return
        out.write_bytes(data)
        err.print(f"wrote {out} ({fmt}, {len(data):,} bytes)")
    elif as_json:
        print(json.dumps(to_json(brief), indent=1, ensure_ascii=False))
    else:
        print(render_markdown(brief), end="")


@app.command("account")
def account(
    name_or_id: Annotated[str, typer.Argument(help="The account's name (any case) or its id.")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="Length of the period, ending where the data ends.")] = 90,
    as_json: AsJson = False,
    out: Out = None,
) -> None:
    """One account's brief, as Markdown on stdout, JSON, or a file.

    Questions and trend, velocity, top topics, gaps, unanswered, repeat requesters, sentiment, risk flags with
    their evidence, suggested actions and a summary.

    Examples: `docgap brief account "Brightline Logistics"`, `docgap brief account 3 --days 30 --out brief.pdf`
    """
    from usecases.briefs import UnknownAccount, account_brief
    from usecases.permissions import OPERATOR

    _check_out(out)
    rt = runtime()
    try:
        brief = account_brief(rt, OPERATOR, name_or_id, days)
    except UnknownAccount as exc:
        fail(str(exc))
        return
    _emit(brief, as_json, out, rt.settings.public_url)


@app.command("executive")
def executive(as_json: AsJson = False, out: Out = None) -> None:
    """The portfolio on one page: accounts ranked by risk weighted by ARR.

    Each flag's evidence, the ARR under open flags and the week's priority actions.

    Examples: `docgap brief executive`, `docgap brief executive --out exec.pdf`
    """
    from usecases.briefs import executive_brief
    from usecases.permissions import OPERATOR

    _check_out(out)
    rt = runtime()
    _emit(executive_brief(rt, OPERATOR), as_json, out, rt.settings.public_url)
