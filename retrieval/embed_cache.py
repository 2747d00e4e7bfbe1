"""Embedding on the answer path: a cache for texts that recur across requests, and a batcher for concurrent ones.

The offline answer ranks the sentences of the retrieved doc passages by similarity to the question. Those
sentences come from a few hundred passages and recur in every answer about the same subject; embedding them
afresh was 80 % of an answer's CPU time (`bench/answers.py`). Entries are keyed by the model's name and the text,
so a cached vector is exactly what the model would return; a re-indexed page only adds new keys.

Every answer also embeds its question. One `encode` of one short text costs about 12 ms on these CPUs, of which
half is fixed per call (tokenizer set-up, Python between the layers, all under the GIL); a call with 4 or 16
texts costs about 6 ms per text. When requests arrive together, `QueryBatcher` lets the first caller encode
every question waiting at that moment in one call, and the others take their vectors from it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.embedding import Embedder


class EmbeddingCache:
    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """`embedder.embed(texts)`, embedding only the texts not seen before (in one batch)."""
        keys = [(embedder.name, t) for t in texts]
        with self._lock:
            found = {k: self._vectors[k] for k in keys if k in self._vectors}
            for k in found:
                self._vectors.move_to_end(k)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            fresh = embedder.embed([t for _, t in missing])
            found.update(zip(missing, fresh, strict=True))
            with self._lock:
                self._vectors.update(zip(missing, fresh, strict=True))
                while len(self._vectors) > self.max_entries:
                    self._vectors.popitem(last=False)
        if not keys:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.asarray([found[k] for k in keys], dtype=np.float32)

    def __len__(self) -> int:
        return len(self._vectors)


SENTENCES = EmbeddingCache()
"""Doc-passage sentences (a cache of a pure function's results, not state: safe to share in a process)."""


@dataclass(eq=False)
class _Job:
    embedder: Embedder
    text: str
    vector: np.ndarray | None = None
    error: BaseException | None = None


class QueryBatcher:
    """Coalesces concurrent single-text embeddings into one model call (no thread of its own, no added wait).

    A caller queues its text; if no batch is being encoded it becomes the leader: it takes its own text and up to
    `max_batch - 1` others waiting, encodes them in one call, hands out the vectors and wakes the rest. Callers that
    arrive meanwhile wait for that call to end; then one of them leads the next batch with everyone queued for the
    same model (another runtime's model never encodes them). Alone, a caller pays exactly one call, as before.
    Vectors equal what `embed([text])` returns up to float rounding (sentence-transformers masks the padding).
    """

    def __init__(self, max_batch: int = 32) -> None:
        self.max_batch = max_batch
        self._queue: list[_Job] = []
        self._busy = False
        self._cond = threading.Condition()

    def embed(self, embedder: Embedder, text: str) -> np.ndarray:
        """`embedder.embed([text])[0]`, shared with whichever concurrent callers are waiting."""
        job = _Job(embedder, text)
        with self._cond:
            self._queue.append(job)
            while self._busy and job.vector is None and job.error is None:
                self._cond.wait()
            if job.vector is None and job.error is None:
                self._busy = True
                same = [j for j in self._queue if j is not job and j.embedder is embedder]
                others = same[: self.max_batch - 1]
                batch = [job, *others]
                self._queue = [j for j in self._queue if j not in batch]
            else:
                batch = []
        if batch:
            self._run(embedder, batch)
        if job.error is not None:
            raise job.error
        assert job.vector is not None
        return job.vector

    def _run(self, embedder: Embedder, batch: list[_Job]) -> None:
        try:
            vectors = embedder.embed([j.text for j in batch])
            for j, v in zip(batch, vectors, strict=True):
                j.vector = v
        except BaseException as exc:  # noqa: BLE001  (every caller in the batch raises it, as its own call would)
            for j in batch:
                j.error = exc
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


QUERIES = QueryBatcher()
"""Questions being answered right now, in this process (a coalescing point, not state)."""
