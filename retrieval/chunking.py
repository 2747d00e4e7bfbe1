"""Header-aware chunking of Markdown pages with `langchain-text-splitters`.

Splitting on headers first keeps a passage inside one section, so a citation points at the section that says
it; long sections are then cut on paragraph and sentence boundaries. Only this module imports langchain.
"""

from __future__ import annotations

import re

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from ingest.docs import ChunkRecord, DocumentRecord

__all__ = ["ChunkRecord", "chunk_document", "chunk_markdown", "slugify"]

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
CHUNK_CHARS = 900
CHUNK_OVERLAP = 120


def slugify(heading: str) -> str:
    """The anchor most Markdown renderers (GitHub, MkDocs) give a heading."""
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", heading.lower()).strip())


def chunk_document(doc: DocumentRecord) -> list[ChunkRecord]:
    """A page's passages: the ones its reader cut (an OpenAPI operation each), else its Markdown by headings."""
    return list(doc.chunks) if doc.chunks is not None else chunk_markdown(doc.text)


def chunk_markdown(text: str) -> list[ChunkRecord]:
    headers = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True)
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP)
    out: list[ChunkRecord] = []
    for doc in headers.split_text(text):
        path = [doc.metadata[k] for _, k in _HEADERS if k in doc.metadata]
        deepest = path[-1] if path else ""
        # The header splitter marks paragraph breaks as hard line breaks ("  \n"); restore the blank lines so
        # paragraphs, tables and lists stay apart for the paragraph-aware splitter, snippets and prompts.
        for piece in splitter.split_text(doc.page_content.replace("  \n", "\n\n")):
            piece = piece.strip()
            if len(piece) < 20:
                continue
            out.append(
                ChunkRecord(section=" › ".join(path), anchor=slugify(deepest) if len(path) > 1 else "", text=piece)
            )
    return out
