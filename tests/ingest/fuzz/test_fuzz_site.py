"""Sitemaps and crawled pages under fuzzing: entities never expanded, nothing outside http(s) fetched, sizes capped.

The site is an `httpx.MockTransport` (the network edge); everything from the response on is the real code.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from xml.sax.saxutils import escape

import httpx
from hypothesis import given
from hypothesis import strategies as st

from ingest.docs import DocumentRecord
from ingest.records import IngestError
from ingest.site import MAX_PAGE_BYTES, MAX_SITEMAP_BYTES, MAX_XML_DEPTH, CrawlOptions, crawl_sitemap
from tests.ingest.fuzz._support import fuzz

BASE = "https://docs.example.com"
PAGE = b"<html><head><title>Page</title></head><body><h1>Page</h1><p>How to export invoices.</p></body></html>"


class Site:
    """Serves one sitemap body and a page for every other path; remembers what was asked for."""

    def __init__(self, sitemap: bytes, pages: dict[str, httpx.Response] | None = None) -> None:
        self.sitemap, self.pages, self.requested = sitemap, pages or {}, []  # type: list[str]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requested.append(str(request.url))
        if request.url.path == "/sitemap.xml":
            return httpx.Response(200, content=self.sitemap, headers={"content-type": "application/xml"})
        return self.pages.get(request.url.path) or httpx.Response(
            200, content=PAGE, headers={"content-type": "text/html"}
        )

    def crawl(self, **options: object) -> list[DocumentRecord | IngestError]:
        client = httpx.Client(transport=httpx.MockTransport(self.handle))
        opts = CrawlOptions(sleep=lambda _s: None, attempts=1, **options)  # type: ignore[arg-type]
        return list(crawl_sitemap(f"{BASE}/sitemap.xml", opts, client=client))


def _urlset(locs: list[str], extra: str = "") -> bytes:
    urls = "".join(f"<url><loc>{escape(loc)}</loc>{extra}</url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


@fuzz(150)
@given(st.binary(max_size=300) | st.text(st.sampled_from(list("<>/?!&;:=\"' ax[]-")), max_size=200).map(str.encode))
def test_any_sitemap_body_yields_only_errors_and_fetches_nothing_else(body: bytes) -> None:
    site = Site(body)
    items = site.crawl()
    assert all(isinstance(i, IngestError | DocumentRecord) for i in items)
    assert len(site.requested) == 1 + sum(isinstance(i, DocumentRecord) for i in items) + sum(
        isinstance(i, IngestError) and i.record == "page" and "not fetched" not in i.message for i in items
    )


@fuzz(80)
@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=15), min_size=1, max_size=6, unique=True
    ),
    st.sampled_from(
        ["", "<lastmod>2026-03-01</lastmod>", "<image:image xmlns:image='urn:i'><image:loc>x</image:loc></image:image>"]
    ),
    st.booleans(),
)
def test_every_listed_page_is_fetched_once_and_read_or_reported(slugs: list[str], extra: str, gz: bool) -> None:
    locs = [f"{BASE}/p/{i}/{s}" for i, s in enumerate(slugs)]
    body = _urlset(locs, extra)
    site = Site(gzip.compress(body) if gz else body)
    items = site.crawl()
    named = [i.url if isinstance(i, DocumentRecord) else i.file for i in items]
    assert len(named) == len(locs), items
    for loc, item in zip(locs, items, strict=True):
        if isinstance(item, IngestError):
            assert item.record == "page" and item.message.startswith("not a valid URL"), item
        else:
            assert item.url == loc.strip() and "export invoices" in item.text


def test_a_billion_laughs_sitemap_is_refused_not_expanded() -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE urlset [{entities}]><urlset><url><loc>{BASE}/&l9;</loc></url></urlset>'
    site = Site(bomb.encode())
    (error,) = site.crawl()
    assert isinstance(error, IngestError) and error.record == "sitemap" and "never expanded" in error.message
    assert site.requested == [f"{BASE}/sitemap.xml"]


def test_external_entities_and_dtds_are_never_read() -> None:
    for doctype in [
        '<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{BASE}/secret">]>',
        f'<!DOCTYPE urlset [<!ENTITY % p SYSTEM "{BASE}/evil.dtd"> %p;]>',
    ]:
        site = Site(f'<?xml version="1.0"?>{doctype}<urlset><url><loc>{BASE}/&x;</loc></url></urlset>'.encode())
        items = site.crawl()
        assert [i.record for i in items] == ["sitemap"], items
        assert site.requested == [f"{BASE}/sitemap.xml"], "no entity or DTD is fetched"
        assert "root:" not in str(items)


def test_a_sitemap_listing_files_or_other_schemes_fetches_none_of_them() -> None:
    site = Site(_urlset(["file:///etc/passwd", "gopher://x/1", f"{BASE}/ok"]))
    items = site.crawl()
    assert [(i.record, i.message) for i in items if isinstance(i, IngestError)] == [
        ("page", "not an http(s) URL: not fetched")
    ] * 2
    assert site.requested == [f"{BASE}/sitemap.xml", f"{BASE}/ok"]


def test_deep_xml_is_refused() -> None:
    deep = "<x>" * (MAX_XML_DEPTH + 1) + "</x>" * (MAX_XML_DEPTH + 1)
    (error,) = Site(f"<urlset><url><loc>{BASE}/a</loc>{deep}</url></urlset>".encode()).crawl()
    assert isinstance(error, IngestError) and f"deeper than {MAX_XML_DEPTH}" in error.message
    items = Site(f"<urlset>{'<url>' * 100_000}</urlset>".encode()).crawl()
    assert [i.record for i in items] == ["sitemap"]


def test_a_gzip_bomb_sitemap_is_refused() -> None:
    body = b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 1) + b"</urlset>"
    (error,) = Site(gzip.compress(body, compresslevel=1)).crawl()
    assert isinstance(error, IngestError) and "unpacks to over" in error.message


class Counted:
    """A streamed body that counts what the crawler pulled from it."""

    def __init__(self, total: int, chunk: int = 2**20) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"<p>" + b"x" * (self.chunk - 3)


def test_a_page_over_the_size_limit_is_refused_and_not_read_to_the_end() -> None:
    endless = Counted(total=100 * MAX_PAGE_BYTES)
    gz = gzip.compress(b"<p>" + b"y" * (2 * MAX_PAGE_BYTES), compresslevel=1)
    site = Site(
        _urlset([f"{BASE}/{p}" for p in ("huge", "declared", "gzipped", "fine")]),
        {
            "/huge": httpx.Response(200, content=endless, headers={"content-type": "text/html"}),
            "/declared": httpx.Response(
                200, content=b"", headers={"content-type": "text/html", "content-length": str(MAX_PAGE_BYTES + 1)}
            ),
            "/gzipped": httpx.Response(
                200, content=gz, headers={"content-type": "text/html", "content-encoding": "gzip"}
            ),
        },
    )
    items = site.crawl()
    errors = {i.file.rsplit("/", 1)[1]: i.message for i in items if isinstance(i, IngestError)}
    assert set(errors) == {"huge", "declared", "gzipped"} and all("byte limit" in m for m in errors.values())
    assert endless.sent <= MAX_PAGE_BYTES + 2 * endless.chunk, "stopped reading at the limit"
    assert [i.url for i in items if isinstance(i, DocumentRecord)] == [f"{BASE}/fine"]
    small = Site(_urlset([f"{BASE}/a"])).crawl(max_page_bytes=10)
    assert [i.record for i in small] == ["page"] and "10-byte limit" in small[0].message  # type: ignore[union-attr]
