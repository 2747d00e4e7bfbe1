"""Markdown, HTML and rST folders under fuzzing: every file read or reported, in linear time, deep HTML included."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ingest.docs import DocumentRecord, html_document, read_docs_folder, rst_to_markdown
from ingest.records import IngestError
from tests.ingest.fuzz._support import fuzz

MARKUP = st.text(st.sampled_from(list("#=-~`:_<>*[]().!| \t\nab1é")), max_size=400)
"""Text dense in the characters the Markdown and rST converters look for."""
WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=3, max_size=8)


def _tree(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    tags = st.sampled_from(["div", "p", "span", "section", "b", "em", "h1", "h2", "h4", "blockquote", "aside", "code"])
    return st.recursive(
        words,
        lambda inner: (
            st.tuples(tags, st.lists(inner, min_size=1, max_size=3)).map(lambda t: f"<{t[0]}>{' '.join(t[1])}</{t[0]}>")
            | st.lists(inner, min_size=1, max_size=4).map(
                lambda items: "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
            )
        ),
        max_leaves=15,
    )


@fuzz(150)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([".md", ".html", ".rst", ".mdx", ".htm"]), st.binary(max_size=300) | MARKUP.map(str.encode)
        ),
        min_size=1,
        max_size=4,
    )
)
def test_every_file_becomes_a_document_or_an_error_naming_it(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for i, (suffix, raw) in enumerate(files):
            (Path(tmp) / f"page{i}{suffix}").write_bytes(raw)
            names.append(f"page{i}{suffix}")
        items = list(read_docs_folder(Path(tmp)))
    seen = [i.url if isinstance(i, DocumentRecord) else Path(i.file).name for i in items]
    assert sorted(seen) == sorted(names), "each file once, read or reported"
    for item in items:
        if isinstance(item, DocumentRecord):
            assert item.text.strip() and item.title and len(item.content_hash) == 64
        else:
            assert isinstance(item, IngestError)
            assert item.message == "empty page" or item.message.startswith("not valid UTF-8"), item.message


@fuzz(100)
@given(_tree(WORD))
def test_html_keeps_every_word_of_its_content(body: str) -> None:
    record = html_document("p.html", f"<html><body>{body}</body></html>", "fallback")
    assert set(re.findall(r"(?<=[> ])[a-z]{3,8}(?=[< ])", body)) <= set(re.sub(r"[#*`]", " ", record.text).split())


def test_a_page_of_several_articles_keeps_them_all() -> None:
    faq = "<nav>Menu</nav>" + "".join(f"<article><h2>Q{i}</h2><p>answer{i}</p></article>" for i in range(3))
    text = html_document("faq.html", f"<body>{faq}</body>", "FAQ").text
    assert all(f"answer{i}" in text for i in range(3)) and "Menu" not in text
    one = html_document("one.html", "<body><div>chrome</div><article><p>content</p></article></body>", "x").text
    assert "content" in one and "chrome" not in one, "a single article is still the page's content"


def test_html_nested_far_deeper_than_the_stack_is_read_not_a_recursion_error() -> None:
    for depth in (5_000, 50_000):
        raw = "<div><p>" * depth + "deep words" + "</p></div>" * depth
        record = html_document("deep.html", f"<h1>Deep</h1>{raw}<p>after</p>", "deep")
        assert "deep words" in record.text and "after" in record.text and record.title == "Deep"


def test_hostile_lines_convert_in_linear_time() -> None:
    lines = {
        "md heading and spaces": "# a" + " " * 100_000 + "b",
        "md heading and hashes": "#\t" + "#" * 100_000 + " x",
        "rst role run": ":a" * 100_000,
        "rst role then spaces": ":a:`" + " " * 100_000,
        "rst backtick then spaces": "`" + " " * 100_000,
        "rst unclosed links": "`a <" * 50_000,
    }
    for name, line in lines.items():
        with tempfile.TemporaryDirectory() as tmp:
            for suffix in (".md", ".rst"):
                (Path(tmp) / f"p{suffix}").write_text(line + "\n\nSome text.\n")
            start = time.monotonic()
            items = list(read_docs_folder(Path(tmp)))
            assert time.monotonic() - start < 3, name
            assert len(items) == 2


def test_rst_roles_and_links_still_convert() -> None:
    text = rst_to_markdown("See :ref:`the guide <guide>`, `Fernpay <https://x.io>`_, :py:func:`os.path` and ``x``.")
    assert text.strip() == "See the guide, [Fernpay](https://x.io), os.path and `x`."
