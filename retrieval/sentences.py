"""The sentences of a doc passage, as a reader of the rendered page would see them.

Used by the offline answer (it quotes the sentences closest to the question) and by answer confidence (how close
the best sentence comes). Markdown semantics matter here: a single line break inside a paragraph is a soft wrap,
not a sentence end. Docs converted from PDFs or written with hard-wrapped lines break mid-sentence ("You can learn
the voice commands that let you use" / "Bixby" / "in various situations."); splitting on every line quoted
fragments. A new unit starts only at a blank line, a heading, a list item or a table row, and after a label line
(below) when the next line starts with a capital.

PDF extractions also put each bold term, button and menu step on a line of its own, with the "›" between menu
steps lost: "Settings / Picture / Picture Mode / Try Now / You can select the / Picture Mode / that provides …".
A label line is a few capitalised words and no punctuation; after one, a capitalised line starts a sentence
("Try Now" / "You can …"), a lower-case one goes on with it ("select" / "Sign In" / "to log in"). A unit made
only of capitalised words is a run of labels, not a sentence, and answers nothing.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_BLOCK_START = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d{1,2}[.)]\s|\|)")
_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d{1,2}[.)]\s+)")
"""A heading's or list item's marker; only that is cut, so a sentence's **bold** keeps both its ends."""
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
# Sentences about the page itself ("This page explains …") answer nothing; never extract them.
_META = re.compile(r"^(this|the following) (page|article|section|guide)\b|^see also\b", re.I)
MIN_CHARS = 25
LABEL_WORDS = 5
"""A line of at most this many capitalised words (no sentence punctuation) is a label: a button, a menu step."""
_WORDS = re.compile(r"[^\W\d_][\w'’-]*|\d[\w.]*")
_SENTENCE_PUNCTUATION = re.compile(r"[.!?:;,]\s*$")


def _capitalised_only(text: str) -> bool:
    """Whether every word of `text` starts with a capital or a digit (and there is a word)."""
    words = _WORDS.findall(text)
    return bool(words) and all(w[0].isupper() or w[0].isdigit() for w in words)


def _label(line: str) -> bool:
    line = line.strip()
    return (
        len(_WORDS.findall(line)) <= LABEL_WORDS and not _SENTENCE_PUNCTUATION.search(line) and _capitalised_only(line)
    )


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables_as_sentences(text: str, separate_rows: bool = False) -> str:
    """Markdown table rows as sentences that name their columns, so an answer can quote a row on its own.

    "| Standard | 3–5 working days | Free |" under "| Delivery | To a UK address | Price |" becomes
    "Standard — To a UK address: 3–5 working days; Price: Free." Help centers put their facts (times, prices,
    limits) in tables; a bare row means nothing without its header. With `separate_rows` each row is followed by a
    blank line, so `units` keeps rows apart instead of joining them like soft-wrapped lines.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].lstrip().startswith("|") and _TABLE_RULE.match(lines[i + 1].strip()):
            header = _cells(lines[i])
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = _cells(lines[i])
                pairs = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c]
                out.append(f"{cells[0]} — {'; '.join(pairs)}." if pairs else cells[0])
                if separate_rows:
                    out.append("")
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def units(text: str) -> list[str]:
    """Paragraphs, headings, list items and table rows, each on one line (soft-wrapped lines joined)."""
    out: list[str] = []
    joining = False
    previous = ""
    for line in text.split("\n"):
        if not line.strip():
            joining = False
            continue
        after_label = _label(previous) and line.lstrip()[:1].isupper()
        if joining and not _BLOCK_START.match(line) and not after_label:
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line.strip())
            joining = not line.lstrip().startswith("#")  # a heading is one line; text under it starts anew
        previous = line
    return out


def sentences(text: str) -> list[tuple[int, str]]:
    """A passage's sentences that could answer something, with their position (too short and meta ones left out)."""
    out = []
    j = 0
    for unit in units(tables_as_sentences(text, separate_rows=True)):
        for s in _SENTENCE.split(unit):
            s = _MARKER.sub("", s).strip()
            if len(s) >= MIN_CHARS and not _META.match(s) and not _capitalised_only(s):
                out.append((j, s))
            j += 1
    return out
