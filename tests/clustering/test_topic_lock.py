"""Topic changes take turns across processes, and no model is asked while a write transaction is open.

The holder is a real second process (`python -c`) on the same database: on the servers pass a PostgreSQL
advisory lock, on SQLite the file lock beside the database file.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from core.locks import TopicsBusy, exclusive
from core.models import Topic
from core.runtime import Runtime
from tests.conftest import LiveServer, copy_data, make_runtime
from tests.openai_server import FakeOpenAI
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.pipeline import analyse
from usecases.topics import change_topic, merge_topics

pytestmark = pytest.mark.backends

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from core.db import make_engine
from core.locks import exclusive
with exclusive(make_engine(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
print("released", flush=True)
"""


@contextmanager
def held_elsewhere(url: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the topic lock until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def _two_topics(rt: Runtime) -> tuple[int, int]:
    with Session(rt.engine) as s:
        ids = s.exec(select(Topic.id).where(col(Topic.active).is_(True)).order_by(col(Topic.size).desc())).all()
    return int(ids[2]), int(ids[3])


def test_a_writers_change_waits_for_another_process_then_is_refused_with_try_again(
    demo_copy: Runtime, tmp_path: Path
) -> None:
    rt = make_runtime(demo_copy.settings.data_dir, demo_copy.embedder, topic_wait_seconds=1)
    a, into = _two_topics(rt)
    key = create_key(rt, ["admin"], name="lock", rate_limit=100_000)
    with held_elsewhere(rt.settings.resolved_database_url):
        started = time.monotonic()
        with pytest.raises(TopicsBusy, match="Try again"):
            merge_topics(rt, OPERATOR, [a], into)
        assert time.monotonic() - started >= 0.9, "it waited for the holder before giving up"
        with pytest.raises(TopicsBusy):
            change_topic(rt, OPERATOR, a, "triaged", label="Renamed while a re-cluster runs")
        change_topic(rt, OPERATOR, a, "triaged")  # a status alone does not touch what a re-cluster writes
        with (
            LiveServer(rt) as server,
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key.secret}"}) as api,
        ):
            r = api.post(f"/v1/topics/{a}/merge", json={"into": into})
            assert r.status_code == 503 and r.headers["retry-after"] == "60"
            assert "being changed by another run" in r.json()["detail"]
    with Session(rt.engine) as s:
        source = s.get(Topic, a)
        assert source is not None and source.active and source.label != "Renamed while a re-cluster runs"
    merged = merge_topics(rt, OPERATOR, [a], into)  # the holder is gone: the same change goes through
    assert merged.id == into


def test_the_lock_excludes_threads_of_one_process_and_is_reentrant_in_one(demo_copy: Runtime) -> None:
    engine = demo_copy.engine
    with exclusive(engine), exclusive(engine, wait_s=0.1):  # nested in one thread: passes through
        import threading

        outcome: list[str] = []

        def other() -> None:
            try:
                with exclusive(engine, wait_s=0.5):
                    outcome.append("got it")
            except TopicsBusy:
                outcome.append("busy")

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert outcome == ["busy"]
    with exclusive(engine, wait_s=0.5):
        pass  # released once the outer block ended


def test_no_model_call_while_a_write_transaction_is_open(demo_runtime: Runtime, tmp_path: Path) -> None:
    """Every LLM call of a full re-cluster (titles) and the gap judge finds the database free to write to."""
    if not demo_runtime.settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock is what a slow model would hold; PostgreSQL has row locks")
    probes: list[bool] = []
    with FakeOpenAI() as server:
        rt = copy_data(demo_runtime.settings.data_dir, tmp_path / "data", demo_runtime.embedder,
                       llm_base_url=server.base_url)  # fmt: skip
        database = rt.settings.sqlite_path

        def probe(_messages: object) -> str:
            con = sqlite3.connect(database, timeout=0.2)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.rollback()
                probes.append(True)
            except sqlite3.OperationalError:
                probes.append(False)
            finally:
                con.close()
            return "How do I sort this out?"

        server.obey = probe
        with Session(rt.engine) as s:  # stale titles, so the re-cluster asks the model for each topic
            for t in s.exec(select(Topic)).all():
                t.label_basis = []
            s.commit()
        analyse(rt, full=True)
    assert len(probes) >= 20, "the model was asked for titles and coverage verdicts"
    assert all(probes), f"{probes.count(False)} of {len(probes)} model calls ran while the database was write-locked"
