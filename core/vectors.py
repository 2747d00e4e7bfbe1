"""The vector store adapter: Chroma, embedded (`PersistentClient`) or a server (`HttpClient`).

Chroma never embeds anything itself: every write and query carries our vectors, and the collections are
created with an embedding function that refuses to run, so Chroma's default (which downloads a model) cannot be
reached by accident. Each collection records the embedding model and dimension it was built with; opening it
with another model is an error that tells the user to re-index rather than silently mixing vector spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

QUESTIONS = "questions"
DOC_CHUNKS = "doc_chunks"
BATCH = 5000
"""Rows per Chroma call: below the largest batch a Chroma server or client accepts (5,461 with SQLite behind it)."""


class IndexMismatchError(RuntimeError):
    """The stored index was built with a different embedding model than the one configured."""


class _NoEmbedding(EmbeddingFunction[Documents]):
    """Stands where Chroma would put its default embedding function; docgap always passes vectors."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        raise RuntimeError("docgap passes embeddings explicitly; Chroma must not embed text itself")

    @staticmethod
    def name() -> str:
        return "docgap-explicit"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _NoEmbedding:
        return _NoEmbedding()

    def is_legacy(self) -> bool:
        return False


@dataclass(frozen=True)
class CollectionDump:
    """A whole collection as plain data: what a backup holds and a restore puts back, exactly."""

    name: str
    metadata: dict[str, Any]
    """The collection's own metadata (distance, embedding model and dimension)."""
    ids: list[str]
    embeddings: np.ndarray
    """float32, one row per id: Chroma stores float32, so the round trip is exact."""
    metadatas: list[dict[str, Any] | None]
    documents: list[str | None]


@dataclass(frozen=True)
class Hit:
    id: str
    similarity: float
    metadata: dict[str, Any]


