"""The risk flags list: `usecases.flags`, `GET /v1/flags` and the `/flags` page, over real HTTP on a copy of the demo.

The copy's flags have a history, made as weekly checks would make it: the indicators evaluated every two weeks
from twelve weeks before the tests' clock to it. On the demo that raises flags on several accounts and clears some
of them at a later check (Brightline's two flags stay open at the last one), so the list holds open and cleared
flags, each with its own dates.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from core.models import Account, Question, Report, RiskFlag
from core.runtime import Runtime
from reports.risk import evaluate_flags
from tests.conftest import NOW, WEB_USERS, LiveServer, logged_in
from usecases.apikeys import create_key
from usecases.flags import list_risk_flags
from usecases.permissions import PermissionDenied, key_actor, user_actor

HOSTILE = "Brightline <script>alert(1)</script> & Co"
CHECKS = [NOW - timedelta(weeks=w) for w in (12, 10, 8, 6, 4, 2, 0)]


@pytest.fixture(scope="module", autouse=True)
def history(module_demo: Runtime) -> Runtime:
    """The module's copy of the demo with its flag history, made before any test (the served copy included)."""
    for at in CHECKS:
        evaluate_flags(module_demo, at)
    return module_demo


def _rows(rt: Runtime) -> list[RiskFlag]:
    with Session(rt.engine) as s:
        return list(s.exec(select(RiskFlag)).all())


def _names(rt: Runtime) -> dict[int, str]:
    with Session(rt.engine) as s:
        return {a.id or 0: a.name for a in s.exec(select(Account)).all()}


def test_open_flags_come_first_then_the_most_recently_cleared(history: Runtime) -> None:
    stored = _rows(history)
    names = _names(history)
    # most severe first (ties: by account, kind); then the last cleared first (ties: the newer flag first)
    opened = sorted((r for r in stored if r.cleared_at is None), key=lambda r: (-r.severity, names[r.account_id],
                                                                                 r.kind, r.id))  # fmt: skip
    cleared = sorted((r for r in stored if r.cleared_at is not None), key=lambda r: (r.cleared_at, r.id),
                     reverse=True)  # fmt: skip
    assert len(opened) >= 2 and len(cleared) >= 2, "the history has open and cleared flags"

    listed = list_risk_flags(history, user_actor("ada", "account_manager"), "all")
    assert [r.id for r in listed.rows] == [r.id for r in opened] + [r.id for r in cleared]
    assert [r.state for r in listed.rows] == ["open"] * len(opened) + ["cleared"] * len(cleared)
    for row, flag in zip(listed.rows, opened + cleared, strict=True):
        assert (row.account, row.kind, row.raised_at, row.cleared_at) == (names[flag.account_id], flag.kind,
                                                                         flag.raised_at, flag.cleared_at)  # fmt: skip
        assert row.raised_at in CHECKS and (row.cleared_at is None or row.raised_at < row.cleared_at)
    assert {(r.account, r.kind) for r in listed.open} >= {("Brightline Logistics", "velocity"),
                                                         ("Brightline Logistics", "repeat_requesters")}  # fmt: skip

    assert [r.id for r in list_risk_flags(history, user_actor("wes", "docs_writer"), "open").rows] == [
        r.id for r in opened]  # fmt: skip
    only_cleared = list_risk_flags(history, user_actor("ali", "admin"), "cleared")
    assert [r.id for r in only_cleared.rows] == [r.id for r in cleared] and not only_cleared.open
    assert [r.id for r in list_risk_flags(history, user_actor("ali", "admin"), "cleared", limit=1).rows] == [
        cleared[0].id]  # fmt: skip


