"""Backing an instance up and restoring it (`docgap backup FILE`, `docgap restore FILE`), for the operator.

The archive and its parts are `core.backup`'s; here is what a person is promised. A backup is safe while the server
runs and is never half-written. A restore checks the whole archive (checksums, format, docgap version, database
kind, embedding model) before it changes anything, refuses an instance that already holds data unless forced (so a
mistyped data dir loses nothing), then verifies every table's row count and every collection's size against the
manifest. Rows whose vector was being rewritten while the backup ran are embedded again.

Restoring over an instance (`force`) replaces its database and its collections; stop its server first.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select, update

from core import __version__, migrations
from core.backup import (
    FORMAT_VERSION,
    PGDUMP_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    Manifest,
    SnapshotFacts,
    data_files,
    database_kind,
    extract,
    match_dump,
    pg_restore,
    pg_snapshot,
    pg_tool,
    read_dump,
    read_manifest,
    sha256,
    sqlite_restore,
    sqlite_snapshot,
    table_counts,
    vector_counts,
    write_archive,
    write_dump,
)
from core.models import Chunk, Document, Question
from core.profiles import canonical_name
from core.runtime import Runtime
from core.vectors import DOC_CHUNKS, QUESTIONS, VectorStore
from ingest.embed import embed_pending_questions
from retrieval.index import embedding_text
from retrieval.lexical import forget_lexical_index
from usecases.permissions import Actor, Permission, require

__all__ = ["BackupError", "BackupSummary", "RestoreSummary", "backup", "restore"]


@dataclass(frozen=True)
class BackupSummary:
    path: str
    size_bytes: int
    database: str
    tables: dict[str, int]
    vectors: dict[str, int]
    files: int
    """Plain files of the data dir copied (calibration profiles, Markdown tickets)."""
    pending: dict[str, int]
    """Rows whose vector was rewritten while the backup ran; the restore embeds them again."""
    seconds: float


@dataclass(frozen=True)
class RestoreSummary:
    path: str
    created_at: str
    docgap_version: str
    database: str
    tables: dict[str, int]
    vectors: dict[str, int]
    files: int
    reembedded: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _store(runtime: Runtime) -> VectorStore:
    """The vector store without its model: backups move whole collections and need not load it."""
    return VectorStore.open(runtime.settings.chroma_url, runtime.settings.chroma_path)


def backup(runtime: Runtime, actor: Actor, target: Path, overwrite: bool = False) -> BackupSummary:
    """Write a consistent backup of the instance to `target` (a `.tar.gz`)."""
    require(actor, Permission.BACKUP)
    started = time.monotonic()
    settings = runtime.settings
    url = settings.resolved_database_url
    kind = database_kind(url)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another name or pass --force to replace it")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name such as docgap-backup.tar.gz")
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "postgresql":
        pg_tool("pg_dump")  # before connecting: the missing tool is the error to report
    db_file = _sqlite_file(url) if kind == "sqlite" else None
    with tempfile.TemporaryDirectory(prefix=".docgap-backup-", dir=target.parent) as tmp:
        staged = Path(tmp)
        if db_file is not None:
            (staged / SQLITE_MEMBER).parent.mkdir(parents=True)
            facts = sqlite_snapshot(db_file, staged / SQLITE_MEMBER)
        else:
            (staged / PGDUMP_MEMBER).parent.mkdir(parents=True)
            facts = pg_snapshot(runtime.engine, url, staged / PGDUMP_MEMBER)
        vectors, pending, model, dimension = _dump_vectors(runtime, staged, facts)
        skip = {staged.resolve(), target.resolve(), target.with_name(target.name + ".partial").resolve()}
        n_files = 0
        for f, rel in data_files(settings.data_dir, db_file):
            if f.resolve() in skip or staged.resolve() in f.resolve().parents:
                continue
            out = staged / "files" / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, out)
            n_files += 1
        members = sorted(p for p in staged.rglob("*") if p.is_file())
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            docgap_version=__version__,
            created_at=runtime.clock().isoformat(timespec="seconds"),
            database=kind,
            embedding_model=model,
            embedding_dimension=dimension,
            tables=facts.tables,
            vectors=vectors,
            files={p.relative_to(staged).as_posix(): sha256(p) for p in members},
            pending={k: v for k, v in pending.items() if v},
        )
        write_archive(target, staged, manifest)
    return BackupSummary(
        path=str(target),
        size_bytes=target.stat().st_size,
        database=kind,
        tables=facts.tables,
        vectors=vectors,
        files=n_files,
        pending={k: len(v) for k, v in pending.items() if v},
        seconds=round(time.monotonic() - started, 2),
    )


def _dump_vectors(
    runtime: Runtime, staged: Path, facts: SnapshotFacts
) -> tuple[dict[str, int], dict[str, list[int]], str, int]:
    """Every collection, matched to the database snapshot: (sizes, pending ids, model name, dimension)."""
    store = _store(runtime)
    sizes: dict[str, int] = {}
    pending: dict[str, list[int]] = {}
    model, dimension = runtime.settings.embedding_model, 0
    for name in store.collection_names():
        dump, missing = match_dump(store.dump(name), facts)
        write_dump(dump, staged / "vectors")
        sizes[name], pending[name] = len(dump.ids), missing
        if name in (QUESTIONS, DOC_CHUNKS) and dump.metadata.get("embedding_model"):
            model = str(dump.metadata["embedding_model"])
            dimension = int(dump.metadata.get("dimension") or 0)
    return sizes, pending, model, dimension


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("+")[0].split(".") if p.isdigit())


def _check(runtime: Runtime, manifest: Manifest, path: Path) -> None:
    """Refuse an archive this instance cannot take, before anything is changed."""
    if _version(manifest.docgap_version) > _version(__version__):
        raise BackupError(
            f"{path} was made by docgap {manifest.docgap_version}, newer than this one ({__version__}); "
            "upgrade docgap before restoring it"
        )
    kind = database_kind(runtime.settings.resolved_database_url)
    if manifest.database != kind:
        raise BackupError(
            f"{path} holds a {manifest.database} database but this instance is configured for {kind} "
            "(DOCGAP_DATABASE_URL); restore it into an instance of the same kind"
        )
    if kind == "postgresql":
        pg_tool("pg_restore")
    configured = runtime.embedder.name
    if manifest.vectors and canonical_name(manifest.embedding_model) != canonical_name(configured):
        raise BackupError(
            f"{path} holds vectors made with {manifest.embedding_model!r} but {configured!r} is configured; "
            f"restore with DOCGAP_EMBEDDING_MODEL={manifest.embedding_model} (then `docgap reindex` to change models)"
        )


_NAMED = {"question": "questions", "topic": "topics", "chunk": "doc passages", "user": "users", "report": "reports"}


def _existing_data(runtime: Runtime, manifest: Manifest) -> list[str]:
    """What the target instance already holds that a restore would replace."""
    counts = table_counts(runtime.engine)
    held = [f"{counts[t]:,} {label}" for t, label in _NAMED.items() if counts.get(t)]
    if others := sum(n for t, n in counts.items() if t not in _NAMED and t != migrations.VERSION_TABLE):
        held.append(f"{others:,} other rows")
    held += [f"{n:,} vectors in {c!r}" for c, n in vector_counts(_store(runtime)).items() if n]
    data_dir = runtime.settings.data_dir
    held += [
        f"the file {m.removeprefix('files/')}"
        for m in manifest.files
        if m.startswith("files/") and (data_dir / m.removeprefix("files/")).exists()
    ]
    return held


def restore(runtime: Runtime, actor: Actor, path: Path, force: bool = False) -> RestoreSummary:
    """Restore a backup into this instance (empty, unless `force`), then verify it against the manifest."""
    require(actor, Permission.BACKUP)
    started = time.monotonic()
    manifest = read_manifest(path)
    _check(runtime, manifest, path)
    if not force and (held := _existing_data(runtime, manifest)):
        s = runtime.settings
        where = s.data_dir if manifest.database == "sqlite" and not s.chroma_url else "this instance"
        raise BackupError(
            f"{where} is not empty (it holds {', '.join(held)}); restore into an empty data dir "
            "(or database and Chroma), or pass --force to replace what it holds"
        )
    settings = runtime.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".docgap-restore-", dir=settings.data_dir) as tmp:
        unpacked = Path(tmp)
        extract(path, manifest, unpacked)  # every checksum is checked before anything is replaced
        dumps = [read_dump(unpacked / "vectors", name) for name in manifest.vectors]
        runtime.engine.dispose()
        if manifest.database == "sqlite":
            sqlite_restore(unpacked / SQLITE_MEMBER, _sqlite_file(settings.resolved_database_url))
        else:
            pg_restore(settings.resolved_database_url, unpacked / PGDUMP_MEMBER)
        runtime.engine.dispose()
        if migrations.VERSION_TABLE not in manifest.tables:  # made before migrations: a PostgreSQL target keeps its own
            migrations.forget_revision(runtime.engine)
        migrations.upgrade(runtime.engine)  # an older docgap's backup: add what this version has since
        forget_lexical_index(runtime)
        store = _store(runtime)
        for name in store.collection_names():
            if name not in manifest.vectors:
                store.reset(name)
        for dump in dumps:
            store.load(dump)
        if "vectors" in vars(runtime):
            del runtime.vectors  # its cached collection handles point at the collections just replaced
        n_files = 0
        for member in manifest.files:
            if member.startswith("files/"):
                out = settings.data_dir / member.removeprefix("files/")
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(unpacked / member, out)
                n_files += 1
    tables, vectors = _verify(runtime, manifest, store)
    reembedded = _reembed(runtime, manifest.pending)
    return RestoreSummary(
        path=str(path),
        created_at=manifest.created_at,
        docgap_version=manifest.docgap_version,
        database=manifest.database,
        tables=tables,
        vectors=vectors,
        files=n_files,
        reembedded=reembedded,
        seconds=round(time.monotonic() - started, 2),
    )


def _verify(runtime: Runtime, manifest: Manifest, store: VectorStore) -> tuple[dict[str, int], dict[str, int]]:
    tables = table_counts(runtime.engine)
    vectors = vector_counts(store)
    wrong = [f"{t}: {tables.get(t, 0):,} rows, the backup had {n:,}" for t, n in manifest.tables.items()
             if tables.get(t, 0) != n]  # fmt: skip
    wrong += [f"{c!r}: {vectors.get(c, 0):,} vectors, the backup had {n:,}" for c, n in manifest.vectors.items()
              if vectors.get(c, 0) != n]  # fmt: skip
    if wrong:
        raise BackupError(f"the restored instance does not match {manifest.created_at}'s backup: {'; '.join(wrong)}")
    return tables, vectors


def _reembed(runtime: Runtime, pending: dict[str, list[int]]) -> dict[str, int]:
    """Embed again the rows whose vector was being rewritten while the backup ran (normally none)."""
    done: dict[str, int] = {}
    if ids := pending.get(QUESTIONS):
        with Session(runtime.engine) as session:
            session.exec(update(Question).where(col(Question.id).in_(ids)).values(embedded=False))  # type: ignore[call-overload]
            session.commit()
        done[QUESTIONS] = embed_pending_questions(runtime)
    if ids := pending.get(DOC_CHUNKS):
        with Session(runtime.engine) as session:
            rows = session.exec(
                select(Chunk, Document.title)
                .join(Document, col(Chunk.document_id) == col(Document.id))
                .where(col(Chunk.id).in_(ids))
            ).all()
        if rows:
            texts = [embedding_text(title, c.section, c.text) for c, title in rows]
            runtime.vectors.upsert(
                DOC_CHUNKS,
                [str(c.id) for c, _ in rows],
                runtime.embedder.embed(texts),
                [{"document_id": c.document_id} for c, _ in rows],
            )
        done[DOC_CHUNKS] = len(rows)
    return done