class VectorStore:
    """Named collections of (id, vector, metadata) with cosine similarity search."""

    def __init__(self, client: Any, model_name: str, dimension: int) -> None:
        self._client = client
        self.model_name = model_name
        self.dimension = dimension
        self._collections: dict[str, Any] = {}

    @classmethod
    def open(cls, chroma_url: str, path: Path, model_name: str = "", dimension: int = 0) -> VectorStore:
        """The store at `chroma_url` (a server) or `path` (embedded).

        A path on the URL (`http://chroma:8000/team-a`) names a Chroma database on that server, made when missing:
        several instances (teams, staging beside production, the test suite's data dirs) share one server without
        sharing collections. Without one, the server's default database.

        Without a model (`docgap backup`/`restore`, which move whole collections and need not load one) only the
        whole-collection methods (`collection_names`, `size`, `dump`, `load`, `reset`) work; the rest refuse the
        mismatch.
        """
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if chroma_url:
            url = urlparse(chroma_url)
            host, port, ssl = url.hostname or "localhost", url.port or 8000, url.scheme == "https"
            database = url.path.strip("/")
            if database:
                _ensure_database(host, port, ssl, database)
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                settings=chroma_settings,
                **({"database": database} if database else {}),
            )
        else:
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        return cls(client, model_name, dimension)

    def _collection(self, name: str) -> Any:
        if name not in self._collections:
            col = self._client.get_or_create_collection(
                name,
                embedding_function=_NoEmbedding(),
                metadata={"hnsw:space": "cosine", "embedding_model": self.model_name, "dimension": self.dimension},
            )
            meta = col.metadata or {}
            if meta.get("embedding_model") != self.model_name or meta.get("dimension") != self.dimension:
                raise IndexMismatchError(
                    f"the {name!r} index was built with {meta.get('embedding_model')!r} "
                    f"({meta.get('dimension')} dims) but {self.model_name!r} ({self.dimension} dims) is configured; "
                    "run `docgap reindex` to rebuild it with the configured model"
                )
            self._collections[name] = col
        return self._collections[name]

    def upsert(
        self, name: str, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]] | None = None
    ) -> None:
        if not ids:
            return
        col = self._collection(name)
        ids, vectors = list(ids), np.asarray(vectors, dtype=np.float32)
        metas = list(metadatas) if metadatas else None
        for start in range(0, len(ids), BATCH):  # Chroma refuses a call of more than its max batch (5,461 here)
            end = start + BATCH
            col.upsert(ids=ids[start:end], embeddings=vectors[start:end], metadatas=metas[start:end] if metas else None)

    def delete(self, name: str, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), BATCH):
            self._collection(name).delete(ids=ids[start : start + BATCH])

    def count(self, name: str) -> int:
        return int(self._collection(name).count())

    def query(self, name: str, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        if k <= 0:
            return []
        # No `count()` first: Chroma ≥ 1.0 returns what it has when asked for more (nothing when empty), and a count
        # costs as much as the query itself, holding the GIL (`bench/answers.py`).
        res = self._collection(name).query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=where,
            include=["distances", "metadatas"],
        )
        metas = res.get("metadatas") or [[{}] * len(res["ids"][0])]
        return [
            Hit(id=i, similarity=1.0 - float(d), metadata=dict(m or {}))
            for i, d, m in zip(res["ids"][0], res["distances"][0], metas[0], strict=False)
        ]

    def get_vectors(self, name: str, ids: Sequence[str]) -> np.ndarray:
        """Vectors for `ids`, in that order (missing ids raise: the caller's view and the store disagree).

        Filled into one preallocated array batch by batch: a full re-cluster asks for every question's vector, and
        holding them all as per-row objects first would need twice the memory of the result.
        """
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        col = self._collection(name)
        ids = list(ids)
        out: np.ndarray | None = None  # sized by the first vector: a store opened without a dimension still works
        filled = np.zeros(len(ids), dtype=bool)
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            where: dict[str, list[int]] = {}
            for offset, i in enumerate(batch):
                where.setdefault(i, []).append(start + offset)
            res = col.get(ids=list(where), include=["embeddings"])
            for i, vector in zip(res["ids"], res["embeddings"], strict=True):
                if out is None:
                    out = np.empty((len(ids), len(vector)), dtype=np.float32)
                out[where[i]] = vector
                filled[where[i]] = True
        if not filled.all():
            missing = [ids[k] for k in np.flatnonzero(~filled)]
            raise KeyError(f"{len(missing)} ids missing from the {name!r} index (first: {missing[0]})")
        assert out is not None
        return out

    def reset(self, name: str) -> None:
        """Drop a collection (used by re-indexing with another model)."""
        try:
            self._client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent collection: nothing to drop
            pass
        self._collections.pop(name, None)

    # --- whole collections (backup and restore) ---------------------------------------------------------------

    def collection_names(self) -> list[str]:
        return sorted(c.name for c in self._client.list_collections())

    def dump(self, name: str, batch: int = BATCH) -> CollectionDump:
        """Every record of a collection, read through the client (so a write in flight is either in or out).

        The ids are listed first and the records then fetched by id: paging by offset while another process writes
        could skip or repeat records, fetching by id cannot (a record deleted meanwhile is simply not there).
        """
        col = self._client.get_collection(name, embedding_function=_NoEmbedding())
        ids = list(col.get(include=[])["ids"])
        found: dict[str, tuple[Any, Any, Any]] = {}
        for start in range(0, len(ids), batch):
            res = col.get(ids=ids[start : start + batch], include=["embeddings", "metadatas", "documents"])
            metas = res.get("metadatas") or [None] * len(res["ids"])
            docs = res.get("documents") or [None] * len(res["ids"])
            for i, e, m, d in zip(res["ids"], res["embeddings"], metas, docs, strict=True):
                found[i] = (e, m, d)
        kept = [i for i in ids if i in found]
        dim = int((col.metadata or {}).get("dimension") or 0)
        vectors = np.asarray([found[i][0] for i in kept], dtype=np.float32).reshape(len(kept), -1 if kept else dim)
        return CollectionDump(
            name=name,
            metadata=dict(col.metadata or {}),
            ids=kept,
            embeddings=vectors,
            metadatas=[dict(found[i][1]) if found[i][1] else None for i in kept],
            documents=[found[i][2] for i in kept],
        )

    def load(self, dump: CollectionDump, batch: int = BATCH) -> None:
        """Create the collection anew from a dump (an existing one of that name is replaced)."""
        self.reset(dump.name)
        col = self._client.create_collection(
            dump.name, embedding_function=_NoEmbedding(), metadata=dump.metadata or None
        )
        for start in range(0, len(dump.ids), batch):
            end = start + batch
            metas = dump.metadatas[start:end]
            docs = dump.documents[start:end]
            col.add(
                ids=dump.ids[start:end],
                embeddings=dump.embeddings[start:end],
                metadatas=metas if any(m for m in metas) else None,
                documents=docs if any(d is not None for d in docs) else None,
            )

    def size(self, name: str) -> int:
        """Records in a collection, whatever model built it (0 when it does not exist)."""
        if name not in self.collection_names():
            return 0
        return int(self._client.get_collection(name, embedding_function=_NoEmbedding()).count())


def _ensure_database(host: str, port: int, ssl: bool, database: str) -> None:
    """Create the Chroma database `database` on the server unless it exists (default tenant)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    admin = chromadb.AdminClient(
        ChromaSettings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=host,
            chroma_server_http_port=port,
            chroma_server_ssl_enabled=ssl,
            anonymized_telemetry=False,
        )
    )
    if database not in {d["name"] for d in admin.list_databases()}:
        admin.create_database(database)
