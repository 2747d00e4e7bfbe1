"""A bounded, thread-safe cache of text embeddings, for texts that recur across requests.

The offline answer ranks the sentences of the retrieved doc passages by similarity to the question. Those
sentences come from a few hundred passages and recur in every answer about the same subject; embedding them
afresh was 80 % of an answer's CPU time (`bench/answers.py`). Entries are keyed by the model's name and the text,
so a cached vector is exactly what the model would return; a re-indexed page only adds new keys.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from docgap.embedding import Embedder


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
