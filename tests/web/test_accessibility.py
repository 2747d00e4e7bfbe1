"""Accessibility of the pages account managers and docs writers work in all day (issue 11), in real Chromium.

- Every HTML page of the route matrix (`tests/web/test_authz.py` CASES, its GET pages), as each role that may see
  it, on the demo: every visible form control, button and link has an accessible name, every image its alt text,
  the page one <h1>, a <title>, `lang` on <html>, a skip link or a <main> landmark, and no table with headers only.
- Keyboard: Tab from the top of the gap board and the chat reaches their main actions in document order, the skip
  link comes first, and a focused control shows it (a `:focus-visible` rule, an outline or a shadow).
- Empty states: on a fresh instance with no data every page says, in a sentence, that there is nothing yet and what
  to do about it (pages of one topic, doc, week or ticket cannot exist there and answer 404).

One browser context per role, logged in once and reused for every page (the module stays in seconds).
Set DOCGAP_SCREENSHOTS=/some/dir to save the empty pages as `a11y_empty_*.png` there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from core.runtime import Runtime
from tests.conftest import CHROMIUM, WEB_USERS, LiveServer, make_runtime
from tests.web.test_authz import CASES, Ids

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.timeout(180)

ROLES = tuple(WEB_USERS)
NOT_HTML = (".pdf", ".md")
"""The matrix's GET routes that answer a PDF or Markdown, not a page."""
PAGES = [c for c in CASES if c.method == "GET" and not c.path.endswith(NOT_HTML)]
FRAGMENTS = {"/topics/{topic_id}/evidence"}
"""Routes that answer part of a page (the board's drawer, swapped in by htmx): their controls are checked, the
page-level rules (<title>, <h1>, lang, landmark) belong to the board they are shown in."""
VIEWS = {"/?layout=table": "the board as a table", "/?evidence={topic}": "the board with its evidence drawer open"}
"""Other states of a matrix page with controls of their own."""

AUDIT = """(whole) => {
  const problems = [];
  const text = el => (el.innerText || el.textContent || "").replace(/\\s+/g, " ").trim();
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const byIds = ids => (ids || "").split(/\\s+/).map(id => document.getElementById(id)).filter(Boolean)
    .map(text).join(" ").trim();
  const aria = el => (el.getAttribute("aria-label") || "").trim() || byIds(el.getAttribute("aria-labelledby"));
  const alts = el => [...el.querySelectorAll("img[alt]")].map(i => i.alt.trim()).join(" ").trim();
  const what = el => el.outerHTML.replace(/\\s+/g, " ").slice(0, 140);
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !shown(el)) continue;
    if (![...el.labels].some(l => text(l)) && !aria(el)) problems.push("control without a name: " + what(el));
  }
  for (const el of document.querySelectorAll("button, a[href], summary, [role=button]")) {
    if (!text(el) && !aria(el) && !alts(el)) problems.push("button or link without a name: " + what(el));
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("image without alt: " + what(el));
  }
  for (const el of document.querySelectorAll("[role=img]")) {
    if (!aria(el)) problems.push("role=img without a name: " + what(el));
  }
  for (const el of document.querySelectorAll("table")) {
    if (!el.querySelector("td")) problems.push("a table with no rows: " + what(el));
  }
  for (const el of document.querySelectorAll("[tabindex]")) {
    if (el.tabIndex > 0) problems.push("positive tabindex breaks the tab order: " + what(el));
  }
  if (whole) {
    const h1 = document.querySelectorAll("h1").length;
    if (h1 !== 1) problems.push(h1 + " <h1> elements (one wanted)");
    if (!document.title.trim()) problems.push("no <title>");
    if (!document.documentElement.lang) problems.push("no lang on <html>");
    const skip = document.querySelector("a[href^='#']");
    if (!document.querySelector("main") && !(skip && /skip/i.test(text(skip)))) {
      problems.push("no <main> landmark and no skip link");
    }
  }
  return problems;
}"""


def audit(page: Page, whole: bool = True) -> list[str]:
    """What the page gets wrong, as sentences (none: it passes)."""
    return page.evaluate(AUDIT, whole)


SCREENSHOTS = os.environ.get("DOCGAP_SCREENSHOTS") or None


