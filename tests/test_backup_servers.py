"""Backup and restore at scale: PostgreSQL through `pg_dump`/`pg_restore`, vectors on Chroma servers.

A private PostgreSQL cluster (the Debian `postgresql` binaries, run as the `postgres` user when the tests run as
root) and two `chroma run` servers on loopback ports; instance A (database `a`, first Chroma) is backed up and
restored into instance B (database `b`, second Chroma), and the two are compared row by row and vector by vector.
Skipped where the PostgreSQL server binaries or psycopg are not installed; the missing-`pg_dump` error is checked
everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from core.backup import BackupError
from core.embedding import SentenceTransformerEmbedder
from core.runtime import Runtime
from core.vectors import DOC_CHUNKS, QUESTIONS, VectorStore
from tests.conftest import make_runtime
from tests.servers import ChromaServer, postgres  # noqa: F401  (a private PostgreSQL cluster; skips without one)
from tests.test_backup import _records
from usecases.apikeys import create_key
from usecases.backup import backup, restore
from usecases.permissions import OPERATOR
from usecases.pipeline import import_docs, import_questions

TABLES = ("account", "apikey", "chunk", "document", "importrun", "question")


@pytest.fixture(scope="module")
def chroma_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two `chroma run` servers (one per instance)."""
    if ChromaServer.command() is None:
        pytest.skip("the chroma command is not installed")
    with (
        ChromaServer(tmp_path_factory.mktemp("chroma0")) as one,
        ChromaServer(tmp_path_factory.mktemp("chroma1")) as two,
    ):
        yield [one, two]


def _rows(rt: Runtime, table: str) -> list[tuple[object, ...]]:
    with rt.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY id'))]


def _dump(rt: Runtime, name: str) -> tuple[list[str], np.ndarray]:
    d = VectorStore.open(rt.settings.chroma_url, rt.settings.chroma_path).dump(name)
    order = np.argsort(d.ids)
    return [d.ids[i] for i in order], d.embeddings[order]


def test_postgres_and_chroma_servers_round_trip(
    postgres: str,  # noqa: F811
    chroma_servers: list[str],
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> None:
    a = make_runtime(tmp_path / "a", embedder, database_url=postgres.format(db="a"), chroma_url=chroma_servers[0])
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pin.md").write_text("# PIN\n\n## Change your PIN\n\nOpen Settings, then Security, then Change PIN.\n")
    assert import_docs(a, docs, "help").ok and import_questions(a, _records("pg", 6)).ok
    create_key(a, ["answers:read"], name="pg-key")
    archive = tmp_path / "pg.tar.gz"
    made = backup(a, OPERATOR, archive)
    assert made.database == "postgresql" and made.tables["question"] == 6 and made.vectors[QUESTIONS] == 6

    b = make_runtime(tmp_path / "b", embedder, database_url=postgres.format(db="b"), chroma_url=chroma_servers[1])
    result = restore(b, OPERATOR, archive)
    assert result.tables == made.tables and result.vectors == made.vectors
    for table in TABLES:
        assert _rows(b, table) == _rows(a, table), table
    for name in (QUESTIONS, DOC_CHUNKS):
        (ids_a, vec_a), (ids_b, vec_b) = _dump(a, name), _dump(b, name)
        assert ids_b == ids_a and np.allclose(vec_b, vec_a, atol=1e-6)
    assert import_questions(b, _records("after-restore", 2)).added == 2, "the restored id sequences go on"
    with pytest.raises(BackupError, match="this instance is not empty"):
        restore(b, OPERATOR, archive)


def test_postgres_without_pg_dump_is_a_clear_error(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    rt = make_runtime(tmp_path / "d", embedder, database_url="postgresql+psycopg://docgap@127.0.0.1:1/none")
    with pytest.raises(BackupError, match=r"pg_dump is not on PATH.*postgresql-client"):
        backup(rt, OPERATOR, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()
