"""Docs beyond Markdown folders: HTML and reStructuredText pages, a site crawled from its sitemap, OpenAPI specs.

The site is a real HTTP server on loopback; the index is the real SQLite + Chroma + MiniLM one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, col, select

from core.models import Chunk, Document
from ingest.docs import DocumentRecord, read_docs_folder
from ingest.openapi import read_openapi
from ingest.records import IngestError
from ingest.site import CrawlOptions
from retrieval.chunking import chunk_document
from retrieval.index import search
from tests.commandline import docgap
from usecases.pipeline import import_docs

CARDS_HTML = """<!doctype html><html><head><title>Cards</title><style>body {color: red}</style>
<script>trackVisitor("cards")</script></head><body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing menu</a></nav>
<main><h1>Cards</h1><p>Everything about your <b>Fernpay</b> cards, physical and virtual.</p>
<h2>Changing your PIN</h2><p>Open <code>Cards</code>, pick the card and choose Change PIN. It works at once.</p>
<ul><li>Physical cards need a chip-and-PIN terminal once.</li><li>Virtual cards have no PIN at all.</li></ul>
<h3>Forgotten PIN</h3><p>Tap Show PIN in the app after confirming your identity with a passcode.</p>
</main><footer>Copyright Fernpay Ltd, all rights reserved</footer></body></html>"""

PAYMENTS_RST = """
========
Payments
========

How money moves in and out of a Fernpay account, with ``SEPA`` and :ref:`card rails <rails>`.

Sending money
=============

Open Payments and choose Send. Transfers to another Fernpay account arrive at once.

.. note:: Transfers to other banks take one business day.

.. toctree::
   :maxdepth: 2

   hidden-page

Example request::

    curl -X POST https://api.fernpay.example/v1/transfers

Limits
------

The daily sending limit is 5,000 EUR per account; raise it under Settings.

Refunds
=======

