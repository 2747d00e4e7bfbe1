"""Rate limits hold across server processes: two `docgap serve` processes on one SQLite file spend one budget.

Each process used to count in its own memory, so two workers allowed twice the limit. Here two real servers share
a data dir; concurrent requests alternate between them, and the number let through, summed over both, must equal
the limit exactly: for an API key's per-minute budget and for failed logins per user name. Then the counting
statement itself is checked under threads racing on one bucket, on SQLite and on PostgreSQL (a private cluster,
skipped where the server binaries are absent), with its window and `Retry-After` on a moved clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from core import ratelimit
from core.runtime import Runtime
from core.settings import Settings
from server.background import free_port
from tests.conftest import form_token
from tests.servers import postgres  # noqa: F401  (a private PostgreSQL cluster; skips without one)
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.users import LOGIN_ATTEMPTS, create_user

DOCGAP = Path(sys.executable).parent / "docgap"
LIMIT = 12
PASSWORD = "kim-password-0042-shared"


@pytest.fixture()
def two_servers(tmp_path: Path) -> Iterator[tuple[Runtime, list[str]]]:
    data = tmp_path / "data"
    rt = Runtime(Settings(data_dir=data, _env_file=None))  # type: ignore[call-arg]
    rt.engine  # noqa: B018  (the tables exist before two processes race to create them)
    env = {**os.environ, "DOCGAP_DATA_DIR": str(data), "DOCGAP_TOPICS_INTERVAL_MINUTES": "0",
           "DOCGAP_SYNC_INTERVAL_MINUTES": "0"}  # fmt: skip
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"serve-{p}.log").open("w") for p in ports]
    procs = [subprocess.Popen([str(DOCGAP), "serve", "--port", str(p)], env=env, stdout=log, stderr=subprocess.STDOUT)
             for p, log in zip(ports, logs, strict=True)]  # fmt: skip
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.monotonic() + 180
        for url, proc in zip(urls, procs, strict=True):
            while True:
                assert proc.poll() is None, (tmp_path / f"serve-{url.rsplit(':', 1)[1]}.log").read_text()[-3000:]
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "a server did not start in 180 s"
                time.sleep(0.3)
        yield rt, urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


def test_two_server_processes_share_one_key_budget_and_one_login_limit(two_servers: tuple[Runtime, list[str]]) -> None:
    rt, urls = two_servers
    key = create_key(rt, ["answers:read"], name="shared", rate_limit=LIMIT).secret

    def topics(i: int) -> tuple[int, int]:
        r = httpx.get(f"{urls[i % 2]}/v1/topics", headers={"Authorization": f"Bearer {key}"}, timeout=60)
        return i % 2, r.status_code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(topics, range(3 * LIMIT)))
    allowed = [server for server, code in results if code == 200]
    assert len(allowed) == LIMIT, f"{len(allowed)} requests let through by two processes, limit {LIMIT}: {results}"
    assert sorted({c for _, c in results}) == [200, 429]
    assert set(allowed) == {0, 1}, "both processes served some of the budget"

    create_user(rt, OPERATOR, "kim", "admin", PASSWORD)
    with httpx.Client(timeout=60) as client:
        page = client.get(f"{urls[0]}/login")
        token, cookie = form_token(page.text), page.headers["set-cookie"].split(";")[0]

    def attempt(i: int, password: str = "not the password") -> int:
        r = httpx.post(f"{urls[i % 2]}/login", headers={"Cookie": cookie}, timeout=60,
                       data={"username": "kim", "password": password, "csrf_token": token})  # fmt: skip
        return r.status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(attempt, range(3 * LOGIN_ATTEMPTS)))
    assert codes.count(401) == LOGIN_ATTEMPTS and codes.count(429) == 2 * LOGIN_ATTEMPTS, codes
    assert [attempt(0, PASSWORD), attempt(1, PASSWORD)] == [429, 429], "the right password waits too, on both"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_counting_is_atomic_under_racing_threads_and_the_window_resets(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres").format(db="a") if database == "postgresql" else ""
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=url, _env_file=None))  # type: ignore[call-arg]
    now = datetime(2026, 11, 24, 9, 0)
    name = ratelimit.bucket("test", "racing")
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda _: ratelimit.hit(rt.engine, name, 50, 60, now), range(120)))
    assert waits.count(0) == 50 and all(w == 60 for w in waits if w)
    later = now + timedelta(seconds=45)
    assert ratelimit.hit(rt.engine, name, 50, 60, later) == 15, "Retry-After counts down to the window's end"
    assert ratelimit.hit(rt.engine, name, 50, 60, now + timedelta(seconds=60)) == 0, "a new window opens"
    assert ratelimit.hit(rt.engine, ratelimit.bucket("test", "other"), 1, 60, now) == 0, "buckets are separate"
    assert ratelimit.hit(rt.engine, name, 0, 60, now) == 0, "0 = unlimited"
    with rt.engine.connect() as conn:
        stored = [r[0] for r in conn.exec_driver_sql("SELECT bucket FROM ratewindow")]
    assert stored and not any("racing" in b or "other" in b for b in stored), "bucket names are digests"
