"""The backup archive: a consistent copy of the database and the vector store in one `.tar.gz`, and its reader.

What goes in, and why this way:
- **SQLite** is copied with SQLite's online backup API in one step, i.e. inside one read transaction: in WAL mode
  that never blocks the server's writers, and the copy is the database as of one commit, whatever is being written.
  Copying the file (and its `-wal`) with `cp` could catch a checkpoint half-way.
- **PostgreSQL** is dumped by `pg_dump --format=custom` under a snapshot exported from our own transaction, so the
  row counts and ids written to the manifest are of exactly the dumped state.
- **Vectors** are exported through the Chroma client (ids, float32 embeddings, metadata, documents), embedded or
  server alike, rather than by copying `chroma/`: Chroma keeps recent writes in its log and flushes its HNSW files
  lazily, so a file copy taken while the server writes can hold an index that disagrees with its own log, and a
  copy is tied to one Chroma version's on-disk layout. A dump restores into any Chroma and a server has no files.
  The database and the vector store cannot share a transaction, so the dump is matched to the database snapshot:
  vectors of rows the snapshot does not have are left out, and rows the snapshot says are embedded but that have
  no vector are listed in the manifest (`pending`) for the restore to embed again.
- Other files the data dir keeps (calibration profiles, Markdown tickets) are copied as they are; `chroma/`, the
  database files and `demo-sources/` (rebuilt by `docgap demo`) are not.

The manifest (`manifest.json`, the first member) names the format version, the docgap version, when, the embedding
model and dimension, the row count of every table, the record count of every collection and the SHA-256 of every
other member, so a restore can refuse an archive that is corrupt, truncated, from a newer docgap or for another
model before it touches anything.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from core import __version__
from core.models import Chunk, Question
from core.vectors import DOC_CHUNKS, QUESTIONS, CollectionDump, VectorStore

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/docgap.sqlite3"
PGDUMP_MEMBER = "database/docgap.pgdump"
SKIPPED_ENTRIES = frozenset({"chroma", "demo-sources"})
"""Top-level entries of the data dir that are not copied as files (besides the SQLite files themselves)."""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    format_version: int
    docgap_version: str
    created_at: str
    database: str
    """"sqlite" or "postgresql"."""
    embedding_model: str
    embedding_dimension: int
    tables: dict[str, int]
    vectors: dict[str, int]
    files: dict[str, str]
    """Member name → SHA-256 of every member but the manifest."""
    pending: dict[str, list[int]] = field(default_factory=dict)
    """Rows the database snapshot holds as embedded whose vector was gone by the time the vectors were read
    (`questions`: question ids, `doc_chunks`: chunk ids); the restore embeds them again."""


@dataclass(frozen=True)
class SnapshotFacts:
    """What the database snapshot holds that the vector dump must agree with."""

    tables: dict[str, int]
    question_ids: set[int]
    embedded_question_ids: set[int]
    chunk_ids: set[int]


def database_kind(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL databases, not {url.split(':', 1)[0]!r}")


def snapshot_facts(conn: Connection) -> SnapshotFacts:
    """Row counts of every table, and the question and passage ids, read on `conn` (inside its snapshot)."""
    names = sorted(n for n in inspect(conn).get_table_names() if not n.startswith("sqlite_"))
    preparer = conn.dialect.identifier_preparer
    tables = {n: int(conn.execute(text(f"SELECT count(*) FROM {preparer.quote(n)}")).scalar_one()) for n in names}
    questions: set[int] = set()
    embedded: set[int] = set()
    chunks: set[int] = set()
    if "question" in tables:
        for qid, done in conn.execute(select(Question.id, Question.embedded)):  # type: ignore[call-overload]
            questions.add(int(qid))
            if done:
                embedded.add(int(qid))
    if "chunk" in tables:
        chunks = {int(cid) for (cid,) in conn.execute(select(Chunk.id))}  # type: ignore[call-overload]
    return SnapshotFacts(tables, questions, embedded, chunks)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return snapshot_facts(conn).tables


# --- SQLite ------------------------------------------------------------------------------------------------------


def sqlite_snapshot(source: Path, target: Path) -> SnapshotFacts:
    """Copy a live SQLite database to `target` in one read transaction and check the copy."""
    if not source.exists():
        raise BackupError(f"no database at {source}: nothing to back up")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)  # -1: every page in one step, so the copy is of one commit
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        src.close()
        dst.close()
    check_sqlite(target)
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return snapshot_facts(conn)
    finally:
        engine.dispose()


def check_sqlite(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from exc
    finally:
        conn.close()
    if result != ["ok"]:
        raise BackupError(f"integrity check of {path.name} failed: {'; '.join(result[:5])}")


def sqlite_restore(source: Path, target: Path) -> None:
    """Replace the database at `target` with `source`, page by page through SQLite (safe with open connections)."""
    check_sqlite(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=-1)
    except sqlite3.Error as exc:
        raise BackupError(f"could not write {target}: {exc} (is a docgap server using it? stop it first)") from exc
    finally:
        src.close()
        dst.close()


# --- PostgreSQL --------------------------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not on PATH: PostgreSQL backups need the PostgreSQL client tools "
            f"(Debian/Ubuntu: `apt-get install postgresql-client`, same major version as the server)"
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq connection URL, with the password moved to the environment (not on `ps`)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")


def pg_snapshot(engine: Engine, url: str, target: Path) -> SnapshotFacts:
    """`pg_dump` the database under a snapshot exported by our own transaction, and read the facts in it."""
    pg_dump = pg_tool("pg_dump")
    libpq, env = _libpq(url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = snapshot_facts(conn)
        cmd = [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={target}", libpq]
        _run(cmd, env, "pg_dump")
    return facts


def pg_restore(url: str, source: Path) -> None:
    """Load a custom-format dump, replacing the tables it holds, in one transaction (all or nothing)."""
    tool = pg_tool("pg_restore")
    libpq, env = _libpq(url)
    cmd = [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "-d", libpq]
    _run([*cmd, str(source)], env, "pg_restore")


# --- vectors -----------------------------------------------------------------------------------------------------


def match_dump(dump: CollectionDump, facts: SnapshotFacts) -> tuple[CollectionDump, list[int]]:
    """The dump cut to the rows the database snapshot holds, and the snapshot's rows that have no vector.

    Collections other than questions and passages are kept whole (nothing in the database refers to them).
    """
    if dump.name == QUESTIONS:
        known, expected = facts.question_ids, facts.embedded_question_ids
    elif dump.name == DOC_CHUNKS:
        known, expected = facts.chunk_ids, facts.chunk_ids
    else:
        return dump, []
    keep = [i for i, vid in enumerate(dump.ids) if vid.isdigit() and int(vid) in known]
    have = {int(dump.ids[i]) for i in keep}
    missing = sorted(expected - have)
    if len(keep) == len(dump.ids):
        return dump, missing
    cut = CollectionDump(
        name=dump.name,
        metadata=dump.metadata,
        ids=[dump.ids[i] for i in keep],
        embeddings=dump.embeddings[keep],
        metadatas=[dump.metadatas[i] for i in keep],
        documents=[dump.documents[i] for i in keep],
    )
    return cut, missing


def write_dump(dump: CollectionDump, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    vectors, records = folder / f"{dump.name}.npy", folder / f"{dump.name}.json"
    np.save(vectors, np.ascontiguousarray(dump.embeddings, dtype=np.float32), allow_pickle=False)
    body = {"metadata": dump.metadata, "ids": dump.ids, "metadatas": dump.metadatas, "documents": dump.documents}
    records.write_text(json.dumps(body), encoding="utf-8")
    return [vectors, records]


def read_dump(folder: Path, name: str) -> CollectionDump:
    try:
        embeddings = np.load(folder / f"{name}.npy", allow_pickle=False)
        body = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"the {name!r} vectors in the archive are unreadable: {exc}") from exc
    ids = body["ids"]
    if embeddings.ndim != 2 or len(ids) != embeddings.shape[0] or len(body["metadatas"]) != len(ids):
        raise BackupError(f"the {name!r} vectors in the archive do not match their ids")
    return CollectionDump(name, body["metadata"], ids, embeddings, body["metadatas"], body["documents"])


def vector_counts(store: VectorStore) -> dict[str, int]:
    return {name: store.size(name) for name in store.collection_names()}


# --- the archive -------------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_files(data_dir: Path, database_file: Path | None) -> Iterator[tuple[Path, str]]:
    """(path, path relative to the data dir) of the plain files a backup copies."""
    if not data_dir.is_dir():
        return
    db_names = {database_file.name + s for s in ("", "-wal", "-shm", "-journal")} if database_file else set()
    for entry in sorted(data_dir.iterdir()):
        if entry.name in SKIPPED_ENTRIES or entry.name in db_names:
            continue
        files = [entry] if entry.is_file() else sorted(p for p in entry.rglob("*") if p.is_file())
        for f in files:
            yield f, f.relative_to(data_dir).as_posix()


def write_archive(target: Path, staged: Path, manifest: Manifest) -> None:
    """Write `staged`'s files and the manifest as `target`, atomically (a failed backup leaves no half file)."""
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds password and key hashes
    try:
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz", compresslevel=6) as tar:
            body = json.dumps(asdict(manifest), indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), 0, 0o600
            tar.addfile(info, io.BytesIO(body))
            for member in manifest.files:
                tar.add(staged / member, arcname=member, recursive=False)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


