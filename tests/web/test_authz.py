"""Every page and form × {anonymous, each role} × {valid, missing, wrong CSRF token}, over real HTTP.

The server runs on a private copy of the analysed demo (`module_demo`: the forms merge and split its topics). Each
case logs in through the real login form; a refused change must leave the data as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from itertools import count

import httpx
import pytest
from sqlmodel import Session, col, func, select

from core.models import (
    Account,
    ApiKey,
    ChatTurn,
    DocTicket,
    Document,
    LoginSession,
    Report,
    TicketExport,
    Topic,
    User,
)
from core.runtime import Runtime
from server.app import create_app
from tests.conftest import WEB_USERS, LiveServer, logged_in
from usecases.answers import ask
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.tickets import create_ticket
from usecases.users import create_user

ROLES = tuple(WEB_USERS)
PUBLIC = {"/login", "/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/webhooks/slack/events"}
"""Reachable without a login: the login form, the health check, the Slack webhook (Slack signs its requests) and
the API's own documentation (it describes
`/v1`, which has its API keys, and holds no customer data)."""
API_KEY_ROUTES = {"/metrics"}
"""Outside `/v1` but, like it, behind an API key (a Prometheus server scrapes it; `tests/api/test_metrics.py`)."""
WRITERS = {"docs_writer", "admin"}
EVERYONE = set(ROLES)


def _count(rt: Runtime, what: object) -> int:
    with Session(rt.engine) as s:
        return int(s.exec(select(func.count()).select_from(what)).one())  # type: ignore[call-overload]


class Ids:
    """Real ids to fill the routes' parameters with; topics handed out one by one, since merges retire them."""

    def __init__(self, rt: Runtime) -> None:
        with Session(rt.engine) as s:
            topics = s.exec(
                select(Topic.id).where(col(Topic.active).is_(True), Topic.size >= 4).order_by(col(Topic.id))
            ).all()
            self.account = s.exec(select(Account.id)).first()
            self.doc = s.exec(select(Document.url)).first()
            self.week = s.exec(select(Report.period_start)).first()
        self._topics = iter(topics[1:])
        self.api_turn = ask(rt, OPERATOR, "How do I order a new card?").turn_id
        self.topic = topics[0]
        self.runtime = rt

    @property
    def ticket(self) -> int:
        """A doc ticket (on the first topic), written once for the whole matrix."""
        with Session(self.runtime.engine) as s:
            found = s.exec(select(DocTicket.id).where(DocTicket.topic_id == self.topic)).first()
        return found or create_ticket(self.runtime, OPERATOR, self.topic)[0].id

    def fresh_topic(self) -> int:
        return next(self._topics)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    """The route's path as declared (the matrix must name every declared route)."""
    allowed: set[str]
    request: Callable[[Ids], tuple[str, dict[str, object]]]
    """(concrete URL, form fields)."""
    state: Callable[[Runtime, str], object] | None = None
    """Something the request would change (given the URL), read before and after a refused one."""
    success: int = 303
    lands: str = "/topics/"
    """Where an allowed POST redirects (or, with `success` 200, a text the page it renders shows)."""


def _topic_of(url: str) -> int:
    return int(url.split("/")[2])


def _topic_row(rt: Runtime, url: str) -> tuple[str, bool, int]:
    with Session(rt.engine) as s:
        t = s.get(Topic, _topic_of(url))
        assert t is not None
        return t.status, t.active, t.size


def _sessions(rt: Runtime, url: str) -> int:
    return _count(rt, LoginSession)


def _feedback(rt: Runtime, url: str) -> int | None:
    with Session(rt.engine) as s:
        turn = s.get(ChatTurn, int(url.split("/")[3]))
        assert turn is not None
        return turn.feedback


def _turns(rt: Runtime, url: str) -> int:
    return _count(rt, ChatTurn)


def _status_case(ids: Ids) -> tuple[str, dict[str, object]]:
    return f"/topics/{ids.fresh_topic()}/status", {"status": "triaged", "notes": "checked"}


def _merge_case(ids: Ids) -> tuple[str, dict[str, object]]:
    return f"/topics/{ids.fresh_topic()}/merge", {"into": ids.topic}


def _bulk_case(ids: Ids) -> tuple[str, dict[str, object]]:
    return "/topics/bulk/status", {"topic_ids": [ids.fresh_topic(), ids.topic], "status": "in_progress",
                                   "back": "/?view=all"}  # fmt: skip


def _statuses(rt: Runtime, url: str) -> list[tuple[int | None, str]]:
    with Session(rt.engine) as s:
        return sorted(s.exec(select(Topic.id, Topic.status)).all())


