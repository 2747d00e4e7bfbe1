"""Documentation pages as records: Markdown, HTML and reStructuredText folders, each page with a title and hash.

Every format is turned into Markdown-ish text whose headings are `#`/`##`/`###`, so the one header-aware chunker
in `retrieval.chunking` keeps passages inside sections whatever the source format was. The page's URL is its path
relative to the folder (or the page URL for a crawled site), which is what citations show and link to.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ingest.records import IngestError

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdx"}
HTML_SUFFIXES = {".html", ".htm"}
RST_SUFFIXES = {".rst"}
DOC_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | RST_SUFFIXES
MAX_HTML_DEPTH = 200
"""Element nesting followed when converting HTML; deeper elements keep their text as one paragraph. Real pages nest
a few dozen levels; following thousands would overflow Python's stack."""


@dataclass(frozen=True)
class ChunkRecord:
    """One passage of a page. It lives here, not in `retrieval`, because some formats (OpenAPI) cut their own."""

    section: str
    anchor: str
    text: str


@dataclass(frozen=True)
class DocumentRecord:
    url: str
    title: str
    text: str
    content_hash: str
    chunks: list[ChunkRecord] | None = None
    """Pre-cut passages; when given the indexer stores these instead of chunking `text` by its headings."""


def content_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def read_docs_folder(root: Path) -> Iterator[DocumentRecord | IngestError]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in DOC_SUFFIXES)
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
            record = _read_page(path.suffix.lower(), rel, raw, _fallback_title(path))
        except UnicodeDecodeError as exc:
            yield IngestError(str(path), "file", f"not valid UTF-8 (byte {exc.start})")
            continue
        if not record.text.strip():
            yield IngestError(str(path), "file", "empty page")
            continue
        yield record