def test_each_flags_evidence_is_one_line_with_links_to_what_it_rests_on(history: Runtime) -> None:
    listed = list_risk_flags(history, user_actor("ada", "account_manager"), "all")
    with Session(history.engine) as s:
        topic_of = dict(s.exec(select(Question.id, Question.topic_id)).all())
        archived = set(s.exec(select(Report.period_start).where(Report.kind == "weekly")).all())
        flags = {r.id: r for r in s.exec(select(RiskFlag)).all()}
    assert archived, "the demo archives a weekly report"
    linked_weeks = 0
    for row in listed.rows:
        stored = flags[row.id].evidence
        assert "\n" not in row.line and row.line.startswith(flags[row.id].summary) and flags[row.id].summary
        assert f"{len(stored['question_ids'])} questions" in row.line or len(stored["question_ids"]) <= 1
        assert row.question_ids == stored["question_ids"] and row.text == stored["text"]
        assert [q.text for q in row.questions] == [f"#{i}" for i in stored["question_ids"]]
        for qid, link in zip(row.question_ids, row.questions, strict=True):
            assert link.href == (f"/topics/{topic_of[qid]}" if topic_of[qid] else "/questions/unassigned")
        for week, link in zip(row.weeks, row.week_links, strict=True):
            assert link.text == week.isoformat()
            assert link.href == (f"/reports/weekly/{week}" if week in archived else ""), link
            linked_weeks += bool(link.href)
        assert [t.href for t in row.topics] == [x for x in stored["links"] if x.startswith("/topics/")]
        assert row.brief.href == f"/accounts/{row.account_id}/brief"
        assert row.timeline.href == f"/accounts/{row.account_id}/timeline"
    assert linked_weeks, "a week with an archived report links to it"


def test_reading_the_list_needs_read_and_a_known_state(history: Runtime) -> None:
    with pytest.raises(PermissionDenied):
        list_risk_flags(history, key_actor("push only", ["questions:write"]))
    with pytest.raises(ValueError, match="state must be one of open, cleared, all"):
        list_risk_flags(history, user_actor("ada", "account_manager"), "closed")
    with pytest.raises(ValueError, match="limit"):
        list_risk_flags(history, user_actor("ada", "account_manager"), "all", limit=0)
    before = [(r.id, r.cleared_at, r.last_checked_at) for r in _rows(history)]
    list_risk_flags(history, user_actor("ada", "account_manager"), "all")
    assert [(r.id, r.cleared_at, r.last_checked_at) for r in _rows(history)] == before, "listing changes nothing"


