"""How text is shown on the pages: Markdown with raw HTML disabled, cited answers, sparklines, topic links.

The page contents come from the use cases (`usecases.topics`, `usecases.accounts`, …); these are the filters
the templates apply to them.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML disabled (customer and doc text can never inject markup)."""
    return _md.render(text)


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TABLE_RULE = re.compile(r"\|?(?:\s*:?-{3,}:?\s*\|)+(?:\s*:?-{3,}:?\s*)?")
_PIPES = re.compile(r"(?:\s*\|)+\s*")
_BULLET = re.compile(r"^[ \t]*[-*+][ \t]+(?=\S)", re.M)
"""A list item's marker at the start of a line (a bullet; numbered items read as text already)."""
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)


def markdown_plain(text: str) -> str:
    """A Markdown excerpt (a snippet, possibly cut mid-table) as plain one-line text.

    Drops `**`, link targets, heading marks and table rules, separates table cells with " · " and shows list
    bullets as "•" (the lines are joined, so a "- " would read as a dash). The result is text, to be HTML-escaped
    like any other.
    """
    t = _LINK.sub(r"\1", text)
    t = _BULLET.sub("• ", t)
    t = _HEADING.sub("", t)
    t = _TABLE_RULE.sub(" ", t)
    t = t.replace("**", "").replace("__", "").replace("`", "")
    t = _PIPES.sub(" · ", t)
    t = " ".join(t.split())
    return t.removeprefix("· ").removesuffix(" ·").strip()


_CITE_MARK = re.compile(r"\[(\d{1,2})\]")


_DOC_HREF = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|/|#)([^"]+)"', re.I)
"""A link target with no scheme and no leading slash or hash: a doc URL relative to the docs root."""


def answer_html(text: str, citations: int) -> str:
    """An answer's Markdown as HTML, its [n] markers linked to the n-th citation below it.

    Links to doc pages (relative to the docs root, as in citations) open in the doc viewer like citations do.
    """

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<a class="cite" href="#cite-{n}">[{n}]</a>' if 1 <= n <= citations else m.group(0)

    return _DOC_HREF.sub(r'href="/kb/\1"', _CITE_MARK.sub(link, markdown_html(text)))


_TOPIC_REF = re.compile(r"(?<![\w&#/])#(\d+)\b")


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> str:
    """Weekly counts as block characters, scaled to the largest week (readable without a chart library)."""
    top = max(counts, default=0)
    return "".join(
        SPARK[min(len(SPARK) - 1, (n * (len(SPARK) - 1) + top - 1) // top)] if top else SPARK[0] for n in counts
    )


def link_topics(html: str) -> str:
    """Topic references ("#12") in rendered report HTML as links to the topic pages."""
    return _TOPIC_REF.sub(r'<a href="/topics/\1">#\1</a>', html)
