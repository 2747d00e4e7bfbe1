"""Each role's day, end to end in real Chromium, through the real login form (issue 11, item 7).

- The account manager asks the docs a question on an account's behalf, then asks the chat about the account and
  follows the answer's link to the account, the account's brief and its timeline (where the doc question asked
  for it shows up), and finds the board read only: no button that changes a
  topic is offered, and a status change forged with the session's own token is refused and changes nothing.
- The docs writer works the board: moves a card with its button, opens the evidence drawer, creates the topic's
  doc ticket from the drawer, renames the topic on its page and sees the new title after a reload and on the board.
- The admin logs in with the keyboard alone, reaches the Jobs page from the nav and starts a job through its form.

Each flow ends by logging out, after which a page sends the browser back to `/login`. The server runs a private
copy of the analysed demo (`module_server`), which the writer's flow changes. A screenshot of each role's main
pages is saved into $DOCGAP_SCREENSHOTS when set, else into a temporary directory (named in the test's output).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import Session, col, select

from core.models import Account, ChatTurn, DocTicket, Topic, User
from core.runtime import Runtime
from tests.conftest import CHROMIUM, WEB_USERS, LiveServer

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.timeout(240, func_only=True)  # the session's demo may be built in setup first

ACCOUNT = "Brightline Logistics"
QUESTION = f"What is {ACCOUNT} asking about this quarter?"
DOC_QUESTION = "How long does it take for my new card to arrive?"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("DOCGAP_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("role-flows")


@pytest.fixture()
def new_page(browser: Browser, module_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """`new_page()`: a fresh, signed-out browser page on the module's server; a JavaScript error fails the test."""
    contexts, errors = [], []

    def make() -> Page:
        context = browser.new_context(base_url=module_server.url, viewport={"width": 1366, "height": 900})
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for c in contexts:
        c.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"role_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} is an empty screenshot"
    print(f"screenshot: {path}")


def log_in_with_the_form(page: Page, role: str, start: str = "/") -> None:
    """Open `start` signed out (it sends to the login form), fill the form's `username` and `password`, log in."""
    name, password = WEB_USERS[role]
    page.goto(start)
    expected = "/login" + (f"?next={quote(start, safe='')}" if start != "/" else "")
    assert page.url.endswith(expected), f"{start} sent a signed-out browser to {page.url}, not {expected}"
    user, secret = page.get_by_label("User name"), page.get_by_label("Password")
    assert user.get_attribute("name") == "username" and secret.get_attribute("name") == "password"
    assert secret.get_attribute("type") == "password"
    user.fill(name)
    secret.fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url.endswith(start), f"after logging in the browser is on {page.url}, not back on {start}"
    expect(page.locator("form.who")).to_contain_text(f"{name} · {role.replace('_', ' ')}")


def log_out_and_check(page: Page) -> None:
    """Log out with the header's button; the pages then send the browser to the login form."""
    with page.expect_navigation():
        page.locator("form.who").get_by_role("button", name="Log out").click()
    assert page.url.endswith("/login"), page.url
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    for path in ("/", "/chat", "/accounts"):
        page.goto(path)
        assert re.search(r"/login(\?next=|$)", page.url), f"{path} opened after logging out: {page.url}"
        expect(page.locator("form.who")).to_have_count(0)


def _account_id(rt: Runtime, name: str) -> int:
    with Session(rt.engine) as s:
        account = s.exec(select(Account).where(Account.name == name)).one()
        assert account.id is not None
        return account.id


def _topic(rt: Runtime, topic_id: int) -> Topic:
    with Session(rt.engine) as s:
        t = s.get(Topic, topic_id)
        assert t is not None
        return t


def _column_ids(page: Page, status: str) -> list[int]:
    cards = page.locator(f"section.column[data-status={status}] article.tcard")
    return [int(i.removeprefix("card-")) for i in cards.evaluate_all("els => els.map(e => e.id)")]