def shot(pg: Page, name: str, full_page: bool = True) -> None:
    """A screenshot into $DOCGAP_SCREENSHOTS as `a11y_<name>.png`, when set."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(SCREENSHOTS) / f"a11y_{name}.png"), full_page=full_page)


def log_in(context: BrowserContext, role: str) -> Page:
    """A page of `context`, logged in through the login form as `role`'s user."""
    pg = context.new_page()
    name, password = WEB_USERS[role]
    pg.goto("/login")
    pg.get_by_label("User name").fill(name)
    pg.get_by_label("Password").fill(password)
    pg.get_by_role("button", name="Log in").click()
    pg.wait_for_url(re.compile(r"/$"))
    return pg


@contextmanager
def role_pages(browser: Browser, url: str) -> Iterator[Callable[[str], Page]]:
    """`page_of(role)`: one logged-in page per role, opened on first use and kept while the block runs; no page may
    raise a JavaScript error meanwhile."""
    opened: dict[str, Page] = {}
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def page_of(role: str) -> Page:
        if role not in opened:
            context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            contexts.append(context)
            opened[role] = log_in(context, role)
            opened[role].on("pageerror", lambda exc: errors.append(f"{role}: {exc}"))
        return opened[role]

    try:
        yield page_of
    finally:
        for context in contexts:
            context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


# --- every page, every role, on the demo -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ids(module_demo: Runtime) -> Ids:
    return Ids(module_demo)


@pytest.fixture(scope="module")
def page_of(browser: Browser, module_server: LiveServer) -> Iterator[Callable[[str], Page]]:
    with role_pages(browser, module_server.url) as pages:
        yield pages


def test_the_pages_are_the_matrix_get_pages() -> None:
    """The pages checked are all the matrix's GET routes but the downloads (a page added there is checked here)."""
    downloads = {c.path for c in CASES if c.method == "GET"} - {c.path for c in PAGES}
    assert downloads == {"/accounts/{account_id}/brief.pdf", "/briefs/executive.pdf", "/tickets/{ticket_id}.md"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", PAGES, ids=lambda c: c.path)
def test_every_page_names_its_controls(page_of, ids: Ids, case, role: str) -> None:  # type: ignore[no-untyped-def]
    if role not in case.allowed:
        pytest.skip(f"{role} may not see {case.path}")
    url, _ = case.request(ids)
    pg = page_of(role)
    response = pg.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert "text/html" in response.headers["content-type"]
    problems = audit(pg, whole=case.path not in FRAGMENTS)
    assert not problems, f"{url} as {role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", VIEWS, ids=VIEWS.get)
def test_other_views_of_the_board_name_their_controls(page_of, ids: Ids, view: str, role: str) -> None:  # type: ignore[no-untyped-def]
    pg = page_of(role)
    response = pg.goto(view.format(topic=ids.topic))
    assert response is not None and response.status == 200
    problems = audit(pg)
    assert not problems, f"{view} as {role}:\n" + "\n".join(problems)


