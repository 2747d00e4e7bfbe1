"""The briefs from every front end: the API over real HTTP, the command line (in this process, through the console
script's `main`: see `tests.commandline`), the pages, their PDFs and the page in headless Chromium."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from core.runtime import Runtime
from tests.commandline import docgap
from tests.conftest import LiveServer, logged_in
from tests.web.test_pages_browser import SCREENSHOTS, log_in
from usecases.accounts import account_id_named
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.users import create_user, list_users

RISING = "Brightline Logistics"
AM = ("brief-am", "brief-am-password-01")


@pytest.fixture(scope="module")
def served(flagged: Runtime) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    if AM[0] not in {u.name for u in list_users(flagged, OPERATOR)}:
        create_user(flagged, OPERATOR, AM[0], "account_manager", AM[1])
    key = create_key(flagged, ["answers:read"], name="briefs", rate_limit=1_000_000).secret
    with LiveServer(flagged) as server:
        yield server, {"Authorization": f"Bearer {key}"}


def _without_clock(brief: dict[str, Any]) -> dict[str, Any]:
    """The brief minus when it was generated (the CLI's clock is the wall clock, the test server's is fixed)."""
    assert brief.pop("generated_at")
    return brief


def test_the_api_returns_what_the_cli_prints(served, flagged: Runtime) -> None:  # type: ignore[no-untyped-def]
    server, auth = served
    aid = account_id_named(flagged, RISING)
    api = httpx.get(f"{server.url}/v1/accounts/{aid}/brief", params={"days": 60}, headers=auth, timeout=120)
    assert api.status_code == 200, api.text
    cli = docgap(["brief", "account", RISING, "--days", "60", "--json"], flagged.settings.data_dir)
    assert _without_clock(api.json()) == _without_clock(json.loads(cli.stdout))
    assert api.json()["days"] == 60 and api.json()["flags"]

    api = httpx.get(f"{server.url}/v1/briefs/executive", headers=auth, timeout=120)
    cli = docgap(["brief", "executive", "--json"], flagged.settings.data_dir)
    assert api.status_code == 200 and api.json()["accounts"][0]["account"] == RISING
    assert _without_clock(api.json()) == _without_clock(json.loads(cli.stdout))


def test_the_api_refuses_and_explains(served) -> None:  # type: ignore[no-untyped-def]
    server, auth = served
    assert httpx.get(f"{server.url}/v1/accounts/999999/brief", headers=auth, timeout=60).status_code == 404
    assert httpx.get(f"{server.url}/v1/accounts/1/brief", params={"days": 0}, headers=auth,
                     timeout=60).status_code == 422  # fmt: skip
    assert httpx.get(f"{server.url}/v1/briefs/executive", timeout=60).status_code == 401


def test_the_cli_writes_each_format_and_refuses_bad_input(flagged: Runtime, tmp_path: Path) -> None:
    md = tmp_path / "brief.md"
    docgap(["brief", "account", RISING, "--out", str(md)], flagged.settings.data_dir)
    assert md.read_text().startswith(f"# Account brief: {RISING}")
    bad = docgap(["brief", "account", "No Such Account"], flagged.settings.data_dir, check=False)
    assert bad.returncode == 1 and "no account with the id or name" in bad.stderr
    odd = docgap(["brief", "executive", "--out", str(tmp_path / "x.docx")], flagged.settings.data_dir, check=False)
    assert odd.returncode == 1 and ".pdf" in odd.stderr


def _pdf_pages(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(p.extract_text() for p in reader.pages)


def test_the_pages_and_their_pdfs(served, flagged: Runtime) -> None:  # type: ignore[no-untyped-def]
    server, _ = served
    aid = account_id_named(flagged, RISING)
    with logged_in(server.url, *AM) as (client, _):
        page = client.get(f"/accounts/{aid}/brief")
        assert page.status_code == 200 and "Question velocity rising" in page.text
        assert f'href="/accounts/{aid}/brief.pdf?days=90"' in page.text
        pdf = client.get(f"/accounts/{aid}/brief.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert "attachment" in pdf.headers["content-disposition"]
        pages, text = _pdf_pages(pdf.content)
        assert 1 <= pages <= 2 and RISING in text
        executive = client.get("/briefs/executive")
        first = re.search(r'<tr class="flagged">.*?<a href="/accounts/(\d+)/brief">([^<]+)</a>', executive.text, re.S)
        assert first and int(first.group(1)) == aid and first.group(2) == RISING
        pages, text = _pdf_pages(client.get("/briefs/executive.pdf").content)
        assert pages == 1 and RISING in text
        assert f'href="/accounts/{aid}/brief"' in client.get(f"/accounts/{aid}").text
        listing = client.get("/accounts").text
        assert 'href="/briefs/executive"' in listing and f'href="/accounts/{aid}/brief"' in listing
        assert client.get("/accounts/999999/brief").status_code == 404


def test_the_brief_page_in_a_browser(browser, served, flagged: Runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    server, _ = served
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
          and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    try:
        log_in(pg, *AM)
        pg.get_by_role("link", name="Accounts", exact=True).click()
        pg.get_by_role("row").filter(has_text=RISING).get_by_role("link", name="brief", exact=True).click()
        expect(pg.get_by_role("heading", name=RISING, level=1)).to_be_visible()
        expect(pg.get_by_role("heading", name="Risk flags")).to_be_visible()
        expect(pg.get_by_text("Question velocity rising").first).to_be_visible()
        expect(pg.get_by_text("loop in engineering").first).to_be_visible()
        expect(pg.get_by_role("link", name="Download PDF")).to_be_visible()
        folder = Path(SCREENSHOTS or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(folder / "account-brief.png"), full_page=True)
        pg.get_by_role("link", name="Executive brief").first.click()
        expect(pg.locator("table.portfolio tbody tr").first).to_contain_text(RISING)
        expect(pg.get_by_role("heading", name="This week's priority actions")).to_be_visible()
        pg.screenshot(path=str(folder / "executive-brief.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors


def test_the_cli_accepts_exactly_the_suffixes_the_renderer_writes() -> None:
    """`cli.briefs` names the suffixes itself (the renderer is imported only when a brief is made)."""
    from cli.briefs import SUFFIXES
    from reports.brief_render import FORMATS

    assert set(SUFFIXES) == set(FORMATS)
