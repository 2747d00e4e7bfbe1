"""A documentation site read through its sitemap: every listed page fetched, converted from HTML, and recorded.

Sitemap indexes are followed (a few levels deep); pages are fetched a few at a time over one `httpx.Client`, with
timeouts, and a 429 or 5xx is retried after the server's `Retry-After` (or a short backoff). A page that still
fails is an `IngestError` naming its URL and the rest of the site lands. Each page's URL is its address, which is
what citations link to.

What a server sends is untrusted, the user's own site included (it may be compromised, or redirect elsewhere): bodies
are read as a stream and cut off past `MAX_PAGE_BYTES` / `MAX_SITEMAP_BYTES` (counted after HTTP and `.gz`
decompression, so a compression bomb stops there too), and sitemaps are parsed by `defusedxml`, which refuses
entity declarations (no "billion laughs") and external entities (no `file:///etc/passwd`), with elements nested past
`MAX_XML_DEPTH` refused.
"""

from __future__ import annotations

import gzip
import io
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import defusedxml
import defusedxml.ElementTree as SafeET
import httpx

from core.http import retry_after
from ingest.docs import DocumentRecord, html_document
from ingest.records import IngestError

USER_AGENT = "docgap (documentation indexer)"
MAX_SITEMAP_DEPTH = 3
MAX_RETRY_WAIT = 60.0
MAX_PAGE_BYTES = 10 * 2**20
"""Largest HTML page read (10 MiB, after decompression); help-center pages are tens of kilobytes."""
MAX_SITEMAP_BYTES = 50 * 2**20
"""Largest sitemap read (50 MiB unpacked): the sitemaps.org protocol's own limit for one file."""
MAX_XML_DEPTH = 32
"""Deepest element nesting in a sitemap: real ones nest 3 levels (`urlset/url/loc`), 5 with image or video tags."""


@dataclass
class CrawlOptions:
    """How politely to crawl: pages in flight at once, page cap, per-request timeout, attempts per URL."""

    max_pages: int | None = None
    concurrency: int = 4
    timeout: float = 20.0
    attempts: int = 3
    backoff: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep)
    """Injected so tests can see the waits; it really sleeps by default."""
    max_page_bytes: int = MAX_PAGE_BYTES
    """Pages larger than this (after decompression) are reported, not read."""


def crawl_sitemap(
    sitemap_url: str,
    options: CrawlOptions | None = None,
    client: httpx.Client | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[DocumentRecord | IngestError]:
    """Yield a record (or an error) per page the sitemap lists, in sitemap order."""
    opts = options or CrawlOptions()
    own = client is None
    http = client or crawl_client(opts)
    try:
        urls, errors = _page_urls(http, sitemap_url, opts)
        yield from errors
        if opts.max_pages is not None:
            urls = urls[: opts.max_pages]
        with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
            for item in pool.map(lambda u: _page(http, u, opts), urls):
                if progress:
                    progress(1)
                yield item
    finally:
        if own:
            http.close()


def crawl_client(options: CrawlOptions | None = None) -> httpx.Client:
    """The client a crawl makes when given none: redirects followed, the options' timeout, our User-Agent.

    Building one costs tens of milliseconds (its TLS context), so a caller crawling many times may make one and pass it.
    """
    timeout = (options or CrawlOptions()).timeout
    return httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})


def _page_urls(http: httpx.Client, sitemap_url: str, opts: CrawlOptions) -> tuple[list[str], list[IngestError]]:
    """Page URLs from a sitemap or sitemap index, deduplicated in order; unreadable sitemaps become errors."""
    urls: dict[str, None] = {}
    errors: list[IngestError] = []
    pending, visited = [(sitemap_url, 0)], set()
    while pending:
        url, depth = pending.pop(0)
        if url in visited:
            continue
        visited.add(url)
        body = _fetch(http, url, opts, MAX_SITEMAP_BYTES)
        if isinstance(body, str):
            errors.append(IngestError(url, "sitemap", body))
            continue
        try:
            kind, locs = _parse_sitemap(body.content)
        except defusedxml.DefusedXmlException as exc:  # before ValueError, which it subclasses
            errors.append(IngestError(url, "sitemap", f"refused: it declares XML entities, never expanded ({exc!r})"))
            continue
        except (ET.ParseError, ValueError) as exc:
            errors.append(IngestError(url, "sitemap", f"not a sitemap: {exc}"))
            continue
        if kind == "sitemapindex" and depth < MAX_SITEMAP_DEPTH:
            pending += [(loc, depth + 1) for loc in locs]
        elif kind == "urlset":
            urls.update(dict.fromkeys(locs))
        else:
            errors.append(IngestError(url, "sitemap", f"unexpected <{kind}> (or sitemap indexes nested too deep)"))
    return list(urls), errors