def test_account_manager_asks_about_an_account_and_reads_it(
    new_page: Callable[[], Page], module_demo: Runtime, shots: Path
) -> None:
    page = new_page()
    log_in_with_the_form(page, "account_manager", "/chat")
    expect(page.locator("header nav").get_by_role("link", name="Jobs")).to_have_count(0)
    account_id = _account_id(module_demo, ACCOUNT)

    # The chat, for the account: a doc question asked on its behalf is answered from the docs, with citations, and
    # kept in the manager's history and against the account.
    page.get_by_label("Account").select_option(ACCOUNT)
    page.get_by_label("Your question").fill(DOC_QUESTION)
    page.get_by_role("button", name="Ask").click()
    answer = page.locator("section.answer:not(.streaming)")
    expect(answer.locator(".badge")).to_have_text("answered from the docs")
    assert answer.locator(".citations a[href^='/kb/']").count() >= 1
    with Session(module_demo.engine) as s:
        manager = s.exec(select(User).where(User.name == WEB_USERS["account_manager"][0])).one()
        mine = select(ChatTurn).where(ChatTurn.question == DOC_QUESTION, ChatTurn.user_id == manager.id)
        turn = s.exec(mine.order_by(col(ChatTurn.id).desc())).first()
    assert turn is not None and turn.account_id == account_id, "the turn is recorded against its account"
    # the streamed answer brings the history with it: the question is listed without a reload
    expect(page.locator(f"section.history li#turn-{turn.id}")).to_contain_text(DOC_QUESTION)
    expect(page.locator("section.history")).not_to_contain_text("Nothing asked yet")

    # An account question gets an answer from the account data, with links to the account and its topics.
    page.get_by_label("Account").select_option("")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    expect(answer.locator(".badge")).to_have_text("from the account data")
    expect(answer.locator(".text")).to_contain_text("questions in the last 90 days")
    account_link = answer.locator(f".text a[href='/accounts/{account_id}']").first
    expect(account_link).to_have_text(ACCOUNT)
    assert answer.locator(".text a[href^='/topics/']").count() >= 1, "the topics it asks about are links"
    assert "**" not in answer.locator(".text").inner_text(), "Markdown is rendered, not shown raw"
    shot(page, shots, "account_manager_chat")

    # The account, from the answer's link.
    with page.expect_navigation():
        account_link.click()
    assert page.url.endswith(f"/accounts/{account_id}")
    expect(page.locator("h1")).to_have_text(ACCOUNT)
    questions = page.locator("section", has=page.get_by_role("heading", name="Questions", exact=True))
    assert questions.locator("tbody tr").count() >= 1
    shot(page, shots, "account_manager_account")

    # Its brief.
    with page.expect_navigation():
        page.get_by_role("link", name="Account brief →").click()
    assert page.url.endswith(f"/accounts/{account_id}/brief")
    expect(page.locator("main")).to_contain_text(ACCOUNT)
    expect(page.locator("main h1")).to_have_count(1)
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", f"/accounts/{account_id}/brief.pdf?days=90"
    )
    shot(page, shots, "account_manager_brief")

    # Its timeline, where the doc question asked for it is a chat entry.
    with page.expect_navigation():
        page.locator(".brief-tools").get_by_role("link", name="Timeline", exact=True).click()
    assert page.url.endswith(f"/accounts/{account_id}/timeline")
    expect(page.locator("h1")).to_have_text(f"{ACCOUNT}: timeline")
    assert page.locator("li.tl-entry").count() >= 10
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^Chat \d+$")).click()
    assert "kind=chat" in page.url
    assert set(page.locator("li.tl-entry").evaluate_all("els => els.map(e => e.dataset.kind)")) == {"chat"}
    expect(page.locator("li.tl-entry").filter(has_text=DOC_QUESTION).first).to_be_visible()
    shot(page, shots, "account_manager_timeline")

    # The board: read only for this role.
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="Gap board").click()
    assert _column_ids(page, "new"), "the account manager still sees the queue"
    expect(page.get_by_text("Read only: docs writers move the cards.")).to_be_visible()
    expect(page.locator("main button")).to_have_count(0)
    expect(page.locator("main form[method=post]")).to_have_count(0)
    expect(page.locator("input[name=topic_ids]")).to_have_count(0)
    expect(page.locator("details.menu")).to_have_count(0)
    shot(page, shots, "account_manager_board")

    # A status change forged in the page with the session's own CSRF token: refused, and nothing changes.
    target = _column_ids(page, "new")[0]
    before = _topic(module_demo, target).status
    token = page.locator("form.who input[name=csrf_token]").input_value()
    with page.expect_navigation() as nav:
        page.evaluate(
            """([id, token]) => {
              const f = Object.assign(document.createElement("form"), {method: "post", action: `/topics/${id}/status`});
              for (const [name, value] of Object.entries({csrf_token: token, status: "dismissed", back: "/"})) {
                f.appendChild(Object.assign(document.createElement("input"), {type: "hidden", name, value}));
              }
              document.body.appendChild(f);
              f.submit();
            }""",
            [target, token],
        )
    response = nav.value
    assert response is not None and response.status == 403, response and response.status
    expect(page.locator("h1")).to_have_text("Not allowed")
    assert _topic(module_demo, target).status == before == "new"
    # and the topic page offers no status, rename, merge or split form either
    page.goto(f"/topics/{target}")
    expect(page.locator("main form[method=post]")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("docs writers change topics")
    passages = page.locator(".passage p").all_inner_texts()
    assert passages and not [p for p in passages if re.search(r"(^|[.:] )[-*] \S", p)], "list bullets shown raw"
    recent = page.locator("section", has=page.get_by_role("heading", name="Recent questions"))
    assert recent.locator("tbody tr").count() >= 1
    expect(recent.locator("th")).to_have_text(["When", "Account", "Question", "Staff answered"])
    shot(page, shots, "account_manager_topic")

    log_out_and_check(page)


def test_docs_writer_works_the_board_and_renames_a_topic(
    new_page: Callable[[], Page], module_demo: Runtime, shots: Path
) -> None:
    page = new_page()
    log_in_with_the_form(page, "docs_writer")
    expect(page).to_have_title(re.compile("Gap board"))
    expect(page.locator("header nav").get_by_role("link", name="Jobs")).to_have_count(0)

    # Move the top new card without a doc ticket to triaged with its button (htmx swaps the board in place).
    topic = next(t for t in _column_ids(page, "new") if not page.locator(f"#card-{t} .ticket-line").count())
    label = _topic(module_demo, topic).label
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name=f"Move topic {topic} to triaged", exact=True).click()
    expect(page.locator(f"section.column[data-status=triaged] #card-{topic}")).to_be_visible()
    expect(page.locator(f"section.column[data-status=new] #card-{topic}")).to_have_count(0)
    assert page.evaluate("window.__notReloaded === true"), "the board was swapped in place, not reloaded"
    assert _topic(module_demo, topic).status == "triaged"

    # Its evidence drawer, on the board.
    page.get_by_role("link", name=f"Evidence for topic {topic}", exact=True).click()
    drawer = page.locator("aside#drawer")
    expect(drawer.locator("h2")).to_contain_text(label)
    expect(drawer).to_contain_text("triaged")
    assert drawer.locator("ul.examples li").count() >= 1 and drawer.locator(".passage").count() >= 1
    assert f"evidence={topic}" in page.url
    expect(drawer).to_contain_text("No ticket yet.")

    # Create the doc ticket from the drawer: a plain form that comes back to the board with the drawer open.
    with page.expect_navigation():
        drawer.get_by_role("button", name=f"Create the doc ticket of topic {topic}", exact=True).click()
    assert f"evidence={topic}" in page.url
    with Session(module_demo.engine) as s:
        ticket = s.exec(select(DocTicket).where(DocTicket.topic_id == topic).order_by(col(DocTicket.id).desc())).first()
    assert ticket is not None and ticket.created_by == WEB_USERS["docs_writer"][0]
    drawer = page.locator("aside#drawer")
    expect(drawer.get_by_role("link", name=f"Ticket #{ticket.id}")).to_be_visible()
    expect(drawer.get_by_role("button", name=re.compile("doc ticket"))).to_have_count(0)
    expect(page.locator(f"#card-{topic} .ticket-line")).to_contain_text(f"ticket #{ticket.id}")
    shot(page, shots, "docs_writer_drawer")

    # The topic page, from the drawer: the ticket is there; rename the topic.
    with page.expect_navigation():
        drawer.get_by_role("link", name="Open the topic page →").click()
    assert page.url.endswith(f"/topics/{topic}")
    expect(page.locator("#ticket .ticket-title")).to_contain_text(f"#{ticket.id}")
    renamed = f"{label} (renamed by the writer)"[:200]
    page.get_by_label("Label", exact=True).fill(renamed)
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    assert page.url.endswith(f"/topics/{topic}")
    page.reload()
    expect(page.locator("h1")).to_contain_text(renamed)
    expect(page.get_by_label("Label", exact=True)).to_have_value(renamed)
    expect(page.locator(f"form[action='/topics/{topic}/status'] select[name=status]")).to_have_value("triaged")
    expect(page.locator(".history")).to_contain_text(f"renamed from “{label}” to “{renamed}”")
    stored = _topic(module_demo, topic)
    assert (stored.label, stored.label_locked, stored.status) == (renamed, True, "triaged")
    shot(page, shots, "docs_writer_topic")

    # Back on the board the card carries its new title, in its new column.
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="Gap board").click()
    card = page.locator(f"section.column[data-status=triaged] #card-{topic}")
    expect(card.locator(".tcard-title")).to_have_text(renamed)
    shot(page, shots, "docs_writer_board")

    log_out_and_check(page)