_UNREADABLE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError, UnicodeDecodeError, ValueError)


@contextmanager
def _open(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            yield tar
    except BackupError:
        raise
    except _UNREADABLE as exc:
        raise BackupError(f"{path} is not a readable docgap backup (truncated or corrupt?): {exc}") from exc


def read_manifest(path: Path) -> Manifest:
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    with _open(path) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise BackupError(f"{path} is not a docgap backup: it does not start with {MANIFEST}")
        fh = tar.extractfile(first)
        assert fh is not None
        try:
            raw: dict[str, Any] = json.loads(fh.read().decode("utf-8"))
        except ValueError as exc:
            raise BackupError(f"{path}: the manifest is unreadable: {exc}") from exc
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != FORMAT_VERSION:
        raise BackupError(
            f"{path} is in backup format {version!r}; this docgap ({__version__}) reads format {FORMAT_VERSION}"
        )
    try:
        return Manifest(**raw)
    except TypeError as exc:
        raise BackupError(f"{path}: the manifest is unreadable: {exc}") from exc


def extract(path: Path, manifest: Manifest, into: Path) -> None:
    """Unpack the members the manifest lists into `into`, checking each one's SHA-256; refuse anything else."""
    seen: set[str] = set()
    with _open(path) as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            name = PurePosixPath(member.name)
            if member.name not in manifest.files or name.is_absolute() or ".." in name.parts or not member.isfile():
                raise BackupError(f"{path} holds {member.name!r}, which its manifest does not list")
            out = into.joinpath(*name.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            fh = tar.extractfile(member)
            assert fh is not None
            with out.open("wb") as dst:
                shutil.copyfileobj(fh, dst)
            if sha256(out) != manifest.files[member.name]:
                raise BackupError(f"{path}: {member.name} does not match its checksum (the archive is corrupt)")
            seen.add(member.name)
    if missing := sorted(set(manifest.files) - seen):
        raise BackupError(f"{path} is incomplete: {', '.join(missing[:5])} missing (truncated?)")
