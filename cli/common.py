"""What every `docgap` command shares: the consoles, the `--json` flag, the runtime and the one-line failure."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

from core import logs
from core.runtime import Runtime
from core.settings import Settings

out = Console()
err = Console(stderr=True)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def runtime() -> Runtime:
    """The settings' runtime, with logging to stderr at `DOCGAP_LOG_LEVEL` (secrets masked: `core.logs`)."""
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    return Runtime(settings)


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit (not wrapped, so a long path stays one line for scripts)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
