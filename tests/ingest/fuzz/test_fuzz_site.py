"""Sitemaps and crawled pages under fuzzing: entities never expanded, nothing outside http(s) fetched, sizes capped.

The site is a real HTTP server on 127.0.0.1 (an ephemeral port, one per module) and the crawler talks HTTP/1.1 to it
over loopback through the client it would make itself (`crawl_client`, built once per module: it costs ~30 ms), so
headers, chunked and gzip-encoded bodies, lying lengths, redirects and hang-ups are the real thing.
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.docs import DocumentRecord
from ingest.records import IngestError
from ingest.site import MAX_PAGE_BYTES, MAX_SITEMAP_BYTES, MAX_XML_DEPTH, CrawlOptions, crawl_client, crawl_sitemap
from tests.ingest.fuzz._support import fuzz

PAGE = b"<html><head><title>Page</title></head><body><h1>Page</h1><p>How to export invoices.</p></body></html>"
STREAM_SNDBUF = 64 * 2**10
"""The server's send buffer while streaming a body, so what it has "sent" is close to what the crawler read."""


@dataclass
class Reply:
    """What the server answers one path with; a body that is an iterable of chunks is sent chunked, as produced."""

    body: bytes | Iterable[bytes] = PAGE
    content_type: str = "text/html"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    """Extra headers; a `Content-Length` here is sent as given (it may lie) instead of the body's length."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked bodies are allowed
    disable_nagle_algorithm = True  # else headers and body wait out the client's delayed ACK (40 ms a request)
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        site.requested.append(site.base + self.path)
        path = unquote(urlsplit(self.path).path)
        reply = Reply(site.sitemap, "application/xml") if path == "/sitemap.xml" else site.pages.get(path, Reply())
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes):
            if any(name.lower() == "content-length" for name in reply.headers):
                self.close_connection = True  # a declared length may be a lie: this connection is done
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)
        try:
            for chunk in reply.body:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the crawler hung up mid-body, as it should past its limit
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site


class Site:
    """A documentation site on a real local server: one sitemap, a page for every other path; logs what was asked."""

    def __init__(self) -> None:
        self.sitemap, self.pages, self.requested = b"", {}, []  # type: bytes, dict[str, Reply], list[str]
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._client = crawl_client(CrawlOptions(timeout=10))

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()
        self._server.shutdown()
        self._server.server_close()

    def serve(self, sitemap: bytes, pages: dict[str, Reply] | None = None) -> Site:
        """Serve `sitemap` at /sitemap.xml and `pages` by path from now on, with an empty request log."""
        self.sitemap, self.pages, self.requested = sitemap, pages or {}, []
        return self

    def url(self, path: str) -> str:
        return self.base + path

    def crawl(self, **options: object) -> list[DocumentRecord | IngestError]:
        """Crawl the sitemap over real HTTP with the crawler's kind of client; no retries, no waits."""
        opts = CrawlOptions(sleep=lambda _s: None, attempts=1, timeout=10, **options)  # type: ignore[arg-type]
        return list(crawl_sitemap(self.url("/sitemap.xml"), opts, client=self._client))


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as env:
        for name in ("NO_PROXY", "no_proxy"):  # an HTTP(S)_PROXY in the environment must not take loopback traffic
            env.setenv(name, "127.0.0.1", prepend=",")
        with Site() as s:
            yield s


