"""Prompt templates (`*.j2`) and their loader. Every LLM call renders one of these files.

The environment is strict (an undefined variable is an error, not an empty string) and does not autoescape:
these are plain-text prompts, not HTML.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.llm import Message

PROMPTS_DIR = Path(__file__).parent


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(PROMPTS_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """Render `prompts/<name>.j2`."""
    return _env().get_template(f"{name}.j2").render(**context).strip()


def messages(name: str, **context: Any) -> list[Message]:
    """A system + user message pair from `<name>.system.j2` and `<name>.user.j2`."""
    return [
        Message("system", render(f"{name}.system", **context)),
        Message("user", render(f"{name}.user", **context)),
    ]
