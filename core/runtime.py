"""The objects one process needs (settings, database, embedder, vector store, LLM, clock), built once.

The CLI, the server and the jobs each build one `Runtime` at their entry point and pass it down; nothing is
created at import time. Heavy parts (the model, Chroma) are created on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from core.db import make_engine
from core.embedding import Embedder, USEM3Embedder, is_multilingual, make_embedder
from core.llm import LLMClient
from core.settings import Settings
from core.vectors import VectorStore

if TYPE_CHECKING:
    from rq import Queue


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Runtime:
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    embedder_override: Embedder | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def embedder(self) -> Embedder:
        if self.embedder_override is not None:
            return self.embedder_override
        return make_embedder(self.settings.embedding_model, self.settings.embedding_batch_size)

    @cached_property
    def crosslingual(self) -> Embedder | None:
        """The multilingual model that places non-English questions in topics, when the main model is English."""
        if not self.settings.crosslingual_topics or is_multilingual(self.embedder.name):
            return None
        return USEM3Embedder(self.settings.embedding_batch_size)

    @cached_property
    def vectors(self) -> VectorStore:
        return VectorStore.open(
            self.settings.chroma_url, self.settings.chroma_path, self.embedder.name, self.embedder.dimension
        )

    @cached_property
    def queue(self) -> Queue | None:
        """The job queue when `DOCGAP_REDIS_URL` is set; None in the embedded default (jobs run in-process)."""
        if not self.settings.redis_url:
            return None
        from core.queue import open_queue

        return open_queue(self.settings.redis_url)

    @cached_property
    def llm(self) -> LLMClient | None:
        s = self.settings
        if not s.llm_enabled:
            return None
        return LLMClient(s.llm_base_url, s.llm_api_key, s.llm_model, s.llm_timeout)