def _urlset(locs: list[str], extra: str = "") -> bytes:
    urls = "".join(f"<url><loc>{escape(loc)}</loc>{extra}</url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


@fuzz(150)
@given(st.binary(max_size=300) | st.text(st.sampled_from(list("<>/?!&;:=\"' ax[]-")), max_size=200).map(str.encode))
def test_any_sitemap_body_yields_only_errors_and_fetches_nothing_else(site: Site, body: bytes) -> None:
    items = site.serve(body).crawl()
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
def test_every_listed_page_is_fetched_once_and_read_or_reported(
    site: Site, slugs: list[str], extra: str, gz: bool
) -> None:
    locs = [site.url(f"/p/{i}/{s}") for i, s in enumerate(slugs)]
    body = _urlset(locs, extra)
    items = site.serve(gzip.compress(body) if gz else body).crawl()
    named = [i.url if isinstance(i, DocumentRecord) else i.file for i in items]
    assert len(named) == len(locs), items
    for loc, item in zip(locs, items, strict=True):
        if isinstance(item, IngestError):
            assert item.record == "page" and item.message.startswith("not a valid URL"), item
        else:
            assert item.url == loc.strip() and "export invoices" in item.text
    fetched = [u for u in site.requested if "/p/" in u]
    assert len(fetched) == sum(isinstance(i, DocumentRecord) for i in items), "each page fetched once, no more"


def test_a_billion_laughs_sitemap_is_refused_not_expanded(site: Site) -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    loc = site.url("/&l9;")
    bomb = f'<?xml version="1.0"?><!DOCTYPE urlset [{entities}]><urlset><url><loc>{loc}</loc></url></urlset>'
    (error,) = site.serve(bomb.encode()).crawl()
    assert isinstance(error, IngestError) and error.record == "sitemap" and "never expanded" in error.message
    assert site.requested == [site.url("/sitemap.xml")]


def test_external_entities_and_dtds_are_never_read(site: Site) -> None:
    for doctype in [
        '<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{site.url("/secret")}">]>',
        f'<!DOCTYPE urlset [<!ENTITY % p SYSTEM "{site.url("/evil.dtd")}"> %p;]>',
    ]:
        body = f'<?xml version="1.0"?>{doctype}<urlset><url><loc>{site.url("/&x;")}</loc></url></urlset>'
        items = site.serve(body.encode()).crawl()
        assert [i.record for i in items] == ["sitemap"], items
        assert site.requested == [site.url("/sitemap.xml")], "no entity or DTD is fetched"
        assert "root:" not in str(items)


def test_a_sitemap_listing_files_or_other_schemes_fetches_none_of_them(site: Site) -> None:
    items = site.serve(_urlset(["file:///etc/passwd", "gopher://x/1", site.url("/ok")])).crawl()
    assert [(i.record, i.message) for i in items if isinstance(i, IngestError)] == [
        ("page", "not an http(s) URL: not fetched")
    ] * 2
    assert site.requested == [site.url("/sitemap.xml"), site.url("/ok")]


def test_redirects_are_followed_over_http_only(site: Site) -> None:
    moved = {"/old": Reply(b"", status=301, headers={"Location": "/new"})}
    moved["/to-file"] = Reply(b"", status=302, headers={"Location": "file:///etc/passwd"})
    moved["/loop"] = Reply(b"", status=302, headers={"Location": "/loop"})
    items = site.serve(_urlset([site.url(p) for p in ("/old", "/to-file", "/loop")]), moved).crawl()
    doc, to_file, loop = items
    assert isinstance(doc, DocumentRecord) and doc.url == site.url("/old") and "export invoices" in doc.text
    assert isinstance(to_file, IngestError) and "unsupported protocol" in to_file.message, to_file
    assert isinstance(loop, IngestError) and "redirect" in loop.message.lower(), loop
    assert "root:" not in str(items) and site.requested.count(site.url("/new")) == 1


def test_deep_xml_is_refused(site: Site) -> None:
    deep = "<x>" * (MAX_XML_DEPTH + 1) + "</x>" * (MAX_XML_DEPTH + 1)
    (error,) = site.serve(f"<urlset><url><loc>{site.url('/a')}</loc>{deep}</url></urlset>".encode()).crawl()
    assert isinstance(error, IngestError) and f"deeper than {MAX_XML_DEPTH}" in error.message
    items = site.serve(f"<urlset>{'<url>' * 100_000}</urlset>".encode()).crawl()
    assert [i.record for i in items] == ["sitemap"]


def test_a_gzip_bomb_sitemap_is_refused(site: Site) -> None:
    body = b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 1) + b"</urlset>"
    (error,) = site.serve(gzip.compress(body, compresslevel=1)).crawl()
    assert isinstance(error, IngestError) and "unpacks to over" in error.message


class Counted:
    """A streamed body that counts what the server produced of it."""

    def __init__(self, total: int, chunk: int = 2**20) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"<p>" + b"x" * (self.chunk - 3)


def _in_flight() -> int:
    """The most bytes the kernel may hold between the server's write and the crawler's read on loopback.

    The server's send buffer is pinned small while streaming; the crawler's receive buffer grows up to the third
    value of Linux's `tcp_rmem` (elsewhere, assume a generous 64 MiB).
    """
    try:
        receive = int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[2])
    except (OSError, ValueError, IndexError):
        receive = 64 * 2**20
    return receive + 4 * STREAM_SNDBUF  # Linux doubles a requested SO_SNDBUF for its own bookkeeping


def test_a_page_over_the_size_limit_is_refused_and_not_read_to_the_end(site: Site) -> None:
    stop_by = MAX_PAGE_BYTES + _in_flight() + 2 * 2**20
    endless = Counted(total=max(100 * MAX_PAGE_BYTES, 4 * stop_by))
    gz = gzip.compress(b"<p>" + b"y" * (2 * MAX_PAGE_BYTES), compresslevel=1)
    pages = {
        "/huge": Reply(endless),
        "/declared": Reply(b"", headers={"Content-Length": str(MAX_PAGE_BYTES + 1)}),
        "/gzipped": Reply(gz, headers={"Content-Encoding": "gzip"}),
    }
    items = site.serve(_urlset([site.url(f"/{p}") for p in ("huge", "declared", "gzipped", "fine")]), pages).crawl()
    errors = {i.file.rsplit("/", 1)[1]: i.message for i in items if isinstance(i, IngestError)}
    assert set(errors) == {"huge", "declared", "gzipped"} and all("byte limit" in m for m in errors.values()), errors
    assert "stopped reading" in errors["huge"] and "not read" in errors["declared"]
    assert endless.sent <= stop_by < endless.total, "stopped reading at the limit, not at the end of the body"
    assert [i.url for i in items if isinstance(i, DocumentRecord)] == [site.url("/fine")]
    small = site.serve(_urlset([site.url("/a")])).crawl(max_page_bytes=10)
    assert [i.record for i in small] == ["page"] and "10-byte limit" in small[0].message  # type: ignore[union-attr]
