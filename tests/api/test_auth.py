"""API keys, scopes, rate limits and `POST /v1/questions`, over real HTTP against a help-center-only instance."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from core.models import Question
from core.runtime import Runtime
from tests.commandline import docgap
from tests.conftest import NOW, LiveServer, copy_data, make_runtime
from usecases.apikeys import create_key, hash_key, revoke_key


class Clock:
    """The runtime's clock, moved by the test instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embedder, clock: Clock, helpcenter_data: Path) -> Runtime:  # type: ignore[no-untyped-def]
    rt = copy_data(helpcenter_data, tmp_path_factory.mktemp("auth") / "data", embedder)
    rt.clock = clock
    return rt


@pytest.fixture(scope="module")
def server(runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(runtime) as s:
        yield s


def bearer(runtime: Runtime, *scopes: str, rate_limit: int | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(runtime, list(scopes), rate_limit=rate_limit).secret}"}


def docgap_cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`docgap` in this process, through the console script's `main` (`tests.commandline`); it must exit 0."""
    return docgap(args, data_dir, env={"COLUMNS": "200"})


ASK = {"question": "How do I cancel a transfer I just sent?"}


def test_missing_or_unknown_key_is_401(server: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer dg_not-a-real-key"}, {"X-API-Key": "nope"}):
        r = httpx.post(f"{server.url}/v1/answers", json=ASK, headers=headers, timeout=30)
        assert r.status_code == 401, headers
        assert r.headers["WWW-Authenticate"] == "Bearer"
    assert httpx.get(f"{server.url}/v1/topics").status_code == 401
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_scopes(server: LiveServer, runtime: Runtime) -> None:
    read = bearer(runtime, "answers:read")
    assert httpx.post(f"{server.url}/v1/answers", json=ASK, headers=read, timeout=30).status_code == 200
    assert httpx.get(f"{server.url}/v1/topics", headers=read).status_code == 200
    denied = httpx.post(f"{server.url}/v1/questions", json={"text": "How do I reset my PIN?"}, headers=read)
    assert denied.status_code == 403 and "questions:write" in denied.json()["detail"]
    status = httpx.post(f"{server.url}/v1/topics/1/status", json={"status": "triaged"}, headers=read)
    assert status.status_code == 403 and "admin" in status.json()["detail"]
    secret = create_key(runtime, ["admin"]).secret
    assert httpx.get(f"{server.url}/v1/topics", headers={"X-API-Key": secret}).status_code == 200


def test_revoked_key_is_401(server: LiveServer, runtime: Runtime) -> None:
    key = create_key(runtime, ["answers:read"])
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert httpx.get(f"{server.url}/v1/topics", headers=headers).status_code == 200
    assert revoke_key(runtime, key.prefix).revoked_at is not None
    assert httpx.get(f"{server.url}/v1/topics", headers=headers).status_code == 401


def test_rate_limit_per_key(server: LiveServer, runtime: Runtime, clock: Clock) -> None:
    limited, other = bearer(runtime, "answers:read", rate_limit=3), bearer(runtime, "answers:read")
    assert [httpx.get(f"{server.url}/v1/topics", headers=limited).status_code for _ in range(3)] == [200] * 3
    over = httpx.get(f"{server.url}/v1/topics", headers=limited)
    assert over.status_code == 429 and 1 <= int(over.headers["Retry-After"]) <= 60
    assert httpx.get(f"{server.url}/v1/topics", headers=other).status_code == 200, "limits are per key"
    clock.advance(61)
    assert httpx.get(f"{server.url}/v1/topics", headers=limited).status_code == 200


def test_default_rate_limit_and_auth_off(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    limited = make_runtime(tmp_path / "a", embedder, api_rate_limit_per_minute=2)
    with LiveServer(limited) as s:
        headers = bearer(limited, "answers:read")
        codes = [httpx.get(f"{s.url}/v1/topics", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    open_rt = make_runtime(tmp_path / "b", embedder, api_auth=False)
    with LiveServer(open_rt) as s:
        assert httpx.get(f"{s.url}/v1/topics").status_code == 200


def test_keys_are_stored_hashed_and_never_listed(server: LiveServer, runtime: Runtime) -> None:
    key = create_key(runtime, ["answers:read"], name="listed")
    listing = docgap_cli(["keys", "list", "--json"], runtime.settings.data_dir).stdout
    assert key.prefix in listing and key.secret not in listing and hash_key(key.secret) not in listing
    table = docgap_cli(["keys", "list"], runtime.settings.data_dir).stdout
    assert "listed" in table and key.secret not in table
    found = _grep_database(runtime.settings.sqlite_path, [hash_key(key.secret), key.secret])
    assert found == [True, False], "the database holds the key's hash, never the key"


def _grep_database(db: Path, needles: list[str]) -> list[bool]:
    """Whether each string is in the SQLite file or its WAL, read by a child process.

    Not read here: closing any descriptor of a file drops this process's POSIX locks on it, and SQLite in another
    process would then think the server's connections gone and delete the WAL under them.
    """
    code = (
        "import sys, pathlib; db = pathlib.Path(sys.argv[1]);"
        "data = b''.join(p.read_bytes() for p in db.parent.glob(db.name + '*'));"
        "print(' '.join(str(n.encode() in data) for n in sys.argv[2:]))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(db), *needles], capture_output=True, text=True, check=True)
    return [word == "True" for word in proc.stdout.split()]


def test_cli_creates_a_working_key(server: LiveServer, runtime: Runtime) -> None:
    proc = docgap_cli(["keys", "create", "--scope", "answers:read", "--name", "cli"], runtime.settings.data_dir)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dg_") and len(lines[0]) == 35
    assert "shown again" in proc.stderr
    headers = {"Authorization": f"Bearer {lines[0]}"}
    assert httpx.get(f"{server.url}/v1/topics", headers=headers).status_code == 200
    assert httpx.post(f"{server.url}/v1/questions", json={"text": "PIN?"}, headers=headers).status_code == 403


def test_post_question_stores_redacted_and_suggests_an_answer(server: LiveServer, runtime: Runtime) -> None:
    headers = bearer(runtime, "questions:write")
    payload = {
        "text": "Hi, I want to cancel a transfer I just sent from card 4111 1111 1111 1111. How do I cancel it?",
        "account": "Acme Ltd",
    }
    r = httpx.post(f"{server.url}/v1/questions", json=payload, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "added" and body["stored"] is True and body["question_id"]
    answer = body["suggested_answer"]
    assert answer["citations"] and answer["citations"][0]["url"].startswith("transfers/")
    with Session(runtime.engine) as session:
        q = session.exec(select(Question).where(Question.id == body["question_id"])).one()
    assert "[CARD]" in q.text and "4111" not in q.text and q.source == "api" and q.created_at == runtime.clock()
    assert q.account_id is not None and q.embedded
    again = httpx.post(f"{server.url}/v1/questions", json=payload, headers=headers, timeout=30).json()
    assert again["status"] == "unchanged" and again["question_id"] == body["question_id"]
    assert again["external_id"] == body["external_id"]


def test_post_question_idempotent_by_external_id_stores_every_request_and_skips_only_machines(
    server: LiveServer, runtime: Runtime
) -> None:
    headers = bearer(runtime, "admin")
    first = {"text": "How long does a new card take to arrive?", "external_id": "zd-1", "source": "zendesk-trigger"}
    a = httpx.post(f"{server.url}/v1/questions", json=first, headers=headers, timeout=30).json()
    edited = {**first, "text": "How long does a new card take to arrive in Germany?"}
    b = httpx.post(f"{server.url}/v1/questions", json=edited, headers=headers, timeout=30).json()
    assert (a["status"], b["status"]) == ("added", "updated") and a["question_id"] == b["question_id"]
    for text in ("alarm settings", "turn down volume", "thanks!"):  # a pushed ticket is a request, whatever it says
        r = httpx.post(f"{server.url}/v1/questions", json={"text": text}, headers=headers, timeout=30).json()
        assert (r["status"], r["stored"], r["skip_reason"]) == ("added", True, None), text
    auto = {"text": "Automatic reply: I am out of the office until 3 March with no access to email."}
    r = httpx.post(f"{server.url}/v1/questions", json=auto, headers=headers, timeout=30).json()
    assert (r["status"], r["stored"], r["question_id"], r["skip_reason"]) == ("skipped", False, None, "auto-reply")
    assert r["suggested_answer"]["answer"], "a skipped message still gets an answer"
    bad = httpx.post(f"{server.url}/v1/questions", json={"text": "   "}, headers=headers)
    assert bad.status_code == 422
