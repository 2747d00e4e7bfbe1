"""A page of the doc index as its sections, for reading a cited page inside docgap."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core.models import Chunk, Document
from core.runtime import Runtime


@dataclass
class DocSection:
    anchor: str
    section: str
    """The chunk's section path, "Title › Heading › Subheading"."""
    headings: list[tuple[int, str]]
    """(level, text) of the headings that open here: the parts of the path that differ from the section before."""
    text: str
    """The section's Markdown (rendered by the page, with raw HTML disabled)."""


@dataclass
class DocPage:
    document: Document
    sections: list[DocSection] = field(default_factory=list)
    """In page order, one per section of the document."""


def _without_overlap(previous: str, text: str, least: int = 8) -> str:
    """`text` minus its start when that repeats the end of `previous` (chunks of a long section overlap)."""
    for k in range(min(len(previous), len(text)), least - 1, -1):
        if previous.endswith(text[:k]):
            return text[k:].lstrip()
    return text


def _section_parts(section: str, title: str) -> list[str]:
    parts = [s for s in section.split(" › ") if s]
    return parts[1:] if parts and parts[0].strip() == title.strip() else parts


def section_heading(section: str, title: str) -> str:
    """A chunk's section path without the page title it starts with ("Title › How it works" → "How it works")."""
    return " › ".join(_section_parts(section, title))


def docs_indexed(runtime: Runtime) -> bool:
    """Whether any doc passage is indexed: without one there is nothing to answer from or judge coverage against."""
    with Session(runtime.engine) as session:
        return session.exec(select(Chunk.id).limit(1)).first() is not None


def doc_page(runtime: Runtime, url: str) -> DocPage | None:
    with Session(runtime.engine) as session:
        doc = session.exec(select(Document).where(Document.url == url.split("#")[0])).first()
        if doc is None:
            return None
        chunks = session.exec(select(Chunk).where(Chunk.document_id == doc.id).order_by(col(Chunk.ordinal))).all()
    # Consecutive chunks of one section are one section on the page (one anchor, no repeated overlap).
    merged: list[tuple[str, str, str]] = []
    for c in chunks:
        if merged and merged[-1][1] == c.section:
            anchor, section, text = merged[-1]
            merged[-1] = (anchor, section, text + "\n\n" + _without_overlap(text, c.text))
        else:
            merged.append((c.anchor, c.section, c.text))
    page = DocPage(doc)
    shown: list[str] = []
    for anchor, section, text in merged:
        parts = _section_parts(section, doc.title)
        same = 0
        while same < min(len(parts), len(shown)) and parts[same] == shown[same]:
            same += 1
        headings = [(min(level + 2, 4), parts[level]) for level in range(same, len(parts))]
        shown = parts
        page.sections.append(DocSection(anchor, section, headings, text))
    return page
