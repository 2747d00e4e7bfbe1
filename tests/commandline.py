"""Run `docgap` the way the tests do: in this process (`docgap`), or as a real subprocess (`docgap_process`).

In-process runs go through `cli.main.main`, the console script's own function, with `sys.argv`, the environment,
stdin, stdout and stderr swapped for the call (click's `CliRunner.isolation`), so they take the same path as
`docgap …` typed in a shell, settings read from `DOCGAP_*` included, minus the interpreter start and the imports
of torch, sentence-transformers and Chroma, which cost seconds per command. An exception that escapes the command
fails the test with its traceback (a user would have seen a traceback). Keep subprocesses for what only they
prove: the installed entry point, the exit status a shell sees, what a fresh interpreter imports, signals and
real pipes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from click.testing import CliRunner

COLUMNS = "160"
"""Terminal width for both ways, so a table or a long line wraps the same way in each."""


def _env(data_dir: Path | None, env: Mapping[str, str] | None) -> dict[str, str]:
    values = {"COLUMNS": COLUMNS, **(env or {})}
    if data_dir is not None:
        values["DOCGAP_DATA_DIR"] = str(data_dir)
    return values


def docgap(
    args: Sequence[str],
    data_dir: Path | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`docgap *args` in this process: its exit status and what it printed on stdout and on stderr.

    `env` is added to this process's environment for the call (DOCGAP_* variables of the developer's shell were
    removed at start-up by `tests/conftest.py`); with `check`, a non-zero exit fails the test with the output.
    """
    from cli.main import main

    runner = CliRunner()
    argv, hook = sys.argv, sys.excepthook
    code: int | str | None = 0
    with runner.isolation(input=stdin, env=_env(data_dir, env)) as (out, err, _):
        sys.argv = ["docgap", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv, sys.excepthook = argv, hook  # typer installs its own excepthook on each call
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    if isinstance(code, str):  # sys.exit("message"): printed on stderr, status 1
        stderr, code = stderr + code + "\n", 1
    proc = subprocess.CompletedProcess(["docgap", *args], code or 0, stdout, stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"docgap {list(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def docgap_process(
    args: Sequence[str],
    data_dir: Path | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    entry_point: bool = False,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`docgap *args` as a real subprocess (`python -m cli`, or the installed `docgap` script with `entry_point`)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("DOCGAP_")}
    full.update(_env(data_dir, env))
    command = [str(Path(sys.executable).parent / "docgap")] if entry_point else [sys.executable, "-m", "cli"]
    proc = subprocess.run([*command, *args], capture_output=True, text=True, env=full, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docgap {list(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc
