"""Live Zendesk sync against a real local HTTP server speaking the incremental-export and comments API."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from core.embedding import SentenceTransformerEmbedder
from core.models import Account, Question, SyncCursor
from core.runtime import Runtime
from ingest.zendesk_api import MAX_ATTEMPTS, ZendeskClient, ZendeskError, sync_zendesk
from tests.conftest import make_runtime

EMAIL, TOKEN = "sync@fernpay.example", "zd-secret-token"
USERS = {
    100: {"id": 100, "role": "end-user", "email": "alice@acme.example", "organization_id": 7},
    101: {"id": 101, "role": "end-user", "email": "carol@globex.example", "organization_id": 8},
    200: {"id": 200, "role": "agent", "email": "bob@fernpay.example"},
}
ORGS = [{"id": 7, "name": "Acme Corp"}, {"id": 8, "name": "Globex"}]


def _ticket(ident: int, subject: str, description: str, requester: int, org: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "subject": subject,
        "description": description,
        "requester_id": requester,
        "organization_id": org,
        "created_at": f"2026-11-0{ident}T10:00:00Z",
        "status": "open",
        "via": {"channel": "web"},
        **extra,
    }


CARD = "Why was my card declined at the shop yesterday?"
PAGES: dict[str, dict[str, Any]] = {
    "start": {
        "tickets": [
            _ticket(1, "Card declined", CARD, 100, 7),
            _ticket(2, "PIN", "How do I change my PIN on the new card?", 101, 8),
        ],
        "users": [USERS[100], USERS[101]],  # the commenting agent only comes side-loaded with the comments
        "organizations": ORGS,
        "after_cursor": "c1",
        "end_of_stream": False,
    },
    "c1": {
        "tickets": [
            _ticket(
                3, "Transfer missing", "My transfer was sent three days ago and never arrived, where is it?", 100, 7
            ),
            _ticket(4, "spam", "buy cheap watches", 101, 8, status="deleted"),
        ],
        "users": [USERS[100]],
        "organizations": ORGS[:1],
        "after_cursor": "c2",
        "end_of_stream": False,
    },
    "c2": {
        "tickets": [_ticket(1, "Card declined abroad", CARD, 100, 7, status="pending")],
        "users": [USERS[100]],
        "organizations": ORGS[:1],
        "after_cursor": "c3",
        "end_of_stream": True,
    },
    "c3": {"tickets": [], "users": [], "organizations": [], "after_cursor": "c3", "end_of_stream": True},
}
ANSWER = "The fraud check blocked it; unblock the card under Settings > Cards."
FOLLOW_UP = "It still fails for contactless payments, what else can I try?"


def _comment(ident: int, author: int, body: str) -> dict[str, Any]:
    return {"id": ident, "author_id": author, "body": body, "public": True, "created_at": "2026-11-05T10:00:00Z"}


class FakeZendesk:
    """A Zendesk API on loopback: checks token auth, rate-limits once, fails once, paginates comments."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.responses: list[int] = []
        self.fail_cursor: str | None = None
        self._throttled = False
        self._failed_comments = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeZendesk:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str, query: dict[str, str], auth: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        expected = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        if auth != expected:
            return 401, {"error": "Couldn't authenticate you"}, {}
        if path == "/api/v2/incremental/tickets/cursor.json":
            assert query.get("include") == "users,organizations"
            key = query.get("cursor") or ("start" if query.get("start_time") == "0" else "?")
            if key == "c1" and not self._throttled:
                self._throttled = True
                return 429, {"error": "APIRateLimitExceeded"}, {"Retry-After": "1"}
            if key == self.fail_cursor:
                return 503, {"error": "down"}, {}
            return 200, PAGES[key], {}
        if path == "/api/v2/tickets/1/comments.json":
            if query.get("page") == "2":
                return 200, {"comments": [_comment(13, 100, FOLLOW_UP)], "next_page": None}, {}
            first = [_comment(11, 100, CARD), _comment(12, 200, ANSWER)]
            return 200, {"comments": first, "users": [USERS[200]], "next_page": f"{self.url}{path}?page=2"}, {}
        if path == "/api/v2/tickets/2/comments.json":
            if not self._failed_comments:
                self._failed_comments = True
                return 500, {"error": "oops"}, {}
            return 200, {"comments": [_comment(21, 101, "How do I change my PIN?")], "next_page": None}, {}
        if path == "/api/v2/tickets/3/comments.json":
            comments = [_comment(31, 100, "where is it?"), _comment(32, 200, "Transfers take up to 5 working days.")]
            return 200, {"comments": comments, "users": [USERS[200]], "next_page": None}, {}
        return 404, {"error": "RecordNotFound"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append((parts.path, query))
                status, body, headers = fake.route(parts.path, query, self.headers.get("Authorization"))
                fake.responses.append(status)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler


@pytest.fixture()
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as server:
        yield server


def _runtime(tmp_path: Path, embedder: SentenceTransformerEmbedder, url: str, token: str = TOKEN) -> Runtime:
    return make_runtime(tmp_path / "data", embedder, zendesk_url=url, zendesk_email=EMAIL, zendesk_token=token)


def _questions(rt: Runtime) -> dict[str, Question]:
    with Session(rt.engine) as s:
        return {q.external_id: q for q in s.exec(select(Question)).all()}


def _incremental(server: FakeZendesk) -> list[dict[str, str]]:
    return [q for p, q in server.requests if p.endswith("/cursor.json")]


def test_sync_imports_every_ticket_once_and_resumes_from_the_stored_cursor(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, zendesk: FakeZendesk
) -> None:
    rt = _runtime(tmp_path, embedder, zendesk.url)
    sleeps: list[float] = []
    first = sync_zendesk(rt, sleep=sleeps.append)

    assert 429 in zendesk.responses and 500 in zendesk.responses
    assert sleeps == [1.0, 1.0], "one backoff for the 500, then Retry-After: 1 for the 429"
    assert (first.pages, first.ingest.added, first.ingest.updated, first.ingest.errors) == (3, 3, 1, [])
    assert first.cursor == "c3" and first.embedded == 3
    questions = _questions(rt)
    assert sorted(questions) == ["1", "2", "3"], "the deleted ticket 4 is not a question"
    card = questions["1"]
    assert card.text.startswith("Card declined abroad"), "the later page's edit updated the question"
    assert card.staff_answer == ANSWER, "an agent's comment (role from the comments' side-load) is the answer"
    assert card.follow_ups == [FOLLOW_UP], "the requester's later comment, from the second comments page"
    assert questions["3"].staff_answer and questions["2"].staff_answer is None
    with Session(rt.engine) as s:
        acme = s.exec(select(Account).where(Account.name == "Acme Corp")).one()
        assert s.get(SyncCursor, "zendesk").cursor == "c3"  # type: ignore[union-attr]
    assert card.account_id == acme.id == questions["3"].account_id
    assert rt.vectors.count("questions") == 3

    zendesk.requests.clear()
    again = sync_zendesk(rt, sleep=sleeps.append)
    assert _incremental(zendesk) == [{"cursor": "c3", "include": "users,organizations"}]
    assert (again.pages, again.ingest.added, again.ingest.updated) == (1, 0, 0)
    assert len(_questions(rt)) == 3


def test_a_failed_page_is_retried_on_the_next_run_not_skipped(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, zendesk: FakeZendesk
) -> None:
    rt = _runtime(tmp_path, embedder, zendesk.url)
    zendesk.fail_cursor = "c2"
    sleeps: list[float] = []
    with pytest.raises(ZendeskError, match=f"after {MAX_ATTEMPTS} attempts; last: 503"):
        sync_zendesk(rt, sleep=sleeps.append)
    assert sleeps[-(MAX_ATTEMPTS - 1) :] == [1.0, 2.0, 4.0, 8.0], "exponential backoff on 5xx, none after the last"
    with Session(rt.engine) as s:
        assert s.get(SyncCursor, "zendesk").cursor == "c2"  # type: ignore[union-attr]
    assert _questions(rt)["1"].text == CARD, "pages before the failure are committed with their cursor"

    zendesk.fail_cursor = None
    zendesk.requests.clear()
    resumed = sync_zendesk(rt, sleep=sleeps.append)
    assert _incremental(zendesk)[0]["cursor"] == "c2"
    assert (resumed.ingest.added, resumed.ingest.updated) == (0, 1)
    assert _questions(rt)["1"].text.startswith("Card declined abroad")


def test_bad_credentials_fail_clearly_and_store_nothing(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, zendesk: FakeZendesk
) -> None:
    rt = _runtime(tmp_path, embedder, zendesk.url, token="wrong")
    with pytest.raises(ZendeskError, match=r"401.*DOCGAP_ZENDESK_TOKEN"):
        sync_zendesk(rt, sleep=lambda _s: None)
    assert _questions(rt) == {}


def test_missing_settings_are_named(fresh_runtime: Runtime) -> None:
    with pytest.raises(ZendeskError, match="DOCGAP_ZENDESK_EMAIL"):
        sync_zendesk(fresh_runtime)


def test_long_retry_after_is_bounded() -> None:
    sleeps: list[float] = []
    calls = iter([httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200, json={"ok": True})])
    client = ZendeskClient(
        "https://x.zendesk.example", EMAIL, TOKEN, sleeps.append, httpx.MockTransport(lambda r: next(calls))
    )
    assert client.get("/api/v2/anything.json") == {"ok": True}
    assert sleeps == [60.0]


def test_cli_sync_reports_a_failure_in_one_line(tmp_path: Path, zendesk: FakeZendesk) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    env = {
        "DOCGAP_DATA_DIR": str(tmp_path / "data"),
        "DOCGAP_ZENDESK_URL": zendesk.url,
        "DOCGAP_ZENDESK_EMAIL": EMAIL,
        "DOCGAP_ZENDESK_TOKEN": "wrong",
    }
    result = CliRunner().invoke(app, ["sync", "zendesk"], env=env)
    assert result.exit_code == 1, result.output
    assert "401" in result.output and "Traceback" not in result.output
    assert CliRunner().invoke(app, ["sync", "jira"], env=env).exit_code == 1