def _tickets_of(rt: Runtime, url: str) -> int:
    with Session(rt.engine) as s:
        return len(s.exec(select(DocTicket.id).where(DocTicket.topic_id == _topic_of(url))).all())


def _ticket_file(rt: Runtime, url: str) -> tuple[int, int] | None:
    """The Markdown export's file (inode, mtime): each export rewrites it, so it changes even with the same text."""
    with Session(rt.engine) as s:
        e = s.exec(select(TicketExport).where(TicketExport.ticket_id == int(url.split("/")[2]),
                                              TicketExport.tracker == "markdown")).first()  # fmt: skip
    if e is None:
        return None
    st = (rt.settings.resolved_tickets_dir / e.external_id).stat()
    return st.st_ino, st.st_mtime_ns


def _ticket_status(rt: Runtime, url: str) -> str:
    with Session(rt.engine) as s:
        t = s.get(DocTicket, int(url.split("/")[2]))
        assert t is not None
        return t.status


def _ticket_status_case(ids: Ids) -> tuple[str, dict[str, object]]:
    url = f"/tickets/{ids.ticket}/status"
    return url, {"value": "in_progress" if _ticket_status(ids.runtime, url) == "open" else "open"}


def _split_case(ids: Ids) -> tuple[str, dict[str, object]]:
    return f"/topics/{ids.fresh_topic()}/split", {"label": "split by the matrix"}


_serial = count(1)
"""Numbers for the users and keys the admin pages' cases create (each case's request runs once per role × token)."""


def _new_user_case(ids: Ids) -> tuple[str, dict[str, object]]:
    return "/users", {"name": f"matrix-user-{next(_serial)}", "role": "docs_writer", "password": "matrix-password-01"}


def _disable_case(ids: Ids) -> tuple[str, dict[str, object]]:
    name = f"matrix-target-{next(_serial)}"
    create_user(ids.runtime, OPERATOR, name, "account_manager", "matrix-password-02")
    return "/users/disable", {"name": name}


def _users(rt: Runtime, url: str) -> tuple[int, int]:
    """(users, disabled users)."""
    with Session(rt.engine) as s:
        return _count(rt, User), len(s.exec(select(User.id).where(col(User.disabled_at).is_not(None))).all())


def _keys(rt: Runtime, url: str) -> int:
    return _count(rt, ApiKey)


def _revoke_case(ids: Ids) -> tuple[str, dict[str, object]]:
    return f"/keys/{create_key(ids.runtime, ['answers:read'], name='matrix').id}/revoke", {}


def _revoked(rt: Runtime, url: str) -> object:
    with Session(rt.engine) as s:
        key = s.get(ApiKey, int(url.split("/")[2]))
        assert key is not None
        return key.revoked_at


