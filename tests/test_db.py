import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from core import migrations
from core.db import make_engine
from core.models import Topic
from core.runtime import Runtime
from core.vectors import QUESTIONS


def test_an_older_data_dir_gains_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    make_engine(f"sqlite:///{db}").dispose()
    with sqlite3.connect(db) as conn:  # simulate a data dir from before these columns existed (and migrations)
        conn.execute("DROP TABLE alembic_version")
        conn.execute("ALTER TABLE question DROP COLUMN team")  # revision 0002, after migrations came in
        conn.execute("ALTER TABLE topic DROP COLUMN signals")
        conn.execute("ALTER TABLE topic DROP COLUMN gap_reason")
        for column in ("label_source", "label_basis", "split_from"):
            conn.execute(f"ALTER TABLE topic DROP COLUMN {column}")
        conn.execute(
            "INSERT INTO topic (label, label_locked, status, active, size, account_count, gap_score, notes,"
            " keywords, examples, centroid, doc_urls) VALUES ('old', 0, 'new', 1, 3, 1, 0, '', '[]', '[]',"
            " '[]', '[]')"
        )
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        t = s.exec(select(Topic)).one()
    assert t.label == "old" and t.gap_reason == "" and t.signals == {}
    assert (t.label_source, t.label_basis, t.split_from) == ("keywords", [], None)
    assert migrations.current(engine) == migrations.head() and migrations.differences(engine) == []


@pytest.mark.backends
def test_each_pass_runs_on_the_stores_it_names(fresh_runtime: Runtime) -> None:
    """The servers pass of `make test` really is on PostgreSQL and a Chroma server, not quietly on the embedded ones."""
    servers = os.environ.get("DOCGAP_TEST_STACK", "embedded") == "servers"
    wanted = "postgresql" if servers else "sqlite"
    assert bool(fresh_runtime.settings.chroma_url) is servers
    fresh_runtime.vectors.upsert(QUESTIONS, ["1"], np.ones((1, fresh_runtime.embedder.dimension), np.float32))
    assert fresh_runtime.vectors.size(QUESTIONS) == 1
    assert not (fresh_runtime.settings.chroma_path.exists() and servers)
    engine = fresh_runtime.engine
    assert engine.dialect.name == wanted
    assert migrations.current(engine) == migrations.head() and migrations.differences(engine) == []
    with Session(engine) as s:
        s.add(Topic(label="on " + wanted))
        s.commit()
    with Session(engine) as s:
        assert [t.label for t in s.exec(select(Topic)).all()] == ["on " + wanted]
