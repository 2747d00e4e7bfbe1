"""Shared fixtures: the real embedding model (loaded once), the demo data set analysed once, a live HTTP server
and a local OpenAI-compatible server.

Everything is real: SQLite files, embedded Chroma, the packaged MiniLM model, HTTP over loopback. Only the LLM
is a stand-in, and it is a real HTTP server speaking the chat-completions protocol.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.embedding import SentenceTransformerEmbedder
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import VectorStore
from server.background import BackgroundServer, free_port  # noqa: F401  (free_port is re-exported for tests)
from tests.openai_server import FakeOpenAI
from tests.servers import ChromaServer, PostgresCluster, server_binaries

DEMO_END = date(2026, 11, 23)


TEST_VARIABLES = ("DOCGAP_SCREENSHOTS", "DOCGAP_TEST_STACK")
"""The tests' own variables: where the browser tests save page screenshots, and which stores the pass runs on."""


@dataclass
class _Servers:
    """The servers pass (`DOCGAP_TEST_STACK=servers`): one PostgreSQL cluster and one Chroma server for the session.

    Every data dir a test makes stands for one instance, as it does with SQLite and embedded Chroma: it gets a
    PostgreSQL database and a Chroma database of the same name (`instance0`, `instance1`, ...), and a copy of a
    data dir copies both (`CREATE DATABASE ... TEMPLATE`, once the pools over it are closed; the collections dumped
    and loaded).
    """

    postgres: PostgresCluster
    chroma: ChromaServer
    names: dict[Path, str] = field(default_factory=dict)
    runtimes: dict[Path, list[Runtime]] = field(default_factory=dict)

    def settings_for(self, data_dir: Path, template: Path | None = None) -> dict[str, str]:
        """The data dir's store settings, its databases made on first use (copies of `template`'s when given)."""
        key = data_dir.resolve()
        if key not in self.names:
            self.names[key] = name = f"instance{len(self.names)}"
            source_key = template.resolve() if template is not None else None
            source = self.names.get(source_key) if source_key is not None else None
            if source is None:
                self.postgres.create(name)
            else:
                for rt in self.runtimes.get(source_key, []):  # type: ignore[arg-type]
                    if "engine" in rt.__dict__:
                        rt.engine.dispose()
                self.postgres.create(name, template=source)
                src, dst = VectorStore.open(self._chroma(source), key), VectorStore.open(self._chroma(name), key)
                for collection in src.collection_names():
                    dst.load(src.dump(collection))
        name = self.names[key]
        return {"database_url": self.postgres.url(name), "chroma_url": self._chroma(name)}

    def _chroma(self, name: str) -> str:
        return f"{self.chroma.url}/{name}"


SERVERS: _Servers | None = None
"""Set on the servers pass; None on the default pass (SQLite and embedded Chroma in each data dir)."""


def pytest_configure(config: pytest.Config) -> None:
    """Tests build their own settings: a developer's DOCGAP_* variables must not leak in.

    With `DOCGAP_TEST_STACK=servers` (the second pass of `make test`, over the tests marked `backends`) a private
    PostgreSQL cluster and a Chroma server are started for the session (see `_Servers`).
    """
    global SERVERS
    for key in [k for k in os.environ if k.startswith("DOCGAP_") and k not in TEST_VARIABLES]:
        del os.environ[key]
    stack = os.environ.get("DOCGAP_TEST_STACK", "embedded")
    if stack not in ("embedded", "servers"):
        raise pytest.UsageError(f"DOCGAP_TEST_STACK must be embedded or servers, not {stack!r}")
    if stack == "servers":
        bin_dir = server_binaries()
        if bin_dir is None or ChromaServer.command() is None:
            raise pytest.UsageError("DOCGAP_TEST_STACK=servers needs the PostgreSQL server binaries and `chroma`")
        postgres = PostgresCluster(bin_dir).__enter__()
        chroma = ChromaServer(postgres.root / "chroma-data")
        chroma.__enter__()
        SERVERS = _Servers(postgres, chroma)


def pytest_unconfigure(config: pytest.Config) -> None:
    if SERVERS is not None:
        SERVERS.chroma.__exit__()
        SERVERS.postgres.__exit__()


NOW = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    e = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    e.embed(["warm up"])
    return e


def make_runtime(data_dir: Path, embedder: SentenceTransformerEmbedder, **settings: object) -> Runtime:
    """A runtime over `data_dir`; on the servers pass its stores are the data dir's own databases on the servers."""
    if SERVERS is not None and "database_url" not in settings:
        settings = SERVERS.settings_for(data_dir) | settings
    s = Settings(data_dir=data_dir, _env_file=None, **settings)  # type: ignore[call-arg]
    rt = Runtime(s, clock=lambda: NOW, embedder_override=embedder)
    if SERVERS is not None:
        SERVERS.runtimes.setdefault(data_dir.resolve(), []).append(rt)
    return rt


