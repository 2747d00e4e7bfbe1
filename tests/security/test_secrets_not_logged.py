"""No secret is ever logged or printed: API keys, passwords, tokens and webhook URLs, through every path that logs.

Every secret setting docgap has is configured with a distinct value (the LLM key, the Slack signing secret and
webhook URL, the SMTP password, the GitHub/Jira/Linear/Asana tokens, the Zendesk token, a database password in a
URL), plus the secrets it issues or checks (API keys, a user's password, the session cookie). Then real work goes
through the paths that log, against the local servers that speak each protocol: API calls with the key in
`Authorization` and `X-API-Key`, refused keys, a rate-limited key, logins, an answer and a chat turn through the
local OpenAI-protocol server, a signed Slack event, tracker exports to all four trackers (one refused), the weekly
report to Slack and SMTP, a Zendesk sync, an LLM that refuses the key, and commands with DEBUG logging, one of
which cannot reach its PostgreSQL. Every log record of every logger at DEBUG (ours, uvicorn's, httpx's,
httpcore's, openai's, SQLAlchemy's) and everything printed is searched for each value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app
from core.embedding import SentenceTransformerEmbedder
from core.models import DocTicket, Topic
from core.settings import Settings
from tests.conftest import NOW, LiveServer, form_token, make_runtime
from tests.delivery.servers import SlackWebhook, SmtpServer
from tests.ingest.test_zendesk_api import EMAIL as ZENDESK_EMAIL
from tests.ingest.test_zendesk_api import TOKEN as ZENDESK_TOKEN
from tests.ingest.test_zendesk_api import FakeZendesk
from tests.logcapture import LogCapture, capturing
from tests.openai_server import FakeOpenAI
from tests.tickets.servers import FakeAsana, FakeGitHub, FakeJira, FakeLinear
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.users import create_user

LLM_KEY = "sk-llm-Wq3ZfT8pK2vN6rY9bD4hJ7mC"
SIGNING_SECRET = "8c1f0e9d2b7a4c6e5f3a1b0d9e8c7f6a"
SMTP_PASSWORD = "smtp-Quartz-Plover-7731"
GITHUB_TOKEN = "ghp_R2d2C3poBb8LukeLeiaHanYoda4242xyz"
JIRA_TOKEN = "ATATT3xFfGF0-jira-Kestrel-Umber-5519"
LINEAR_TOKEN = "lin_api_Heron9Sable3Tundra7Willow1"
ASANA_TOKEN = "2/1209000000000777/1209000000000888:asanaMarlinOchre62"
DB_PASSWORD = "pg-Larkspur-4410-Gannet"
USER_PASSWORD = "kim-password-Fjord-0042"
CHANNEL = "C0SECRET1"
NOW_TS = int(NOW.replace(tzinfo=UTC).timestamp())
DOCGAP = Path(sys.executable).parent / "docgap"

LOGGERS = {"": logging.DEBUG, "uvicorn": logging.DEBUG, "uvicorn.error": logging.DEBUG, "uvicorn.access": logging.DEBUG,
           "httpx": logging.DEBUG, "httpcore": logging.DEBUG, "openai": logging.DEBUG, "multipart": logging.DEBUG,
           "sqlalchemy": logging.INFO}  # fmt: skip
"""The root logger (every library's records reach it) and uvicorn's, which do not propagate. SQLAlchemy at INFO
logs every statement with its parameters (every value written); at DEBUG it adds every row read, which makes the
test minutes longer and shows nothing a statement did not."""


@pytest.fixture()
def all_logs() -> Iterator[LogCapture]:
    with capturing(LOGGERS) as handler:
        yield handler


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _forms(value: str) -> set[bytes]:
    """A secret as a log could hold it: as is, URL-encoded, base64 inside a Basic header, UTF-16."""
    forms = {value.encode(), value.encode("utf-16-le"), httpx.URL("http://x/", params={"v": value}).query[2:]}
    return {f for f in forms if f}


def _leaks(blob: bytes, secrets: dict[str, str]) -> set[str]:
    return {name for name, value in secrets.items() for form in _forms(value) if form in blob}


def _signed(body: bytes) -> dict[str, str]:
    sig = "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{NOW_TS}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(NOW_TS), "X-Slack-Signature": sig, "Content-Type": "application/json"}


def _ticket(rt: Any) -> None:
    with Session(rt.engine) as s:
        topic = Topic(label="How do I get a card out of a cash machine?", gap_kind="missing", size=12)
        s.add(topic)
        s.flush()
        s.add(DocTicket(
            topic_id=topic.id or 0, title="Document: How do I get a card out of a cash machine?",
            problem="Customers asked 12 questions about it; nothing in the docs answers it.",
            evidence={"volume": 12, "examples": ["My card got stuck in the cash machine"], "pages": []},
            outline=["Call the bank that owns the machine first."], outline_mode="offline",
            target_page="cash/card-kept.md", target_title="When a cash machine keeps your card", target_is_new=True,
            created_at=NOW, updated_at=NOW, created_by="test",
        ))  # fmt: skip
        s.commit()


def test_no_secret_is_logged_or_printed(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, all_logs: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:
    from demo import HELPCENTER_DIR
    from usecases.pipeline import import_docs

    docs = tmp_path / "docs"  # two pages of the demo's help center: enough to answer from, quick to index
    docs.mkdir()
    for page in ("transfers/cancelling-a-transfer.md", "transfers/pending-transfers.md"):
        shutil.copy(HELPCENTER_DIR / page, docs / Path(page).name)

    printed: list[str] = []
    with (
        FakeOpenAI() as llm, SlackWebhook() as hook, FakeZendesk() as zendesk,
        FakeGitHub(token=GITHUB_TOKEN) as github, FakeJira(token=JIRA_TOKEN) as jira,
        FakeLinear(token=LINEAR_TOKEN) as linear, FakeAsana(token=ASANA_TOKEN) as asana,
        SmtpServer(users={"reports": SMTP_PASSWORD}, auth_require_tls=False) as smtp,
    ):  # fmt: skip
        settings: dict[str, Any] = {
            "llm_base_url": llm.base_url, "llm_api_key": LLM_KEY,
            "slack_signing_secret": SIGNING_SECRET, "slack_webhook_url": hook.url,
            "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_user": "reports", "smtp_password": SMTP_PASSWORD,
            "smtp_from": "docgap@fernpay.example", "report_recipients": "team@fernpay.example",
            "github_api_url": github.url, "github_repo": github.repo, "github_token": GITHUB_TOKEN,
            "jira_url": jira.url, "jira_email": jira.email, "jira_token": JIRA_TOKEN, "jira_project": jira.project,
            "linear_api_url": f"{linear.url}/graphql", "linear_token": LINEAR_TOKEN, "linear_team_id": linear.team,
            "asana_api_url": f"{asana.url}/api/1.0", "asana_token": ASANA_TOKEN, "asana_project": asana.project,
            "zendesk_url": zendesk.url, "zendesk_email": ZENDESK_EMAIL, "zendesk_token": ZENDESK_TOKEN,
        }  # fmt: skip
        data = tmp_path / "data"
        rt = make_runtime(data, embedder, **settings)
        assert import_docs(rt, docs, "helpcenter").ok
        _ticket(rt)
        create_user(rt, OPERATOR, "kim", "admin", USER_PASSWORD)
        key = create_key(rt, ["admin"], name="probe").secret
        limited = create_key(rt, ["answers:read"], name="limited", rate_limit=1).secret
        reader = create_key(rt, ["answers:read"], name="reader").secret
        wrong = "dg_" + "Zx9" * 10 + "Qq"
        secrets = {
            "llm_api_key": LLM_KEY, "slack_signing_secret": SIGNING_SECRET, "slack_webhook_url": hook.url,
            "slack webhook path": httpx.URL(hook.url).path, "smtp_password": SMTP_PASSWORD,
            "github_token": GITHUB_TOKEN, "jira_token": JIRA_TOKEN, "linear_token": LINEAR_TOKEN,
            "asana_token": ASANA_TOKEN, "zendesk_token": ZENDESK_TOKEN, "database password": DB_PASSWORD,
            "jira basic auth": base64.b64encode(f"{jira.email}:{JIRA_TOKEN}".encode()).decode(),
            "zendesk basic auth": base64.b64encode(f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode(),
            "admin api key": key, "limited api key": limited, "reader api key": reader, "wrong api key": wrong,
            "user password": USER_PASSWORD,
        }  # fmt: skip

        with LiveServer(rt) as server:
            all_logs.attach()
            base = server.url
            bearer = {"Authorization": f"Bearer {key}"}
            asked = httpx.post(f"{base}/v1/answers", json={"question": "How do I cancel a transfer?"},
                               headers=bearer, timeout=60)  # fmt: skip
            assert asked.status_code == 200 and asked.json()["mode"] == "llm", asked.text
            assert httpx.get(f"{base}/v1/topics", headers={"X-API-Key": key}).status_code == 200
            assert httpx.get(f"{base}/v1/topics", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
            assert httpx.get(f"{base}/v1/topics", headers={"X-API-Key": wrong}).status_code == 401
            # a client that puts its key in the URL: the access log holds the path, masked
            assert httpx.get(f"{base}/v1/topics", params={"api_key": key}).status_code == 401
            assert httpx.post(f"{base}/v1/questions", json={"text": "Why?"},
                              headers={"X-API-Key": reader}).status_code == 403  # fmt: skip
            codes = [httpx.get(f"{base}/v1/topics", headers={"X-API-Key": limited}).status_code for _ in range(2)]
            assert codes == [200, 429]
            with httpx.Client(base_url=base, timeout=60) as client:
                for password in ("not the password", USER_PASSWORD):
                    token = form_token(client.get("/login").text)
                    r = client.post("/login", data={"username": "kim", "password": password, "csrf_token": token})
                    assert r.status_code == (303 if password == USER_PASSWORD else 401)
                cookie = client.cookies["docgap_session"]
                secrets["session cookie"] = cookie
                csrf = form_token(client.get("/chat").text)
                assert client.post("/chat", data={"question": "How do I cancel a transfer?",
                                                  "csrf_token": csrf}).status_code == 200  # fmt: skip
            body = json.dumps({"type": "event_callback", "team_id": "T0", "event_id": "EvSecret1", "event_time": NOW_TS,
                               "event": {"type": "message", "channel": CHANNEL, "channel_type": "channel",
                                         "user": "UJANE", "ts": f"{NOW_TS - 60}.000100",
                                         "text": "How do I cancel a transfer?"}}).encode()  # fmt: skip
            assert httpx.post(f"{base}/webhooks/slack/events", content=body, headers=_signed(body),
                              timeout=60).status_code == 200  # fmt: skip
            bad = _signed(body) | {"X-Slack-Signature": "v0=" + "0" * 64}
            assert httpx.post(f"{base}/webhooks/slack/events", content=body, headers=bad,
                              timeout=60).status_code == 401  # fmt: skip
        assert llm.requests and llm.requests[0]["headers"]["authorization"] == f"Bearer {LLM_KEY}"

        env = {f"DOCGAP_{k.upper()}": str(v) for k, v in settings.items()}
        env |= {"DOCGAP_DATA_DIR": str(data), "DOCGAP_LOG_LEVEL": "DEBUG"}
        runner = CliRunner()

        def docgap(*args: str, code: int | tuple[int, ...] = 0, **extra: str) -> str:
            result = runner.invoke(app, list(args), env=env | extra)
            output = result.output + (result.stderr if result.stderr_bytes is not None else "")
            assert result.exit_code in ((code,) if isinstance(code, int) else code), (args, output)
            printed.append(output)
            return output

        for tracker in ("github", "jira", "linear", "asana"):
            docgap("tickets", "export", "--to", tracker)
        docgap("tickets", "export", "--to", "github", code=(1, 2), DOCGAP_GITHUB_TOKEN=GITHUB_TOKEN + "x")
        docgap("report", "weekly", "--deliver")
        assert hook.accepted and smtp.received and smtp.received[0].auth == "reports"
        docgap("sync", "zendesk")
        docgap("keys", "list")
        docgap("ask", "How do I cancel a transfer?")
        docgap("ask", "How do I cancel a transfer?", DOCGAP_LLM_BASE_URL=f"http://127.0.0.1:{_closed_port()}/v1")
        pg = f"postgresql+psycopg://docgap:{DB_PASSWORD}@127.0.0.1:{_closed_port()}/docgap"
        docgap("keys", "list", code=1, DOCGAP_DATABASE_URL=pg)
        # Real processes: the command's own logging to stderr at DEBUG, and a crash's traceback as Typer prints it.
        for args, extra, code in [(["ask", "How do I cancel a transfer?"], {}, 0),
                                  (["keys", "list"], {"DOCGAP_DATABASE_URL": pg}, 1)]:  # fmt: skip
            done = subprocess.run([str(DOCGAP), *args], env={**os.environ, **env, **extra}, capture_output=True,
                                  text=True, timeout=300, check=False)  # fmt: skip
            assert done.returncode == code, (args, done.stdout[-2000:], done.stderr[-2000:])
            printed.append(done.stdout + done.stderr)
        assert re.search(r"DEBUG (openai|httpcore)", printed[-2]), "the command logged at DEBUG to stderr"
        assert "OperationalError" in printed[-1], "the database failure was printed"
        reprs = repr(Settings(_env_file=None, database_url=pg, **settings))  # type: ignore[call-arg]
        reprs += repr(rt)

    out, err = capfd.readouterr()
    logged = all_logs.text.getvalue()
    assert "uvicorn.access" in logged and "openai" in logged and "httpx" in logged, "the libraries' logs were captured"
    assert "GET /v1/topics?api_key=dg_*** HTTP/1.1" in out + err, "the access log still formats, key masked"
    found = {
        "logging": _leaks(logged.encode(), secrets),
        "command output": _leaks("".join(printed).encode(), secrets),
        "stdout/stderr": _leaks((out + err).encode(), secrets),
        "repr(Settings)": _leaks(reprs.encode(), secrets),
    }
    (tmp_path / "logged.txt").write_text(logged + "\n=====\n" + "".join(printed) + out + err + reprs)
    assert not any(found.values()), f"secrets logged or printed: {found} (see {tmp_path / 'logged.txt'})"


def test_masking_keeps_ordinary_text_and_hides_credential_shapes() -> None:
    from core.logs import mask

    prose = ("Use basic authentication with the session cookie; the Zendesk token required is under Admin, "
             "Bearer tokens go in the header. GET /v1/topics?limit=10 took 12 ms for dg_short")  # fmt: skip
    assert mask(prose) == prose
    key = "dg_" + "A1b2" * 8
    shapes = {
        f"Authorization: Bearer {key}": "Authorization: ***",
        "[(b'authorization', b'Basic dXNlcjpwYXNz'), (b'set-cookie', b'docgap_session=abc; HttpOnly')]":
            "[(b'authorization', b'***'), (b'set-cookie', b'***')]",
        "{'X-API-Key': 'anything'}": "{'X-API-Key': '***'}",
        f"GET /v1/topics?api_key={key}": "GET /v1/topics?api_key=dg_***",
        "connect postgresql+psycopg://docgap:hunter2hunter2@db:5432/docgap": "connect postgresql+psycopg://docgap:***@db:5432/docgap",
        "token: Bearer abcdefghijkl0123": "token: Bearer ***",
    }  # fmt: skip
    for raw, masked in shapes.items():
        assert mask(raw) == masked, raw


def test_a_configured_secret_is_masked_by_name_in_any_record(caplog: pytest.LogCaptureFixture) -> None:
    value = "https://hooks.slack.com/services/T0AB/B0CD/xYz0123456789abcdefGHIJ"
    settings = Settings(_env_file=None, slack_webhook_url=value, smtp_password="abc")  # type: ignore[call-arg]
    assert value not in repr(settings) and "smtp_password" not in repr(settings)
    with caplog.at_level(logging.DEBUG, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 500"', value)
        try:
            raise RuntimeError(f"Server error for url {value!r}")
        except RuntimeError:
            logging.getLogger("httpx").exception("failed")
    text = caplog.text
    assert "POST [DOCGAP_SLACK_WEBHOOK_URL]" in text and value not in text, text
    assert "Server error for url '[DOCGAP_SLACK_WEBHOOK_URL]'" in text, "a traceback's message is masked too"
