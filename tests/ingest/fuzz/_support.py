"""What the fuzz modules share: reproducible hypothesis settings, JSON strategies and the real store.

Every property runs derandomized (a fixed seed derived from the test) with no example database, so CI and a laptop
try the same inputs; examples per property are set per test so the whole folder stays within about a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from core.db import make_engine
from core.models import Question
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.store import store_records


def fuzz(examples: int) -> settings:
    """Settings for one property: `examples` inputs, the same ones on every run, no per-example deadline.

    No deadline because the first example pays for loading the language detector; hangs are caught instead by the
    explicit timing tests and pytest-timeout.
    """
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
"""Any JSON value (NaN and infinities included: Python's json reads and writes them)."""

question_text = st.text(max_size=60).map(lambda s: f"How do I export invoice {s}?")
"""A text every source stores: a request, never empty once cleaned, never an auto-reply whatever the suffix."""


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def assert_well_typed(item: QuestionRecord | IngestError) -> None:
    """What a reader yields is one of the two, with the types the store relies on (no list where text belongs)."""
    assert isinstance(item, QuestionRecord | IngestError), type(item)
    if isinstance(item, IngestError):
        assert isinstance(item.message, str) and item.message and isinstance(item.record, str)
        return
    assert isinstance(item.external_id, str) and item.external_id
    assert isinstance(item.text, str) and isinstance(item.created_at, datetime)
    for name in ("subject", "author", "channel", "thread_id", "priority", "staff_answer", "skip"):
        assert getattr(item, name) is None or isinstance(getattr(item, name), str), name
    assert all(isinstance(f, str) for f in item.follow_ups)
    assert all(isinstance(v, str) for v in item.hint.as_dict().values())


def store(items: Iterable[QuestionRecord | IngestError]) -> tuple[IngestResult, dict[str, Question]]:
    """Run the real store into a fresh in-memory SQLite database; the result and the questions it holds by id."""
    engine = make_engine("sqlite://")
    try:
        result = store_records(engine, items)
        with Session(engine) as s:
            return result, {q.external_id: q for q in s.exec(select(Question)).all()}
    finally:
        engine.dispose()