def _parse_sitemap(content: bytes) -> tuple[str, list[str]]:
    """The root element's local name and each `<url>`'s or `<sitemap>`'s `<loc>` (namespace-agnostic; `.gz` unpacked).

    Raises `ET.ParseError`, ValueError (too deep, too big once unpacked) or a `defusedxml` refusal (entities).
    """
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, MAX_SITEMAP_BYTES)
    path: list[str] = []  # local names of the open elements
    root_tag, locs = "", []
    for event, el in SafeET.iterparse(io.BytesIO(content), events=("start", "end")):
        name = el.tag.rsplit("}", 1)[-1]
        if event == "start":
            path.append(name)
            root_tag = root_tag or name
            if len(path) > MAX_XML_DEPTH:
                raise ValueError(f"elements nested deeper than {MAX_XML_DEPTH} levels")
            continue
        path.pop()
        # only a <url>'s or <sitemap>'s own <loc>: an <image:loc> inside a <url> is a picture, not a page
        if name == "loc" and path[-1:] in (["url"], ["sitemap"]) and el.text and el.text.strip():
            locs.append(el.text.strip())
        el.clear()  # a 50,000-URL sitemap need not be held as a tree
    return root_tag, locs


def _gunzip(content: bytes, limit: int) -> bytes:
    """A `.gz` body unpacked, refused past `limit` bytes: a few kilobytes of zeros unpack to gigabytes."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as fh:
            data = fh.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"not a readable .gz: {exc}") from None
    if len(data) > limit:
        raise ValueError(f"unpacks to over {limit:,} bytes")
    return data


def _page(http: httpx.Client, url: str, opts: CrawlOptions) -> DocumentRecord | IngestError:
    response = _fetch(http, url, opts, opts.max_page_bytes)
    if isinstance(response, str):
        return IngestError(url, "page", response)
    kind = response.content_type
    if kind not in ("text/html", "application/xhtml+xml"):
        return IngestError(url, "page", f"not an HTML page ({kind})")
    record = html_document(url, response.content, url.rstrip("/").rsplit("/", 1)[-1] or url)
    if not record.text.strip():
        return IngestError(url, "page", "no text content")
    return record


@dataclass(frozen=True)
class _Body:
    content: bytes
    content_type: str


class _TooLarge(Exception):
    pass


def _read(http: httpx.Client, url: str, limit: int) -> _Body | httpx.Response:
    """The body of a successful response, read as a stream and never past `limit` bytes; else the failed response."""
    with http.stream("GET", url) as response:
        if response.status_code >= 400:
            return response
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not response.headers.get("content-encoding"):
            raise _TooLarge(f"larger than the {limit:,}-byte limit ({int(declared):,} bytes): not read")
        chunks, size = [], 0
        for chunk in response.iter_bytes():  # decoded: a gzip-encoded bomb is counted as it unpacks
            size += len(chunk)
            if size > limit:
                raise _TooLarge(f"larger than the {limit:,}-byte limit: stopped reading")
            chunks.append(chunk)
        kind = response.headers.get("content-type", "text/html").split(";")[0].strip().lower()
        return _Body(b"".join(chunks), kind)


def _fetch(http: httpx.Client, url: str, opts: CrawlOptions, limit: int) -> _Body | str:
    """The body, or why there is none; 429, 5xx and network errors are retried up to `opts.attempts` times."""
    if not url.lower().startswith(("http://", "https://")):
        return "not an http(s) URL: not fetched"  # a sitemap may list `file:///etc/passwd`
    reason = ""
    for attempt in range(1, opts.attempts + 1):
        try:
            response = _read(http, url, limit)
        except _TooLarge as exc:
            return str(exc)
        except (httpx.InvalidURL, UnicodeError) as exc:  # a sitemap listing `https://[::1/` or a NUL in a path
            return f"not a valid URL: {exc}"
        except httpx.TimeoutException:
            reason, wait = f"timed out after {opts.timeout:g} s", None
        except httpx.HTTPError as exc:
            reason, wait = f"request failed: {exc}", None
        else:
            if isinstance(response, _Body):
                return response
            reason = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                return reason
            wait = retry_after(response.headers.get("retry-after"))
        if attempt < opts.attempts:
            opts.sleep(min(wait if wait is not None else opts.backoff * 2 ** (attempt - 1), MAX_RETRY_WAIT))
    return f"{reason} after {opts.attempts} attempts" if opts.attempts > 1 else reason