# --- keyboard --------------------------------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  const all = [...document.querySelectorAll("*")];
  const style = getComputedStyle(el);
  return {
    at: all.indexOf(el),
    tag: el.tagName.toLowerCase(),
    name: (el.getAttribute("aria-label") || el.innerText || el.value || "").replace(/\\s+/g, " ").trim().slice(0, 80),
    in_main: !!el.closest("main"),
    outline: style.outlineStyle === "none" || style.outlineWidth === "0px" ? "none" : style.outlineStyle,
    shadow: style.boxShadow,
  };
}"""


FIRST_IN_MAIN = """() => [...document.querySelectorAll("*")].indexOf(document.querySelector("main").querySelector(
  "a[href], button, input:not([type=hidden]), select, textarea, summary"))"""


def tab_from_top(pg: Page, url: str, found: Callable[[dict[str, Any]], bool], limit: int = 80) -> list[dict[str, Any]]:
    """Open `url` and press Tab until `found(focused)` (at most `limit` times); the stops, in order.

    A fresh load is the top: blurring the focused element would leave Tab going on from where it was.
    """
    pg.goto(url)
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        pg.keyboard.press("Tab")
        stops.append(pg.evaluate(FOCUSED))
        if found(stops[-1]):
            return stops
    raise AssertionError(f"not reached in {limit} Tabs; focus went: {[s['name'] for s in stops]}")


def in_document_order(stops: list[dict[str, Any]]) -> bool:
    return all(a["at"] < b["at"] for a, b in pairwise(stops))


def assert_focus_visible(pg: Page, stop: dict[str, Any]) -> None:
    assert stop["outline"] != "none" or stop["shadow"] != "none", f"no visible focus on {stop}"
    rules = pg.evaluate("""() => [...document.styleSheets].flatMap(s => { try { return [...s.cssRules]; }
                                   catch (e) { return []; } }).map(r => r.selectorText || "")""")
    assert any(":focus-visible" in r for r in rules), "the stylesheet has no :focus-visible rule"


@pytest.mark.parametrize("role", ["docs_writer", "account_manager"])
def test_tab_reaches_the_board_actions_in_order(page_of, role: str) -> None:  # type: ignore[no-untyped-def]
    """A writer reaches the first card's move button, an account manager its evidence link; the skip link first."""
    pg = page_of(role)
    wanted = re.compile(r"^Move topic \d+ to " if role == "docs_writer" else r"^Evidence for topic \d+$")
    stops = tab_from_top(pg, "/", lambda s: bool(wanted.match(s["name"])))
    assert stops[0]["name"] == "Skip to content", stops[0]
    assert in_document_order(stops), [s["name"] for s in stops]
    names = [s["name"] for s in stops]
    assert any(s["tag"] == "select" for s in stops), f"the board's filters come before the cards: {names}"
    assert_focus_visible(pg, stops[-1])
    shot(pg, f"focus_board_{role}", full_page=False)

    # the skip link jumps over the header: the next Tab lands on the first control in <main>
    assert tab_from_top(pg, "/", lambda s: True)[0]["name"] == "Skip to content"
    shot(pg, f"focus_skip_link_{role}", full_page=False)
    pg.keyboard.press("Enter")
    pg.keyboard.press("Tab")
    after = pg.evaluate(FOCUSED)
    first = pg.evaluate(FIRST_IN_MAIN)
    assert after["in_main"] and after["at"] == first, after


def test_tab_reaches_the_chat_question_then_submit(page_of) -> None:  # type: ignore[no-untyped-def]
    pg = page_of("account_manager")
    stops = tab_from_top(pg, "/chat", lambda s: s["tag"] == "button" and s["name"] == "Ask")
    assert stops[0]["name"] == "Skip to content", stops[0]
    assert in_document_order(stops), [s["name"] for s in stops]
    in_main = [s["tag"] for s in stops if s["in_main"]]
    assert in_main == ["textarea", "select", "button"], in_main
    assert_focus_visible(pg, stops[-1])
    pg.keyboard.press("Shift+Tab")
    pg.keyboard.press("Shift+Tab")
    question = pg.evaluate(FOCUSED)
    assert question["tag"] == "textarea" and question["name"] == "Your question", question
    assert_focus_visible(pg, question)


# --- empty states ----------------------------------------------------------------------------------------------

EMPTY = {
    "/": (r"No topics yet", r"docgap ingest"),
    "/questions/unassigned": (r"No question is outside the topics", r"docgap ingest"),
    "/chat": (r"Nothing asked yet", r"Questions you ask"),
    "/accounts": (r"No accounts yet", r"docgap accounts import"),
    "/briefs/executive": (r"No accounts yet", r"docgap accounts import"),
    "/flags": (r"No open risk flags", r"docgap alerts check"),
    "/reports": (r"No reports yet", r"docgap report weekly"),
    "/reports/weekly/latest": (r"No reports yet", r"docgap report weekly"),
    "/accounts/{account_id}": (r"No questions from this account yet", r"docgap ingest"),
    "/accounts/{account_id}/timeline": (r"Nothing about this account yet", r"import"),
    "/accounts/{account_id}/brief": (r"No questions from .* in the last \d+ days", r"docgap ingest"),
}
"""Each page of the matrix on an instance with nothing in it: (the sentence that says so, what it says to do).
The account pages are seen for an account imported from the CRM that has asked nothing yet."""
ADMIN_ONLY = {
    "/jobs": (r"No jobs scheduled", r"docgap worker"),
    "/keys": (r"No API keys yet", r"docgap keys create"),
}
"""Empty states of the pages only admins open (others get 403)."""
NEVER_EMPTY = {"/users"}
"""Pages with no empty state: the admin reading the users page is a user."""
NO_SUCH = {"/topics/{topic_id}", "/topics/{topic_id}/evidence", "/kb/{url:path}", "/reports/weekly/{week}"}
"""Pages of one topic, doc or week: an empty instance has none to show (404)."""