def test_admin_logs_in_by_keyboard_and_starts_a_job(new_page: Callable[[], Page], shots: Path) -> None:
    name, password = WEB_USERS["admin"]
    page = new_page()
    page.goto("/jobs")
    assert page.url.endswith("/login?next=%2Fjobs")
    # The user name field has the focus when the form opens; Tab moves to the password, Enter sends the form.
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/jobs"), "back on the page asked for"
    expect(page.locator("form.who")).to_contain_text(f"{name} · admin")

    expect(page.locator("h1")).to_have_text("Jobs")
    jobs_link = page.locator("header nav").get_by_role("link", name="Jobs")
    expect(jobs_link).to_have_attribute("aria-current", "true")
    page.get_by_label("Job", exact=True).select_option("weekly report")
    with page.expect_navigation():
        page.get_by_role("button", name="Start").click()
    assert page.url.endswith("/jobs?started=weekly%20report") or page.url.endswith("/jobs?started=weekly+report")
    expect(page.get_by_role("status")).to_contain_text("Started: weekly report")
    shot(page, shots, "admin_jobs")

    # Admins work the topics too: the board offers them the writer's controls.
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="Gap board").click()
    expect(page.locator("form#bulk")).to_have_count(1)
    assert page.locator("main button.step").count() >= 1
    shot(page, shots, "admin_board")

    log_out_and_check(page)
