"""Creating a topic's doc ticket from several requests at once writes one ticket, on real SQLite and PostgreSQL.

Threads (as the server's thread pool runs requests) and separate processes (as several workers or a command line
beside the server would) are released together by a barrier and call `usecases.tickets.create_ticket` for the same
topic: each gets the same ticket back, exactly one of them as new. The database holds it (a partial unique index,
one live ticket per topic), so this stands however the calls interleave; the index is checked on its own too, and
is added to a data dir made before it existed.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from core.db import make_engine
from core.models import DocTicket, Topic
from core.runtime import Runtime
from core.settings import Settings
from tests.servers import postgres  # noqa: F401  (the throwaway PostgreSQL cluster fixture)
from tests.tickets.racers import T0, create_in_a_process
from usecases.permissions import OPERATOR, user_actor
from usecases.tickets import TicketError, create_ticket, set_ticket_status

WORKERS = 6
ROUNDS = 5


def _runtime(data_dir: Path, database_url: str = "") -> Runtime:
    settings = Settings(data_dir=data_dir, _env_file=None, **({"database_url": database_url} if database_url else {}))
    return Runtime(settings, clock=lambda: T0)


def _topics(rt: Runtime, n: int) -> list[int]:
    """Gap topics without questions: writing their tickets needs no model, so the racers reach the write together."""
    with Session(rt.engine) as s:
        rows = [Topic(label=f"How do I close account number {i}?", gap_kind="missing", size=3) for i in range(n)]
        s.add_all(rows)
        s.commit()
        return [t.id or 0 for t in rows]


def _tickets(rt: Runtime, topic_id: int) -> list[DocTicket]:
    with Session(rt.engine) as s:
        return list(s.exec(select(DocTicket).where(DocTicket.topic_id == topic_id)).all())


def _one_ticket_for_all(rt: Runtime, topic_id: int, results: list[tuple[int, bool]]) -> None:
    [ticket] = _tickets(rt, topic_id)
    assert {i for i, _ in results} == {ticket.id}, "every caller gets the one ticket back"
    assert sorted(created for _, created in results) == [False] * (len(results) - 1) + [True]


def test_threads_creating_one_topics_ticket_at_once_write_one(tmp_path: Path) -> None:
    rt = _runtime(tmp_path / "data")
    for topic in _topics(rt, ROUNDS):
        barrier = threading.Barrier(WORKERS)

        def racer(topic: int = topic, barrier: threading.Barrier = barrier) -> tuple[int, bool]:
            barrier.wait()
            view, created = create_ticket(rt, OPERATOR, topic)
            return view.id, created

        with ThreadPoolExecutor(WORKERS) as pool:
            results = [f.result() for f in [pool.submit(racer) for _ in range(WORKERS)]]
        _one_ticket_for_all(rt, topic, results)


def _race_processes(data_dir: Path, database_url: str, topic: int) -> list[tuple[int, bool]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=create_in_a_process, args=(str(data_dir), database_url, topic, barrier, out))
             for _ in range(WORKERS)]  # fmt: skip
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, tuple) for r in results), results
    return results


def test_processes_creating_one_topics_ticket_at_once_write_one_on_sqlite(tmp_path: Path) -> None:
    rt = _runtime(tmp_path / "data")
    for topic in _topics(rt, 2):
        _one_ticket_for_all(rt, topic, _race_processes(tmp_path / "data", "", topic))


def test_processes_creating_one_topics_ticket_at_once_write_one_on_postgresql(postgres: str, tmp_path: Path) -> None:  # noqa: F811
    url = postgres.format(db="a")
    rt = _runtime(tmp_path / "data", url)
    for topic in _topics(rt, 2):
        _one_ticket_for_all(rt, topic, _race_processes(tmp_path / "data", url, topic))


@pytest.fixture()
def sqlite(tmp_path: Path) -> Iterator[Runtime]:
    yield _runtime(tmp_path / "data")


def test_the_database_refuses_a_second_live_ticket_for_a_topic(sqlite: Runtime) -> None:
    [topic] = _topics(sqlite, 1)
    first, _ = create_ticket(sqlite, OPERATOR, topic)

    def another(status: str) -> None:
        with Session(sqlite.engine) as s:
            s.add(DocTicket(topic_id=topic, title="again", problem="", status=status, created_at=T0, updated_at=T0))
            s.commit()

    for live in ("open", "in_progress"):
        with pytest.raises(IntegrityError, match="UNIQUE"):
            another(live)
    another("done")  # finished tickets are history: any number of them
    another("closed")
    set_ticket_status(sqlite, OPERATOR, first.id, "done")
    second, created = create_ticket(sqlite, user_actor("wes", "docs_writer"), topic)
    assert created and second.id != first.id
    with pytest.raises(TicketError, match="already has live ticket"):
        set_ticket_status(sqlite, OPERATOR, first.id, "open")
    assert sorted(t.status for t in _tickets(sqlite, topic)) == ["closed", "done", "done", "open"]


def _old_data_dir(path: Path) -> str:
    """A database as the code before the index made it: the same tables, without `uq_docticket_live`."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_docticket_live"))
        conn.execute(text("ALTER TABLE question DROP COLUMN team"))  # revision 0002 came after the index
    engine.dispose()
    return url


def _has_index(url: str) -> bool:
    engine = create_engine(url)
    try:
        return "uq_docticket_live" in {i["name"] for i in inspect(engine).get_indexes("docticket")}
    finally:
        engine.dispose()


def test_an_older_data_dir_gains_the_index_when_opened(tmp_path: Path) -> None:
    url = _old_data_dir(tmp_path / "old.db")
    assert not _has_index(url)
    make_engine(url).dispose()
    assert _has_index(url)


def test_an_older_data_dir_already_holding_two_live_tickets_is_refused_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Revisions after the baseline need the baseline's indexes, so such a database is not opened half-upgraded:
    the error names the index and the rows stay as they were."""
    url = _old_data_dir(tmp_path / "old.db")
    engine = create_engine(url)
    with Session(engine) as s:
        topic = Topic(label="t")
        s.add(topic)
        s.flush()
        s.add_all([DocTicket(topic_id=topic.id or 0, title=f"#{i}", problem="", created_at=T0, updated_at=T0)
                   for i in range(2)])  # fmt: skip
        s.commit()
    engine.dispose()
    with caplog.at_level(logging.WARNING, logger="core.db"), pytest.raises(RuntimeError, match="uq_docticket_live"):
        make_engine(url).dispose()
    assert not _has_index(url), "a unique index the rows break is not forced"
    assert any("uq_docticket_live" in r.getMessage() and "fix them" in r.getMessage() for r in caplog.records)
    engine = create_engine(url)
    with Session(engine) as s:
        assert len(s.exec(select(DocTicket)).all()) == 2, "nothing is lost"
    engine.dispose()
