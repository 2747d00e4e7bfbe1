"""A doc ticket as the trackers take it: Markdown, Atlassian Document Format (Jira) and Asana's rich text.

One outline of sections for all three, so an issue reads the same wherever it lands. Customer and doc text (the
title, example questions, page titles, outline points drawn from staff answers) is escaped for each format:
`reports.weekly.md_text` for Markdown (no link, image, HTML or heading can come out of it), `html.escape` for
Asana, and plain text nodes in ADF (which has no markup to inject).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from core.models import DocTicket
from reports.weekly import md_text


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str]
    items: list[str]
    numbered: bool = False


def outline_label(t: DocTicket) -> str:
    source = t.evidence.get("outline_source") or "staff answers"
    if t.outline_mode == "llm":
        return f"written by the LLM from {source}"
    return f"offline: extracted from {source}" if source == "staff answers" else f"offline: the {source} to answer"


def _figures(e: dict[str, Any]) -> list[str]:
    trend = e.get("growth") or 0
    lines = [
        f"Volume: {e.get('volume', 0)} questions, {e.get('recent_questions', 0)} in the last 8 weeks "
        f"(growth {trend:+.0%} over the last 4 weeks)",
        f"Accounts: {e.get('accounts', 0)} ({e.get('recent_accounts', 0)} in the last 8 weeks)",
        f"First seen {e.get('first_seen') or '—'}, last seen {e.get('last_seen') or '—'}",
        f"Gap: {e.get('gap_kind') or 'none (covered)'}, coverage {e.get('coverage') or 0:.2f}",
    ]
    if e.get("staff_answered"):
        lines.append(f"Answered by staff by hand: {e['staff_answered']}")
    return lines


def sections(t: DocTicket) -> list[Section]:
    """The ticket's content in order; text here is raw (each renderer escapes it)."""
    e = t.evidence or {}
    kind = "new page: " if t.target_is_new else ""
    target = f"{t.target_page} ({kind}{t.target_title})"
    pages = [f"{p['title']} ({p['url']}{' › ' + p['section'] if p.get('section') else ''}): {p['why']}"
             for p in e.get("pages", [])]  # fmt: skip
    return [
        Section("Problem", [t.problem], []),
        Section("Target page", [target], []),
        Section("Evidence", [], _figures(e)),
        Section("Example questions (redacted)", [], list(e.get("examples", [])), numbered=True),
        Section("Closest existing pages and why they fall short", [] if pages else ["No page came close."], pages),
        Section(f"Suggested outline ({outline_label(t)})", [], list(t.outline)),
    ]


def footer(t: DocTicket) -> str:
    return f"Written by docgap from topic #{t.topic_id} (ticket #{t.id}, status {t.status.replace('_', ' ')})."


def ticket_markdown(t: DocTicket, heading: bool = True) -> str:
    """Markdown; `heading` puts the title on top (a file), off for trackers that hold the title apart."""
    out = [f"# {md_text(t.title)}", ""] if heading else []
    for s in sections(t):
        out += [f"## {s.heading}", ""]  # our own words: nothing to escape
        out += [line for p in s.paragraphs for line in (md_text(p), "")]
        if s.items:
            out += [f"{i}. {md_text(x)}" if s.numbered else f"- {md_text(x)}" for i, x in enumerate(s.items, 1)]
            out.append("")
    out += ["---", "", footer(t)]
    return "\n".join(out).strip() + "\n"


def _text(value: str, strong: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": " ".join(value.split()) or "—"}
    if strong:
        node["marks"] = [{"type": "strong"}]
    return node


def _paragraph(value: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [_text(value)]}


def ticket_adf(t: DocTicket) -> dict[str, Any]:
    """The ticket as an Atlassian Document Format document (Jira Cloud REST v3 `description`)."""
    content: list[dict[str, Any]] = []
    for s in sections(t):
        content.append({"type": "heading", "attrs": {"level": 2}, "content": [_text(s.heading)]})
        content += [_paragraph(p) for p in s.paragraphs]
        if s.items:
            items = [{"type": "listItem", "content": [_paragraph(x)]} for x in s.items]
            content.append({"type": "orderedList" if s.numbered else "bulletList", "content": items})
    content += [{"type": "rule"}, _paragraph(footer(t))]
    return {"type": "doc", "version": 1, "content": content}


def ticket_html(t: DocTicket) -> str:
    """Asana's rich text (`html_notes`): its small tag set only, every text escaped."""
    e = html.escape
    out = ["<body>"]
    for s in sections(t):
        out.append(f"<h2>{e(s.heading)}</h2>")
        out += [f"{e(p)}\n" for p in s.paragraphs]
        if s.items:
            tag = "ol" if s.numbered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{e(x)}</li>" for x in s.items) + f"</{tag}>")
    out.append(f"<em>{e(footer(t))}</em></body>")
    return "".join(out)