@pytest.fixture()
def fresh_runtime(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Runtime:
    return make_runtime(tmp_path / "data", embedder)


def copy_data(data_dir: Path, target: Path, embedder: SentenceTransformerEmbedder, **settings: object) -> Runtime:
    """A runtime over a private copy of `data_dir` (SQLite and Chroma files), for tests that change what they get.

    On the servers pass the data dir's databases are copied (see `_Servers`).
    """
    import shutil

    shutil.copytree(data_dir, target)
    if SERVERS is not None and "database_url" not in settings:
        settings = SERVERS.settings_for(target, template=data_dir) | settings
    return make_runtime(target, embedder, **settings)


@pytest.fixture(scope="session")
def helpcenter_data(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """A data dir holding only the demo's help center, indexed once as source `helpcenter` (never changed: tests
    take a `copy_data` of it): where `demo_runtime` starts, and the help-center-only instances of the login and
    API-key tests."""
    from demo import HELPCENTER_DIR
    from usecases.pipeline import import_docs

    rt = make_runtime(tmp_path_factory.mktemp("helpcenter") / "data", embedder)
    assert import_docs(rt, HELPCENTER_DIR, "helpcenter").ok
    rt.engine.dispose()
    return rt.settings.data_dir


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.build import build

    out = tmp_path_factory.mktemp("demo-sources")
    build(out, DEMO_END)
    return out


@pytest.fixture(scope="session")
def demo_runtime(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceTransformerEmbedder,
    demo_sources: Path,
    helpcenter_data: Path,
) -> Runtime:
    """The whole pipeline on the demo, once per session (1.5–3.5 min on two cores).

    It starts from a copy of `helpcenter_data` (the same `import_docs(rt, HELPCENTER_DIR, "helpcenter")`, made once
    for the session), as `docgap ingest docs` then the other imports would leave it.
    """
    from demo.build import STAFF_DOMAIN
    from ingest.slack import read_slack_export
    from ingest.zendesk import read_zendesk
    from reports.weekly import build_weekly_report, save_report
    from usecases.pipeline import analyse, import_accounts, import_questions

    target = tmp_path_factory.mktemp("demo") / "data"
    rt = copy_data(helpcenter_data, target, embedder, staff_domains=STAFF_DOMAIN)
    staff = rt.settings.staff_domain_list
    import_accounts(rt, demo_sources / "accounts.csv")
    tickets = demo_sources / "zendesk" / "tickets.json"
    assert import_questions(rt, read_zendesk(tickets, staff, team_field="department")).ok  # as `docgap demo` does
    assert import_questions(rt, read_slack_export(demo_sources / "slack" / "fernpay-slack-export.zip", staff)).ok
    analyse(rt)
    save_report(rt, build_weekly_report(rt))
    return rt


@pytest.fixture()
def demo_copy(demo_runtime: Runtime, tmp_path: Path) -> Runtime:
    """A private copy of the analysed demo, for tests that change it (record turns, merge topics, re-judge)."""
    return copy_data(demo_runtime.settings.data_dir, tmp_path / "data", demo_runtime.embedder)


LiveServer = BackgroundServer
"""The real app under uvicorn on a loopback port, in a background thread (tests import it under this name)."""


@pytest.fixture(scope="session")
def live_server(demo_runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(demo_runtime) as server:
        yield server


@pytest.fixture(scope="module")
def module_demo(
    demo_runtime: Runtime,
    web_users: dict[str, tuple[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Runtime]:
    """A private copy of the analysed demo (with the `web_users`) shared by one test module's tests.

    For modules whose tests change the data and may see each other's changes (the authz matrix merges and splits
    topics, the flag list records checks), where a `demo_copy` per test would copy the demo hundreds of times.
    """
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    rt = copy_data(demo_runtime.settings.data_dir, folder / "data", demo_runtime.embedder)
    yield rt
    rt.engine.dispose()


@pytest.fixture(scope="module")
def module_server(module_demo: Runtime) -> Iterator[LiveServer]:
    """The real app serving `module_demo` for the module's HTTP and browser tests."""
    with LiveServer(module_demo) as server:
        yield server


@pytest.fixture(scope="session")
def api_headers(demo_runtime: Runtime) -> dict[str, str]:
    """Headers with an admin API key for the demo's `/v1` API (limit high enough for the whole session)."""
    from usecases.apikeys import create_key

    key = create_key(demo_runtime, ["admin"], name="tests", rate_limit=1_000_000)
    return {"Authorization": f"Bearer {key.secret}"}


@pytest.fixture()
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


WEB_USERS = {
    "account_manager": ("ada-am", "ada-password-0001"),
    "docs_writer": ("wes-writer", "wes-password-0002"),
    "admin": ("ali-admin", "ali-password-0003"),
}
"""One user per role (name, password), created in the demo by the `web_users` fixture."""


@pytest.fixture(scope="session")
def web_users(demo_runtime: Runtime) -> dict[str, tuple[str, str]]:
    from usecases.permissions import OPERATOR
    from usecases.users import create_user, list_users

    have = {u.name for u in list_users(demo_runtime, OPERATOR)}
    for role, (name, password) in WEB_USERS.items():
        if name not in have:
            create_user(demo_runtime, OPERATOR, name, role, password)
    return WEB_USERS


def form_token(html: str) -> str:
    """The `csrf_token` hidden field of the first form on a page."""
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


@contextmanager
def logged_in(base_url: str, name: str, password: str) -> Iterator[tuple[httpx.Client, str]]:
    """`with logged_in(url, name, password) as (client, csrf):` a client that logged in through the real form, and
    its session's CSRF token (read off a page)."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        token = form_token(client.get("/login").text)
        r = client.post("/login", data={"username": name, "password": password, "csrf_token": token, "next": "/"})
        assert r.status_code == 303, (r.status_code, r.text[:300])
        yield client, form_token(client.get("/chat").text)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium (no browser download), one for the whole session: the page tests and the briefs' share it
    (a second `sync_playwright` in the same process fails while the first is open)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
