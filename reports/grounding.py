"""Keeping an LLM's summary inside the figures it was given.

A summary is written from our own figures, topic labels and account names; customer text reaches the model only
fenced as data. Whatever the model writes is still treated as suspect: markup is removed, and a sentence is
dropped when it holds a link (a link in a summary was asked for by someone's text), quotes something that is not
one of the given topic labels, or names an account the summary is not about. Used by the weekly report's summary and
the account brief's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.answer import keep_links, strip_markup, tidy

_QUOTED = re.compile(r"[“\"«]([^”\"»\n]{3,})[”\"»]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def plain_prose(written: str) -> str:
    """The model's text without HTML tags or invisible characters."""
    return tidy(strip_markup(written))


def grounded(text: str, labels: Iterable[str], shown: Iterable[str], accounts: Iterable[str]) -> str:
    """The sentences of `text` that hold no link, quote only `labels` and name no account outside `shown`."""
    known = {_norm(label) for label in labels}
    allowed = {_norm(name) for name in shown}
    others = [n for n in (_norm(name) for name in accounts) if n and n not in allowed]

    def kept(sentence: str) -> bool:
        low = _norm(sentence)
        if keep_links(sentence, set())[1]:
            return False
        if not all(_norm(q) in known for q in _QUOTED.findall(sentence)):
            return False
        return not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", low) for n in others)

    return " ".join(s for s in _SENTENCE.split(text) if kept(s)).strip()