def test_the_api_lists_flags_with_the_scopes_used_elsewhere(module_server: LiveServer, history: Runtime) -> None:
    read = create_key(history, ["answers:read"], name="flags reader").secret
    writer = create_key(history, ["topics:write"], name="flags writer").secret
    push = create_key(history, ["questions:write"], name="pusher").secret
    expected = list_risk_flags(history, user_actor("ada", "account_manager"), "all")
    with httpx.Client(base_url=module_server.url, timeout=60) as c:
        assert c.get("/v1/flags").status_code == 401
        refused = c.get("/v1/flags", headers={"Authorization": f"Bearer {push}"})
        assert refused.status_code == 403 and "answers:read" in refused.json()["detail"]
        r = c.get("/v1/flags?state=all", headers={"Authorization": f"Bearer {read}"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [(f["id"], f["state"]) for f in body] == [(x.id, x.state) for x in expected.rows]
        first = body[0]
        assert first["line"] == expected.rows[0].line and first["raised_at"] == expected.rows[0].raised_at.isoformat()
        assert first["brief"] == {"text": "account brief", "href": f"/accounts/{first['account_id']}/brief"}
        assert [q["text"] for q in first["questions"]] == [f"#{i}" for i in first["question_ids"]]
        cleared = [f for f in body if f["state"] == "cleared"]
        assert cleared and all(f["cleared_at"] for f in cleared)

        default = c.get("/v1/flags", headers={"X-API-Key": writer}).json()
        assert [f["id"] for f in default] == [x.id for x in expected.open], "open is the default"
        only = c.get("/v1/flags", params={"state": "cleared", "limit": 1}, headers={"X-API-Key": read}).json()
        assert [f["id"] for f in only] == [expected.cleared[0].id]
        for bad in ({"state": "closed"}, {"limit": 0}, {"limit": 501}):
            assert c.get("/v1/flags", params=bad, headers={"X-API-Key": read}).status_code == 422, bad
    assert "/v1/flags" in httpx.get(f"{module_server.url}/openapi.json").json()["paths"]


def test_the_page_for_every_role_open_first_with_evidence_and_links(
    module_server: LiveServer, history: Runtime
) -> None:
    listed = list_risk_flags(history, user_actor("ada", "account_manager"), "all")
    for role in WEB_USERS:
        with logged_in(module_server.url, *WEB_USERS[role]) as (client, _):
            html = client.get("/flags").text
            assert '<a href="/flags" class="on" aria-current="true">Risk flags</a>' in html, "in the nav"
            assert html.index('<section id="open">') < html.index('<section id="cleared">')
            found = [int(i) for i in re.findall(r'<tr id="flag-(\d+)"', html)]
            assert found == [r.id for r in listed.rows], role
            only_open = client.get("/flags?state=open").text
            assert [int(i) for i in re.findall(r'<tr id="flag-(\d+)"', only_open)] == [r.id for r in listed.open]
            assert 'id="cleared"' not in only_open
            assert 'href="/flags"' in client.get("/briefs/executive").text, "linked from the executive brief"
    for row in listed.rows:
        tr = re.search(rf'<tr id="flag-{row.id}".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
        assert row.account in tr.replace("&amp;", "&") and row.title in tr and str(row.raised_at.date()) in tr
        if row.cleared_at:
            assert str(row.cleared_at.date()) in tr
        assert f'href="/accounts/{row.account_id}/brief"' in tr
        assert all(f'href="{q.href}">{q.text}</a>' in tr for q in row.questions[:8] if q.href)
        assert all(f'href="{t.href}"' in tr for t in row.topics)
        assert all(f'href="{w.href}"' in tr for w in row.week_links if w.href)


def test_the_page_escapes_what_it_shows(module_server: LiveServer, history: Runtime) -> None:
    with Session(history.engine) as s:
        account = s.exec(select(Account).where(Account.name == "Brightline Logistics")).one()
        account.name = HOSTILE
        s.add(account)
        flag = s.exec(select(RiskFlag).where(RiskFlag.account_id == account.id,
                                             col(RiskFlag.cleared_at).is_(None))).first()  # fmt: skip
        assert flag is not None
        original, account_id, flag_id = flag.summary, account.id, flag.id
        flag.summary = f"{original} <img src=x onerror=alert(2)>"
        s.add(flag)
        s.commit()
    try:
        with logged_in(module_server.url, *WEB_USERS["account_manager"]) as (client, _):
            html = client.get("/flags").text
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "Brightline &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
        assert "&lt;img src=x onerror=alert(2)&gt;" in html
    finally:
        with Session(history.engine) as s:
            account = s.get(Account, account_id)
            flag_row = s.get(RiskFlag, flag_id)
            assert account is not None and flag_row is not None
            account.name, flag_row.summary = "Brightline Logistics", original
            s.add(account)
            s.add(flag_row)
            s.commit()


def test_the_page_in_a_browser(browser, module_server: LiveServer, history: Runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.web.test_pages_browser import SCREENSHOTS, log_in

    context = browser.new_context(base_url=module_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
          and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    try:
        log_in(pg, *WEB_USERS["account_manager"])
        pg.get_by_role("link", name="Executive brief", exact=True).click()
        pg.get_by_role("link", name="All risk flags, open and cleared").click()
        expect(pg.get_by_role("heading", name="Risk flags", level=1)).to_be_visible()
        open_rows = pg.locator("#open tr.flag-row")
        expect(open_rows.first).to_contain_text("Brightline Logistics")
        expect(pg.locator("#cleared tr.flag-row").first).to_be_visible()
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
        folder = Path(SCREENSHOTS or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(folder / "risk-flags.png"), full_page=True)
        open_rows.first.get_by_role("link", name="account brief").click()
        expect(pg.get_by_role("heading", name="Risk flags")).to_be_visible()
    finally:
        context.close()
    assert not errors, errors
