"""Per-question sentiment, and its weekly trend per account (an input to the risk flags and the briefs).

Scored with VADER (`vaderSentiment`, MIT licence): a lexicon-and-rules model that needs no weights or network
and is quick enough to score every question on each check. **It is English only**: its lexicon, negations and
boosters are English words, so a French or German question would score as neutral noise. Questions whose
detected language (`Question.language`) is not English, or was never detected, are therefore skipped and
counted, never scored. VADER was built for short social-media text; support questions are mostly neutral, so
what carries signal is a shift in an account's mean over weeks, not one question's score.

The texts are the stored ones, already cleaned and PII-redacted at ingest; follow-ups in the same thread are
scored with the question, since frustration often shows in "still not working" rather than in the first ask.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlmodel import Session, select

from clustering.trends import week_start
from core.models import Question
from core.runtime import Runtime

SCORED_LANGUAGES = frozenset({"en"})
"""VADER's lexicon is English; other languages are skipped and counted."""


@dataclass(frozen=True)
class ScoredQuestion:
    question_id: int
    created_at: datetime
    compound: float
    """VADER's compound score: -1 (most negative) … +1 (most positive), 0 neutral."""


@dataclass(frozen=True)
class AccountSentiment:
    """An account's scored questions over a period, and how many were skipped for their language."""

    scored: list[ScoredQuestion]
    skipped_language: int


@cache
def _analyzer():  # type: ignore[no-untyped-def]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_text(text: str) -> float:
    """VADER's compound score of one English text."""
    return float(_analyzer().polarity_scores(text)["compound"])


def question_text(text: str, follow_ups: list[str] | None) -> str:
    return "\n".join([text, *(follow_ups or [])])


def account_sentiment(runtime: Runtime, account_id: int, start: datetime, end: datetime) -> AccountSentiment:
    """The account's questions created in [start, end), English ones scored, the rest counted."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Question.id, Question.created_at, Question.language, Question.text, Question.follow_ups).where(
                Question.account_id == account_id, Question.created_at >= start, Question.created_at < end
            )
        ).all()
    scored, skipped = [], 0
    for qid, created, language, text, follow_ups in rows:
        if (language or "").lower() not in SCORED_LANGUAGES:
            skipped += 1
            continue
        scored.append(ScoredQuestion(qid, created, score_text(question_text(text, follow_ups))))  # type: ignore[arg-type]
    scored.sort(key=lambda s: (s.created_at, s.question_id))
    return AccountSentiment(scored, skipped)


def weekly_means(scored: list[ScoredQuestion], start: date, end: date) -> list[tuple[date, float, int]]:
    """(week start, mean compound, n) for every week from the week of `start` up to `end`; empty weeks are 0, 0."""
    by_week: dict[date, list[float]] = defaultdict(list)
    for s in scored:
        by_week[week_start(s.created_at)].append(s.compound)
    out = []
    w = week_start(start)
    while w < end:
        values = by_week.get(w, [])
        out.append((w, round(sum(values) / len(values), 4) if values else 0.0, len(values)))
        w += timedelta(days=7)
    return out


def weekly_sentiment(runtime: Runtime, account_id: int, start: date, end: date) -> list[tuple[date, float, int]]:
    """The account's mean VADER compound per ISO week (Monday) from the week of `start` until `end` (exclusive).

    Weeks without a scored question have n = 0 (and mean 0.0, which means "no data", not "neutral": read n).
    """
    t0 = datetime.combine(week_start(start), time())
    t1 = datetime.combine(end, time())
    return weekly_means(account_sentiment(runtime, account_id, t0, t1).scored, start, end)