#. Ask the recipient to send the money back.
#. If they do not, contact support within 60 days.
"""


def test_html_and_rst_folders_keep_titles_headings_and_drop_navigation(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "guides" / "cards.html").write_text(CARDS_HTML)
    (docs / "payments.rst").write_text(PAYMENTS_RST)
    (docs / "intro.md").write_text("# Welcome\n\nFernpay is a business payments account for small teams.\n")
    records = {r.url: r for r in read_docs_folder(docs) if isinstance(r, DocumentRecord)}
    assert set(records) == {"guides/cards.html", "payments.rst", "intro.md"}

    cards = records["guides/cards.html"]
    assert cards.title == "Cards"
    assert "## Changing your PIN" in cards.text and "### Forgotten PIN" in cards.text
    assert "- Virtual cards have no PIN at all." in cards.text and "`Cards`" in cards.text
    for dropped in ("Pricing menu", "trackVisitor", "color: red", "Copyright"):
        assert dropped not in cards.text
    assert [c.section for c in chunk_document(cards)] == [
        "Cards",
        "Cards › Changing your PIN",
        "Cards › Changing your PIN › Forgotten PIN",
    ]

    payments = records["payments.rst"]
    assert payments.title == "Payments"
    chunks = chunk_document(payments)
    by_section = {c.section: c for c in chunks}
    assert list(by_section) == [
        "Payments",
        "Payments › Sending money",
        "Payments › Sending money › Limits",
        "Payments › Refunds",
    ]
    assert by_section["Payments › Sending money › Limits"].anchor == "limits"
    assert "5,000 EUR" in by_section["Payments › Sending money › Limits"].text
    sending = by_section["Payments › Sending money"].text
    assert "**Note:** Transfers to other banks take one business day." in sending
    assert "```\ncurl -X POST" in sending and "hidden-page" not in payments.text and "maxdepth" not in payments.text
    assert "`SEPA`" in payments.text and "card rails" in payments.text and ":ref:" not in payments.text
    assert "1. Ask the recipient" in by_section["Payments › Refunds"].text

    result = import_docs(fresh_runtime, docs)
    assert result.added == 3 and result.ok
    hits = search(fresh_runtime, fresh_runtime.embedder.embed(["I forgot my card PIN"])[0], k=3)
    assert hits[0].url == "guides/cards.html#forgotten-pin"
    again = import_docs(fresh_runtime, docs)
    assert again.unchanged == 3 and again.added == again.updated == 0


# --- a docs site on loopback ------------------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav>Docs menu: Home · Guides · API</nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>© Fernpay</footer></body></html>"
    )


class _Site:
    """Routes of the fake docs site, and knobs the tests turn between crawls."""

    def __init__(self) -> None:
        self.base = ""
        self.flaky_failures = 1
        self.broken: set[str] = set()
        self.hits: dict[str, int] = {}

    def route(self, path: str) -> tuple[int, dict[str, str], bytes]:
        self.hits[path] = self.hits.get(path, 0) + 1
        html = {"Content-Type": "text/html; charset=utf-8"}
        xml = {"Content-Type": "application/xml"}
        if path in self.broken:
            return 503, {"Retry-After": "0"}, b"down"
        if path == "/sitemap.xml":
            return 200, xml, self._index()
        if path == "/sitemap-guides.xml":
            return 200, xml, self._urlset(["/guides/transfers", "/guides/cards", "/guides/fees", "/flaky", "/gone"])
        if path == "/flaky" and self.flaky_failures > 0:
            self.flaky_failures -= 1
            return 500, {"Retry-After": "1"}, b"busy"
        pages = {
            "/guides/transfers": _page(
                "Transfers",
                "<p>Transfers between Fernpay accounts are instant.</p><h2>Delays</h2>"
                "<p>A transfer to another bank can take up to one business day to arrive.</p>",
            ),
            "/guides/cards": _page("Cards", "<p>Freeze a lost card from the Cards tab at any time.</p>"),
            "/guides/fees": _page("Fees", "<p>Sending money inside the EU is free; ATM withdrawals cost 2 EUR.</p>"),
            "/flaky": _page("Statements", "<p>Download monthly statements as PDF or CSV from Reports.</p>"),
        }
        if path in pages:
            return 200, html, pages[path].encode()
        return 404, html, b"<h1>Not found</h1>"

    def _index(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{self.base}/sitemap-guides.xml</loc></sitemap></sitemapindex>"
        ).encode()

    def _urlset(self, paths: list[str]) -> bytes:
        urls = "".join(f"<url><loc>{self.base}{p}</loc><lastmod>2026-11-01</lastmod></url>" for p in paths)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()


@pytest.fixture()
def docs_site() -> Iterator[_Site]:
    site = _Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = site.route(self.path)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


def test_sitemap_crawl_indexes_pages_by_url_and_reports_failures(docs_site: _Site, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    waits: list[float] = []
    crawl = CrawlOptions(concurrency=3, timeout=5, sleep=lambda s: waits.append(s))
    sitemap = f"{docs_site.base}/sitemap.xml"

    first = import_docs(fresh_runtime, sitemap=sitemap, crawl=crawl)

    assert first.added == 4, "three guides and the page that failed once with a 500"
    assert first.errors == [IngestError(f"{docs_site.base}/gone", "page", "HTTP 404")]
    assert docs_site.hits["/flaky"] == 2 and waits == [1.0], "the 500 was retried after its Retry-After"
    with Session(fresh_runtime.engine) as s:
        docs = {d.url: d for d in s.exec(select(Document)).all()}
        texts = " ".join(s.exec(select(Chunk.text)).all())
    assert set(docs) == {
        f"{docs_site.base}{p}" for p in ("/guides/transfers", "/guides/cards", "/guides/fees", "/flaky")
    }
    assert docs[f"{docs_site.base}/flaky"].title == "Statements"
    assert "Docs menu" not in texts and "© Fernpay" not in texts
    hits = search(fresh_runtime, fresh_runtime.embedder.embed(["my bank transfer has not arrived yet"])[0], k=1)
    assert hits[0].url == f"{docs_site.base}/guides/transfers#delays"

    docs_site.broken = {"/guides/cards"}
    second = import_docs(fresh_runtime, sitemap=sitemap, crawl=crawl)
    assert second.unchanged == 3 and second.added == second.updated == 0
    assert [e.file for e in second.errors] == [f"{docs_site.base}/guides/cards", f"{docs_site.base}/gone"]
    assert second.errors[0].message == "HTTP 503 after 3 attempts"
    with Session(fresh_runtime.engine) as s:
        assert len(s.exec(select(Document)).all()) == 4, "a page that failed this time keeps its passages"

    unreachable = import_docs(fresh_runtime, sitemap=f"{docs_site.base}/no-sitemap.xml", source=sitemap, crawl=crawl)
    assert [e.record for e in unreachable.errors] == ["sitemap"] and "404" in unreachable.errors[0].message
    with Session(fresh_runtime.engine) as s:
        assert len(s.exec(select(Document)).all()) == 4, "an unreachable sitemap does not empty the index"


def test_max_pages_caps_the_crawl(docs_site: _Site, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    crawl = CrawlOptions(max_pages=2, sleep=lambda s: None)
    result = import_docs(fresh_runtime, sitemap=f"{docs_site.base}/sitemap.xml", crawl=crawl)
    assert result.added == 2 and result.ok and "/guides/fees" not in docs_site.hits


# --- OpenAPI ------------------------------------------------------------------------------------------------------

PETSTORE = {
    "openapi": "3.0.3",
    "info": {"title": "Petstore API", "version": "1.0.0", "description": "Manage the pets in your store."},
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "summary": "List all pets",
                "tags": ["pets"],
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "How many items to return at one time (max 100)",
                        "schema": {"type": "integer", "format": "int32"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "A paged array of pets",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}},
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
            },
            "post": {
                "summary": "Create a pet",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                },
                "responses": {"201": {"description": "Null response"}},
            },
        },
        "/pets/{petId}": {
            "parameters": [{"$ref": "#/components/parameters/PetId"}],
            "get": {
                "operationId": "showPetById",
                "summary": "Info for a specific pet",
                "description": "Returns one pet, including its tag.",
                "responses": {
                    "200": {
                        "description": "Expected response to a valid request",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    },
                    "404": {"description": "No pet with that id"},
                },
            },
            "delete": {"operationId": "deletePet", "summary": "Delete a pet", "deprecated": True, "responses": {}},
        },
    },
    "components": {
        "parameters": {
            "PetId": {
                "name": "petId",
                "in": "path",
                "required": True,
                "description": "The id of the pet to retrieve",
                "schema": {"type": "string"},
            }
        },
        "responses": {
            "Error": {
                "description": "unexpected error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "name": {"type": "string"},
                    "tag": {"type": "string"},
                    "owner": {"$ref": "#/components/schemas/Pet"},
                },
            },
            "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
            "Error": {"type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}},
        },
    },
}


def test_openapi_spec_is_one_document_with_one_chunk_per_operation(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "petstore.yaml"
    spec.write_text(yaml.safe_dump(PETSTORE, sort_keys=False))
    (records,) = list(read_openapi(spec))
    assert isinstance(records, DocumentRecord) and records.title == "Petstore API" and records.chunks is not None
    chunks = {c.section: c for c in records.chunks}
    assert list(chunks) == ["GET /pets", "POST /pets", "GET /pets/{petId}", "DELETE /pets/{petId}"]
    assert [c.anchor for c in records.chunks] == ["listPets", "post-pets", "showPetById", "deletePet"]

    show = chunks["GET /pets/{petId}"].text
    assert show.startswith("GET /pets/{petId} — Info for a specific pet\n\nReturns one pet, including its tag.")
    assert "- petId (path, required, string): The id of the pet to retrieve" in show
    assert "- 200 (application/json): Expected response to a valid request — Pet {id*: integer (int64)" in show
    assert "owner: Pet}" in show, "a recursive schema is named, not expanded forever"
    assert "- 404: No pet with that id" in show
    listing = chunks["GET /pets"].text
    assert "- limit (query, optional, integer (int32)): How many items to return" in listing
    assert "array of Pet {id*: integer (int64), name*: string, tag: string, owner: Pet}" in listing
    assert "- default (application/json): unexpected error — Error {code: integer, message: string}" in listing
    assert "Request body (application/json, required): Pet {id*: integer" in chunks["POST /pets"].text
    assert "(deprecated)" in chunks["DELETE /pets/{petId}"].text
    assert chunk_document(records) == records.chunks

    first = import_docs(fresh_runtime, openapi=spec)
    assert first.added == 1 and first.ok
    with Session(fresh_runtime.engine) as s:
        stored = s.exec(select(Chunk).order_by(col(Chunk.ordinal))).all()
    assert [c.section for c in stored] == list(chunks) and stored[2].anchor == "showPetById"
    hits = search(fresh_runtime, fresh_runtime.embedder.embed(["how do I delete a pet"])[0], k=1)
    assert hits[0].url == "petstore.yaml#deletePet"

    again = import_docs(fresh_runtime, openapi=spec)
    assert again.unchanged == 1 and again.added == again.updated == 0
    assert fresh_runtime.vectors.count("doc_chunks") == 4, "re-ingesting an unchanged spec adds nothing"

    as_json = tmp_path / "petstore.json"
    as_json.write_text(json.dumps(PETSTORE))
    assert next(iter(read_openapi(as_json))).chunks == records.chunks, "JSON and YAML read the same"


def test_a_file_that_is_not_a_spec_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.yaml"
    bad.write_text("shopping: [milk, eggs]\n")
    (error,) = list(read_openapi(bad))
    assert isinstance(error, IngestError) and "no `paths`" in error.message
    broken = tmp_path / "broken.json"
    broken.write_text('{"openapi": "3.0.0", "paths": ')
    (error,) = list(read_openapi(broken))
    assert isinstance(error, IngestError) and error.file == str(broken)


def test_cli_indexes_an_openapi_spec_and_refuses_two_sources(tmp_path: Path) -> None:
    spec = tmp_path / "petstore.json"
    spec.write_text(json.dumps(PETSTORE))
    proc = docgap(["ingest", "docs", "--openapi", str(spec)], tmp_path / "data")
    assert "1 added" in proc.stdout
    both = docgap(["ingest", "docs", str(tmp_path), "--openapi", str(spec)], tmp_path / "data", check=False)
    assert both.returncode == 1 and "exactly one" in both.stderr