CASES = [
    Case("GET", "/", EVERYONE, lambda ids: ("/?view=all", {})),
    Case("GET", "/topics/{topic_id}", EVERYONE, lambda ids: (f"/topics/{ids.topic}", {})),
    Case("GET", "/topics/{topic_id}/evidence", EVERYONE, lambda ids: (f"/topics/{ids.topic}/evidence", {})),
    Case("GET", "/questions/unassigned", EVERYONE, lambda ids: ("/questions/unassigned", {})),
    Case("GET", "/chat", EVERYONE, lambda ids: ("/chat", {})),
    Case("GET", "/accounts", EVERYONE, lambda ids: ("/accounts", {})),
    Case("GET", "/accounts/{account_id}", EVERYONE, lambda ids: (f"/accounts/{ids.account}", {})),
    Case("GET", "/accounts/{account_id}/timeline", EVERYONE, lambda ids: (f"/accounts/{ids.account}/timeline", {})),
    Case("GET", "/accounts/{account_id}/brief", EVERYONE, lambda ids: (f"/accounts/{ids.account}/brief", {})),
    Case("GET", "/accounts/{account_id}/brief.pdf", EVERYONE, lambda ids: (f"/accounts/{ids.account}/brief.pdf", {})),
    Case("GET", "/briefs/executive", EVERYONE, lambda ids: ("/briefs/executive", {})),
    Case("GET", "/briefs/executive.pdf", EVERYONE, lambda ids: ("/briefs/executive.pdf", {})),
    Case("GET", "/flags", EVERYONE, lambda ids: ("/flags", {})),
    Case("GET", "/jobs", {"admin"}, lambda ids: ("/jobs", {})),
    Case("GET", "/users", {"admin"}, lambda ids: ("/users", {})),
    Case("GET", "/keys", {"admin"}, lambda ids: ("/keys", {})),
    Case("GET", "/kb/{url:path}", EVERYONE, lambda ids: (f"/kb/{ids.doc}", {})),
    Case("GET", "/reports", EVERYONE, lambda ids: ("/reports", {})),
    Case("GET", "/reports/weekly/latest", EVERYONE, lambda ids: ("/reports/weekly/latest", {})),
    Case("GET", "/reports/weekly/{week}", EVERYONE, lambda ids: (f"/reports/weekly/{ids.week}", {})),
    Case("POST", "/topics/{topic_id}/status", WRITERS, _status_case, _topic_row),
    Case("POST", "/topics/{topic_id}/merge", WRITERS, _merge_case, _topic_row),
    Case("POST", "/topics/{topic_id}/split", WRITERS, _split_case, _topic_row),
    Case("POST", "/topics/bulk/status", WRITERS, _bulk_case, _statuses, 303, "/?view=all"),
    Case(
        "POST",
        "/chat",
        EVERYONE,
        lambda ids: ("/chat", {"question": "How do I change my PIN?"}),
        _turns,
        200,
        'class="answer',
    ),
    Case(
        "POST",
        "/chat/turns/{turn_id}/feedback",
        set(),
        lambda ids: (f"/chat/turns/{ids.api_turn}/feedback", {"helpful": "no"}),
        _feedback,
    ),  # a person rates only their own answers: this one came from the API
    Case(
        "POST",
        "/chat/stream",
        EVERYONE,
        lambda ids: ("/chat/stream", {"question": "How do I change my PIN?"}),
        _turns,
        200,
        "event: done",
    ),
    Case("POST", "/logout", EVERYONE, lambda ids: ("/logout", {}), _sessions, 303, "/login"),
    Case(
        "POST",
        "/topics/{topic_id}/tickets",
        WRITERS,
        lambda ids: (f"/topics/{ids.fresh_topic()}/tickets", {}),
        _tickets_of,
    ),
    Case(
        "POST",
        "/tickets/{ticket_id}/export",
        WRITERS,
        lambda ids: (f"/tickets/{ids.ticket}/export", {"tracker": "markdown"}),
        _ticket_file,
    ),
    Case("POST", "/tickets/{ticket_id}/status", WRITERS, _ticket_status_case, _ticket_status),
    Case("GET", "/tickets/{ticket_id}.md", EVERYONE, lambda ids: (f"/tickets/{ids.ticket}.md", {})),
    Case(
        "POST",
        "/jobs/start",
        {"admin"},
        lambda ids: ("/jobs/start", {"name": "weekly report"}),
        None,
        303,
        "/jobs?started=",
    ),
    Case("POST", "/users", {"admin"}, _new_user_case, _users, 303, "/users?created=matrix-user-"),
    Case("POST", "/users/disable", {"admin"}, _disable_case, _users, 303, "/users?disabled=matrix-target-"),
    Case(
        "POST",
        "/keys",
        {"admin"},
        lambda ids: ("/keys", {"name": "matrix", "scopes": ["answers:read"]}),
        _keys,
        200,
        'class="secret" id="new-key">dg_',
    ),
    Case("POST", "/keys/{key_id}/revoke", {"admin"}, _revoke_case, _revoked, 303, "/keys?revoked="),
]


def _routes(routes: list) -> Iterator[tuple[str, str]]:  # type: ignore[type-arg]
    """(method, path) of every route, including those of included routers (FastAPI wraps them)."""
    for r in routes:
        if hasattr(r, "original_router"):
            yield from _routes(r.original_router.routes)
        elif hasattr(r, "methods") and r.methods:
            yield from ((m, r.path) for m in r.methods - {"HEAD"})