def _fallback_title(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


def _read_page(suffix: str, url: str, raw: bytes, fallback_title: str) -> DocumentRecord:
    if suffix in HTML_SUFFIXES:
        return html_document(url, raw, fallback_title)
    text = raw.decode("utf-8")
    if suffix in RST_SUFFIXES:
        text = rst_to_markdown(text)
    title = markdown_title(text) or fallback_title
    # Markdown keeps hashing its raw text, so folders indexed before HTML/rST support stay "unchanged".
    return DocumentRecord(url, title, text, hashlib.sha256(text.encode()).hexdigest())


def markdown_title(text: str) -> str | None:
    """The first ATX `# Title` (closing `#`s dropped), found line by line.

    Not a regex: the one that matched optional spaces, `#`s and spaces after a lazy title took cubic time on a
    heading followed by a long run of spaces (a fuzzer's find).
    """
    for line in text.splitlines():
        if line[:1] != "#" or line[1:2] not in (" ", "\t"):
            continue
        title = line[2:].strip()
        closing = title.rstrip("#")
        if closing != title and (not closing or closing[-1] in " \t"):
            title = closing.strip()
        if title:
            return title
    return None


# --- HTML ------------------------------------------------------------------------------------------------------

_DROP = ["script", "style", "nav", "footer", "noscript", "template", "svg", "iframe", "form", "button"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BREAKS = {"p", "div", "section", "article", "main", "header", "aside", "blockquote", "dl", "dt", "dd", "br", "hr"}


def html_document(url: str, raw: bytes | str, fallback_title: str) -> DocumentRecord:
    """A page from HTML; the hash covers the converted text, so a changed menu or script does not re-embed it."""
    soup = BeautifulSoup(raw, "html.parser")
    title_tag, h1 = soup.find("title"), soup.find("h1")
    title = next((t.get_text(" ", strip=True) for t in (title_tag, h1) if t and t.get_text(strip=True)), "")
    text = html_to_markdown(soup)
    return DocumentRecord(url, title or fallback_title, text, content_hash(title or fallback_title, text))


def html_to_markdown(soup: BeautifulSoup) -> str:
    """The page's main content as Markdown-ish text: headings h1–h3 as `#`…`###`, lists, code, table rows."""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": ["navigation", "banner", "contentinfo", "search"]}):
        tag.decompose()
    # One <article> is the page's content inside its chrome; several (a FAQ, a list of cards) are all content.
    articles = soup.find_all("article", limit=2)
    single = articles[0] if len(articles) == 1 else None
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or single or soup.body or soup
    writer = _MarkdownWriter()
    writer.walk(root)
    writer.flush()
    return "\n\n".join(writer.blocks) + "\n"


class _MarkdownWriter:
    """Walks the tree, gathering inline text until a block element ends the paragraph."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.prefix = ""
        self.nesting = 0

    def flush(self) -> None:
        text = " ".join("".join(self.inline).split())
        if text:
            self.blocks.append(self.prefix + text)
        self.inline, self.prefix = [], ""

    def walk(self, node: Tag, depth: int = 0) -> None:
        self.nesting += 1
        try:
            for child in node.children:
                if isinstance(child, Comment):
                    continue
                if isinstance(child, NavigableString):
                    self.inline.append(str(child))
                elif isinstance(child, Tag):
                    self._element(child, depth)
        finally:
            self.nesting -= 1

    def _element(self, tag: Tag, depth: int) -> None:
        name = tag.name
        if self.nesting >= MAX_HTML_DEPTH:
            self.inline.append(" " + tag.get_text(" ") + " ")  # iterative in bs4: no recursion however deep
        elif name in _HEADINGS:
            self.flush()
            level, text = _HEADINGS[name], _inline(tag)
            if text:
                self.blocks.append(f"{'#' * level} {text}" if level <= 3 else f"**{text}**")
        elif name == "pre":
            self.flush()
            self.blocks.append("```\n" + tag.get_text().strip("\n") + "\n```")
        elif name in ("ul", "ol"):
            self.flush()
            for i, li in enumerate(tag.find_all("li", recursive=False), 1):
                self.prefix = "  " * depth + (f"{i}. " if name == "ol" else "- ")
                self.walk(li, depth + 1)
                self.flush()
        elif name == "table":
            self.flush()
            rows = [" | ".join(_inline(c) for c in tr.find_all(["th", "td"])) for tr in tag.find_all("tr")]
            self.blocks.append("\n".join(r for r in rows if r.strip(" |")))
        elif name == "code":
            self.inline.append(f"`{tag.get_text()}`")
        elif name in _BREAKS or name in ("p", "li", "figure", "figcaption"):
            self.flush()
            self.walk(tag, depth)
            self.flush()
        else:
            self.walk(tag, depth)


def _inline(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


# --- reStructuredText ------------------------------------------------------------------------------------------

_ADORNMENT = re.compile(r"^([=\-~^\"'`*+#<>:._!$%&,/;?@\\|])\1{2,}\s*$")
_DIRECTIVE = re.compile(r"^\.\.\s+([\w:-]+)::\s*(.*)$")
_DROPPED_DIRECTIVES = {"toctree", "image", "figure", "include", "meta", "raw", "only", "contents", "index", "highlight"}
_CODE_DIRECTIVES = {"code", "code-block", "sourcecode", "literalinclude"}
# Role and link patterns have no two parts that can match the same characters, and a role starts only where none
# could have started just before, so hostile lines (`:a:a:a…`, a backtick then thousands of spaces) stay linear.
_ROLE = re.compile(r"(?<![\w:+-]):(?:[\w+-]+:)+`([^`<]*)(?:<[^`>]*>)?`")
_LINK = re.compile(r"`([^`<]+)<([^`>]+)>`__?")
_LIST_ITEM = re.compile(r"^\s*([-*+•]|\d+[.)])\s")
_REF = re.compile(r"`([^`]+)`__?")


def rst_to_markdown(text: str) -> str:
    """Convert reStructuredText to Markdown: section titles become headings by the order their styles first appear.

    Good enough for indexing, not a renderer: lists and paragraphs pass through, literal blocks become fences,
    admonitions keep their text, and structural directives (toctree, images) are dropped.
    """
    lines = text.replace("\t", "    ").splitlines()
    styles: list[tuple[str, bool]] = []
    out: list[str] = []
    i = 0
    while i < len(lines):
        heading = _section_title(lines, i)
        if heading:
            title, style, used = heading
            if style not in styles:
                styles.append(style)
            out += [f"{'#' * min(styles.index(style) + 1, 6)} {_rst_inline(title)}", ""]
            i += used
            continue
        line = lines[i]
        if line.startswith(".. "):
            block, i = _indented_block(lines, i + 1)
            out += _directive(line, block)
            continue
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            block, i = _indented_block(lines, i + 1)
            lead = line.rstrip()[:-2].rstrip()
            out += ([_rst_inline(lead) + ":", ""] if lead else []) + _fence(block)
            continue
        out.append(_rst_inline(_plain_line(line)))
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def _plain_line(line: str) -> str:
    """Block quotes and definition bodies lose their indent (four spaces would make a Markdown code block)."""
    line = re.sub(r"^(\s*)#\.\s", r"\g<1>1. ", line)
    return line if _LIST_ITEM.match(line) else line.lstrip()


def _section_title(lines: list[str], i: int) -> tuple[str, tuple[str, bool], int] | None:
    """A title at line `i` (overline + title + underline, or title + underline): text, style, lines used."""
    over = _ADORNMENT.match(lines[i])
    if over and i + 2 < len(lines) and lines[i + 1].strip() and _ADORNMENT.match(lines[i + 2]):
        if lines[i + 2].strip()[0] == over.group(1):
            return lines[i + 1].strip(), (over.group(1), True), 3
    if i + 1 >= len(lines) or not lines[i].strip() or lines[i][0].isspace() or _ADORNMENT.match(lines[i]):
        return None
    under = _ADORNMENT.match(lines[i + 1])
    if under and len(lines[i + 1].rstrip()) >= len(lines[i].rstrip()):
        return lines[i].strip(), (under.group(1), False), 2
    return None


def _indented_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """The indented lines (and blank lines between them) starting at `i`, dedented; and the next line's index."""
    start = i
    while i < len(lines) and (not lines[i].strip() or lines[i][0].isspace()):
        i += 1
    while i > start and not lines[i - 1].strip():
        i -= 1
    return textwrap.dedent("\n".join(lines[start:i])).strip("\n").splitlines(), i


def _directive(line: str, block: list[str]) -> list[str]:
    m = _DIRECTIVE.match(line)
    if not m:
        return []  # a comment or a link target (`.. _name:`)
    name, argument = m.group(1).lower(), m.group(2).strip()
    body = [ln for ln in block if not re.match(r"^:[\w-]+:", ln)]  # directive options
    if name in _DROPPED_DIRECTIVES:
        return []
    if name in _CODE_DIRECTIVES:
        return _fence(body)
    label = f"**{name.capitalize()}:** " if name not in ("container", "rubric") else ""
    first = " ".join(filter(None, [label.strip(), _rst_inline(argument)]))
    return ["", first, *(_rst_inline(b) for b in body), ""]


def _fence(block: list[str]) -> list[str]:
    return ["", "```", *block, "```", ""] if block else []


def _rst_inline(text: str) -> str:
    """Inline markup as Markdown: ``literal`` → `literal`, roles and references → their text, links kept."""
    parts = re.split(r"(``[^`]+``)", text)
    return "".join(p[1:-1] if p.startswith("``") else _rst_references(p) for p in parts)


def _rst_references(text: str) -> str:
    text = _ROLE.sub(lambda m: m.group(1).strip(), text)
    text = _LINK.sub(lambda m: f"[{m.group(1).strip()}]({m.group(2)})", text)
    return _REF.sub(r"\1", text)
