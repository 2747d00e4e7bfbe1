"""A documentation site read through its sitemap: every listed page fetched, converted from HTML, and recorded.

Sitemap indexes are followed (a few levels deep); pages are fetched a few at a time over one `httpx.Client`, with
timeouts, and a 429 or 5xx is retried after the server's `Retry-After` (or a short backoff). A page that still
fails is an `IngestError` naming its URL and the rest of the site lands. Each page's URL is its address, which is
what citations link to.
"""

from __future__ import annotations

import gzip
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ingest.docs import DocumentRecord, html_document
from ingest.records import IngestError

USER_AGENT = "docgap (documentation indexer)"
MAX_SITEMAP_DEPTH = 3
MAX_RETRY_WAIT = 60.0


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


def crawl_sitemap(
    sitemap_url: str,
    options: CrawlOptions | None = None,
    client: httpx.Client | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[DocumentRecord | IngestError]:
    """Yield a record (or an error) per page the sitemap lists, in sitemap order."""
    opts = options or CrawlOptions()
    own = client is None
    http = client or httpx.Client(timeout=opts.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})
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
        body = _fetch(http, url, opts)
        if isinstance(body, str):
            errors.append(IngestError(url, "sitemap", body))
            continue
        try:
            kind, locs = _parse_sitemap(body.content)
        except ET.ParseError as exc:
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
    """The root element's local name and every `<loc>` in it (namespace-agnostic; `.xml.gz` bodies unpacked)."""
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    root = ET.fromstring(content)  # expat refuses external entities; the site is the user's own
    locs = [el.text.strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    return root.tag.rsplit("}", 1)[-1], locs


def _page(http: httpx.Client, url: str, opts: CrawlOptions) -> DocumentRecord | IngestError:
    response = _fetch(http, url, opts)
    if isinstance(response, str):
        return IngestError(url, "page", response)
    kind = response.headers.get("content-type", "text/html").split(";")[0].strip().lower()
    if kind not in ("text/html", "application/xhtml+xml"):
        return IngestError(url, "page", f"not an HTML page ({kind})")
    record = html_document(url, response.content, url.rstrip("/").rsplit("/", 1)[-1] or url)
    if not record.text.strip():
        return IngestError(url, "page", "no text content")
    return record


def _fetch(http: httpx.Client, url: str, opts: CrawlOptions) -> httpx.Response | str:
    """The response, or why there is none; 429, 5xx and network errors are retried up to `opts.attempts` times."""
    reason = ""
    for attempt in range(1, opts.attempts + 1):
        try:
            response = http.get(url)
        except httpx.TimeoutException:
            reason, wait = f"timed out after {opts.timeout:g} s", None
        except httpx.HTTPError as exc:
            reason, wait = f"request failed: {exc}", None
        else:
            if response.status_code < 400:
                return response
            reason = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                return reason
            wait = _retry_after(response.headers.get("retry-after"))
        if attempt < opts.attempts:
            opts.sleep(min(wait if wait is not None else opts.backoff * 2 ** (attempt - 1), MAX_RETRY_WAIT))
    return f"{reason} after {opts.attempts} attempts" if opts.attempts > 1 else reason


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