def test_the_matrix_names_every_page_route(module_demo: Runtime) -> None:
    declared = {
        (m, path)
        for m, path in _routes(create_app(module_demo).routes)
        if not path.startswith(("/v1/", "/static")) and path not in PUBLIC | API_KEY_ROUTES
    }
    assert declared == {(c.method, c.path) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_anonymous_is_sent_to_log_in_and_changes_nothing(
    module_server: LiveServer, module_demo: Runtime, case: Case
) -> None:
    url, form = case.request(Ids(module_demo))
    before = case.state(module_demo, url) if case.state else None
    with httpx.Client(base_url=module_server.url, timeout=60) as client:
        r = client.request(case.method, url, data=form or None)
    assert r.status_code == 303 and r.headers["location"].startswith("/login"), (r.status_code, r.text[:200])
    if case.state:
        assert case.state(module_demo, url) == before


ids_cache: dict[str, Ids] = {}


@pytest.fixture(scope="module")
def sessions(module_server: LiveServer) -> Iterator[Callable[[str], AbstractContextManager[tuple[httpx.Client, str]]]]:
    """One logged-in client per role for the whole matrix (logging in ~200 times would be most of its run time);
    a case that logs out gets a login of its own."""
    with ExitStack() as stack:
        open_: dict[str, tuple[httpx.Client, str]] = {}

        @contextmanager
        def session(role: str) -> Iterator[tuple[httpx.Client, str]]:
            if role not in open_:
                open_[role] = stack.enter_context(logged_in(module_server.url, *WEB_USERS[role]))
            yield open_[role]

        yield session


@pytest.mark.parametrize(
    ("case", "role", "token"),
    [
        (c, role, token)
        for c in CASES
        for role in ROLES
        for token in (("valid", "missing", "wrong") if c.method == "POST" else ("none",))
    ],
    ids=lambda v: f"{v.method} {v.path}" if isinstance(v, Case) else str(v),
)
def test_each_role_with_each_token(
    module_server: LiveServer,
    module_demo: Runtime,
    sessions,
    case: Case,
    role: str,
    token: str,  # type: ignore[no-untyped-def]
) -> None:
    """Pages: the roles allowed read them, the others get 403 (a GET carries no token). Forms: without the
    session's token, or with a wrong one, refused for everyone; with it, done for the roles allowed and refused
    (403) for the others."""
    ids = ids_cache.setdefault("ids", Ids(module_demo))
    own_login = case.path == "/logout"
    with logged_in(module_server.url, *WEB_USERS[role]) if own_login else sessions(role) as (client, csrf):
        url, form = case.request(ids)
        if case.method == "GET":
            r = client.get(url, follow_redirects=True)
            assert r.status_code == (200 if role in case.allowed else 403), (r.status_code, r.text[:200])
            return
        fields = dict(form)
        if token == "valid":
            fields["csrf_token"] = csrf
        elif token == "wrong":
            fields["csrf_token"] = csrf[::-1]
        before = case.state(module_demo, url) if case.state else None
        r = client.post(url, data=fields)
        if token == "valid" and role in case.allowed:
            assert r.status_code == case.success, (r.status_code, r.text[:300])
            if case.success == 303:
                assert r.headers["location"].startswith(case.lands), r.headers["location"]
            else:
                assert case.lands in r.text
            if case.state:
                assert case.state(module_demo, url) != before, "an allowed request changed nothing"
            return
        assert r.status_code == 403, (r.status_code, r.text[:300])
        if case.state:
            assert case.state(module_demo, url) == before, "a refused request changed something"


def test_a_form_posted_from_another_site_is_refused(module_server: LiveServer, module_demo: Runtime) -> None:
    """The issue's attack: a cross-origin POST to a topic's status. Refused even with the victim's own token."""
    ids = Ids(module_demo)
    url = f"/topics/{ids.topic}/status"
    before = _topic_row(module_demo, url)
    with logged_in(module_server.url, *WEB_USERS["admin"]) as (client, csrf):
        r = client.post(url, data={"status": "dismissed", "csrf_token": csrf},
                        headers={"Origin": "https://evil.example"})  # fmt: skip
        assert r.status_code == 403 and "Origin" in r.text
        same = client.post(url, data={"status": before[0], "csrf_token": csrf}, headers={"Origin": module_server.url})
        assert same.status_code == 303
    assert _topic_row(module_demo, url) == before


def test_an_account_manager_sees_no_change_forms(module_server: LiveServer, module_demo: Runtime) -> None:
    ids = Ids(module_demo)
    for role, writes in (("account_manager", False), ("docs_writer", True)):
        with logged_in(module_server.url, *WEB_USERS[role]) as (client, _):
            html = client.get(f"/topics/{ids.topic}").text
        assert (f'action="/topics/{ids.topic}/merge"' in html) is writes, role
        assert (f'action="/topics/{ids.topic}/status"' in html) is writes, role


def test_every_state_changing_form_carries_a_token(module_server: LiveServer, module_demo: Runtime) -> None:
    """Each POST form on the pages a docs writer sees has the hidden `csrf_token` field."""
    import re

    ids = Ids(module_demo)
    forms = 0
    with logged_in(module_server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        for path in ("/", f"/topics/{ids.topic}", "/chat", "/accounts"):
            html = client.get(path).text
            for form in re.findall(r'<form[^>]*method="post".*?</form>', html, re.S):
                forms += 1
                assert f'name="csrf_token" value="{csrf}"' in form, form[:200]
    assert forms >= 5
