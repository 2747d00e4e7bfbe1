"""Documentation folders: Markdown (`.md`, `.markdown`, `.mdx`) pages, each with a title and a content hash.

The page's URL is its path relative to the folder, which is what citations show and link to.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.records import IngestError

DOC_SUFFIXES = {".md", ".markdown", ".mdx"}
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


@dataclass(frozen=True)
class DocumentRecord:
    url: str
    title: str
    text: str
    content_hash: str


def read_docs_folder(root: Path) -> Iterator[DocumentRecord | IngestError]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in DOC_SUFFIXES)
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            yield IngestError(str(path), "file", f"not valid UTF-8 (byte {exc.start})")
            continue
        if not text.strip():
            yield IngestError(str(path), "file", "empty page")
            continue
        m = _H1.search(text)
        title = m.group(1).strip() if m else path.stem.replace("-", " ").replace("_", " ").capitalize()
        yield DocumentRecord(rel, title, text, hashlib.sha256(text.encode()).hexdigest())
