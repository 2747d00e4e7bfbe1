import sqlite3
from pathlib import Path

from sqlmodel import Session, select

from core import migrations
from core.db import make_engine
from core.models import Topic


def test_an_older_data_dir_gains_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    make_engine(f"sqlite:///{db}").dispose()
    with sqlite3.connect(db) as conn:  # simulate a data dir from before these columns existed (and migrations)
        conn.execute("DROP TABLE alembic_version")
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