def fresh_instance(folder: Path, embedder, accounts_csv: str | None = None) -> Runtime:  # type: ignore[no-untyped-def]
    """A new data dir with one user per role (created as `web_users` creates them) and, given a CRM export, its
    accounts (imported as `docgap accounts import` does)."""
    from usecases.permissions import OPERATOR
    from usecases.pipeline import import_accounts
    from usecases.users import create_user

    rt = make_runtime(folder / "data", embedder)
    for role, (name, password) in WEB_USERS.items():
        create_user(rt, OPERATOR, name, role, password)
    if accounts_csv:
        (folder / "accounts.csv").write_text(accounts_csv)
        import_accounts(rt, folder / "accounts.csv")
    return rt


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """An instance with nothing in it but its users."""
    rt = fresh_instance(tmp_path_factory.mktemp("empty"), embedder)
    with LiveServer(rt) as s:
        yield s
    rt.engine.dispose()


@pytest.fixture(scope="module")
def new_account(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    """An instance whose only data is one account from the CRM export, which has asked nothing yet."""
    from sqlmodel import Session, select

    from core.models import Account

    rt = fresh_instance(tmp_path_factory.mktemp("new-account"), embedder,
                        "name,domains,owner,segment,arr,renewal_date\nAcme Freight,acme.example,Ada,mid-market,120000,"
                        "2027-03-01\n")  # fmt: skip
    with Session(rt.engine) as s:
        account = s.exec(select(Account.id)).one()
    with LiveServer(rt) as server:
        yield server, account
    rt.engine.dispose()


def test_every_page_of_the_matrix_has_an_empty_state() -> None:
    assert {c.path for c in PAGES} == set(EMPTY) | set(ADMIN_ONLY) | NO_SUCH | NEVER_EMPTY


def assert_says_nothing_yet(pg: Page, path: str, role: str) -> None:
    """The page answers 200, says in a sentence that there is nothing yet and what to do, and passes the audit."""
    response = pg.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    nothing, todo = (EMPTY | ADMIN_ONLY)[re.sub(r"/accounts/\d+", "/accounts/{account_id}", path)]
    main = pg.locator("main").inner_text()
    assert re.search(nothing, main), f"{path}: no '{nothing}' in {main[:400]!r}"
    assert re.search(todo, main), f"{path}: says nothing of what to do ('{todo}') in {main[:400]!r}"
    problems = audit(pg)
    assert not problems, f"{path} as {role}, empty:\n" + "\n".join(problems)
    if role == "docs_writer":
        shot(pg, "empty_" + (re.sub(r"\W+", "_", path.strip("/")) or "board"))


@pytest.mark.parametrize("role", ROLES)
def test_a_fresh_instance_says_there_is_nothing_yet(browser: Browser, empty: LiveServer, role: str) -> None:
    with role_pages(browser, empty.url) as page_of:
        pg = page_of(role)
        for path in EMPTY:
            if "{account_id}" not in path:
                assert_says_nothing_yet(pg, path, role)
        for path in ADMIN_ONLY:
            if role == "admin":
                assert_says_nothing_yet(pg, path, role)
            else:
                assert pg.request.get(path, max_redirects=0).status == 403, (path, role)
        for path in NO_SUCH:
            url = path.replace("{url:path}", "no/such/page.md").format(topic_id=1, week="2026-11-16")
            assert pg.request.get(url, max_redirects=0).status == 404, url
            pg.goto(url)  # the 404 is a page of the site, audited like the others
            problems = audit(pg)
            assert not problems, f"{url} (404) as {role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_a_new_account_says_it_has_asked_nothing_yet(browser: Browser, new_account, role: str) -> None:  # type: ignore[no-untyped-def]
    server, account = new_account
    with role_pages(browser, server.url) as page_of:
        pg = page_of(role)
        for path in EMPTY:
            if "{account_id}" in path:
                assert_says_nothing_yet(pg, path.format(account_id=account), role)
