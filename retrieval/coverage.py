"""How well the docs answer each topic, what kind of gap it is, why, and how urgent (the gap score).

Coverage is the mean, over a topic's most central questions, of their answer confidence: the calibrated
probability that the docs answer the question (`retrieval.confidence`, the same score the answer API shows), so
the gap board and the chat agree on what the docs cover and neither hangs on one model's cosine scale. Each central
question is searched with its text (dense + BM25) as a chat question would be. The thresholds come from the
embedding model's profile (`core.profiles`) unless `DOCGAP_COVERAGE_COVERED` / `DOCGAP_COVERAGE_MISSING` are set;
`python -m bench.gaps --sweep` shows precision and recall of the flags per threshold.

Why the central questions' mean and not something finer (measured with `bench/gaps.py`, five pages removed, and on
the full demo as the tuning split, when coverage was the best passage's cosine): the mean over all members, their
median, a trimmed mean, fused-search scores, and "partial when ≥ 10–33 % of members score low" all traced the same
precision/recall curve or a worse one. Removed intents that retrieval misses reach surviving passages that are
related but do not answer, which only the LLM judge can tell apart. Gap reasons name the least covered questions.

Gap kinds (thresholds from the profile; MiniLM's in its `coverage_covered` / `coverage_missing`):
- **missing**: coverage < missing (nothing relevant); **partial**: missing ≤ coverage < covered (related, not
  answered).
- **findability**: the docs answer it (coverage ≥ covered) but customers keep asking: recent volume (last 8 weeks)
  in the top quartile of all topics, from ≥ 3 distinct accounts, and rising (growth ≥ 1, i.e. the last four
  weeks' weekly rate at least doubled against the weeks before). Deliberately strict (`FindabilityRule`): on the
  demo it flags 3 of 82 topics; with growth ≥ 0.5 it flagged 5 and pushed the demo's false-alarm rate on
  documented intents from 14 % to 31 %, against 22 % now (every flag on a documented intent counts as false there).
- With an LLM configured, a judge reads the topic's central questions and their best passages
  (`prompts/coverage_judge.*.j2`) and answers covered / partial / not_covered; its verdict overrides the
  similarity kind (a "covered" verdict may still be findability) and its "missing" sentence becomes the topic's
  `gap_reason`. A failed call or unparsable reply falls back to the similarity method, and says so.

Gap score (0–100), stored with its evidence in `Topic.signals` so the board can show why:
    uncovered = 1 − clip((coverage − missing/2) / ((covered + 1)/2 − missing/2), 0, 1)   (judge: 0 / 0.6 / 1)
    chat      = bad / (turns + 2)   bad = recent chat turns on the topic that abstained (not covered) or got a
                                    thumbs-down; the +2 is a prior of two good turns so one abstention is not 50 %
    staff     = max(0, staff_share − median staff_share over active topics)   hand-written staff answers above
                                    what is normal for this instance (a team that answers everything is no signal)
    need      = min(1, uncovered + 0.5·chat + 0.5·staff), at least 0.2 for a findability gap
    demand    = 0.5·recent/max_recent + 0.35·accounts/max_accounts + 0.15·clip(growth, 0, 1)
    score     = 100 · need · demand
so a busy, spreading, undocumented topic rises to the top, and a covered topic rises only on evidence that its
answers do not land (abstentions, thumbs-down, staff answering by hand).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

import prompts
from clustering.trends import growth, weekly_series
from core.llm import LLMClient, LLMError
from core.models import ChatTurn, Question, Topic
from core.runtime import Runtime
from core.vectors import QUESTIONS
from retrieval.answer import keep_links, passage_links, strip_markup, tidy
from retrieval.confidence import confidence, measure, prefetch_sentences, profile
from retrieval.index import Passage, retrieve

REPRESENTATIVES = 8
RECENT_WEEKS = 8
JUDGE_PASSAGES = 6
"""Passages shown to the LLM judge: the best distinct ones over the topic's representative questions."""
NO_JUDGE = "retrieval confidence only (no LLM judge)"
JUDGE_FAILED = "retrieval confidence only (the LLM judge failed or gave no usable verdict)"
JUDGE_OVERRULED = "the LLM judge said covered, but no passage is close enough to its questions to show it"
VERDICT_KIND: dict[str, str | None] = {"covered": None, "partial": "partial", "not_covered": "missing"}
VERDICT_UNCOVERED = {"covered": 0.0, "partial": 0.6, "not_covered": 1.0}
FINDABILITY_NEED = 0.2
WEAKEST_SHOWN = 2
"""Least-covered example questions a missing/partial reason names, so a writer sees what the docs do not answer."""


@dataclass(frozen=True)
class CoverageThresholds:
    """Where a topic's coverage turns into a gap kind: the model profile's, or `DOCGAP_COVERAGE_*` when set."""

    covered: float
    """At or above: the docs answer it."""
    missing: float
    """Below: nothing relevant in the docs. In between: partial."""

    def __post_init__(self) -> None:
        if self.missing > self.covered:
            raise ValueError(
                f"DOCGAP_COVERAGE_MISSING ({self.missing}) must not exceed DOCGAP_COVERAGE_COVERED ({self.covered})"
            )

    @classmethod
    def of(cls, runtime: Runtime) -> CoverageThresholds:
        s, p = runtime.settings, profile(runtime)
        covered = p.coverage_covered if s.coverage_covered is None else s.coverage_covered
        # The profile's "missing" gives way to a lower covered setting; a user's own two settings are checked.
        missing = min(p.coverage_missing, covered) if s.coverage_missing is None else s.coverage_missing
        return cls(covered=covered, missing=missing)


@dataclass(frozen=True)
class FindabilityRule:
    """When a covered topic is still a gap: customers keep asking although the docs answer it."""

    volume_quantile: float = 0.75
    min_accounts: int = 3
    min_growth: float = 1.0

    def holds(self, recent: int, accounts: int, g: float, volume_cut: float) -> bool:
        return recent > 0 and recent >= volume_cut and accounts >= self.min_accounts and g >= self.min_growth


@dataclass(frozen=True)
class Verdict:
    verdict: str
    missing: str


@dataclass(frozen=True)
class _Scale:
    """Instance-wide reference points every topic is scored against."""

    thresholds: CoverageThresholds
    rule: FindabilityRule
    volume_cut: float
    staff_base: float
    max_recent: int
    max_accounts: int
    judged: bool
    """An LLM judge was configured (a missing verdict then means it failed, not that there is none)."""


@dataclass
class _Evidence:
    """What one topic's assessment is built from (retrieval, demand, chat and staff signals)."""

    coverage: float
    doc_urls: list[str]
    passages: list[Passage]
    questions: list[str]
    recent: int
    accounts: int
    growth: float
    staff_share: float
    chat: dict[str, int] = field(default_factory=dict)
    weakest: list[tuple[str, float]] = field(default_factory=list)
    """Central questions with the lowest answer confidence, lowest first: named in a gap's reason."""


def gap_kind(coverage: float, t: CoverageThresholds) -> str | None:
    if coverage < t.missing:
        return "missing"
    if coverage < t.covered:
        return "partial"
    return None


def uncovered_from_coverage(coverage: float, t: CoverageThresholds) -> float:
    """How much of a content gap a coverage is, 1 (nothing) to 0 (answered), rising through partial and missing."""
    low, high = t.missing / 2, (t.covered + 1) / 2
    return 1.0 - min(max((coverage - low) / (high - low), 0.0), 1.0)


def chat_share(chat: dict[str, int]) -> float:
    """Smoothed share of recent chat turns that abstained or got a thumbs-down (two good turns as prior)."""
    return chat.get("unanswered", 0) / (chat.get("turns", 0) + 2)


def assess_topics(
    runtime: Runtime, thresholds: CoverageThresholds | None = None, rule: FindabilityRule | None = None
) -> int:
    """Compute coverage, gap kind and reason, signals, linked docs and gap score for every active topic.

    Returns the number of topics assessed.
    """
    t, rule = thresholds or CoverageThresholds.of(runtime), rule or FindabilityRule()
    now = runtime.clock()
    with Session(runtime.engine, expire_on_commit=False) as session:
        topics = session.exec(select(Topic).where(col(Topic.active).is_(True))).all()
        members = _members(session)
        chat = _chat_signals(session, now - timedelta(weeks=RECENT_WEEKS))
        evidence = {
            tp.id: _evidence(runtime, members.get(tp.id or -1, []), chat.get(tp.id or -1, {}), now) for tp in topics
        }
        scale = _scale(list(evidence.values()), t, rule, runtime.llm is not None)
        keys = {tp.id: _judge_key(evidence[tp.id]) if runtime.llm is not None else "" for tp in topics}
        # Every judge call before the first change, so no write is pending while the model is asked.
        verdicts = {tp.id: _cached_verdict(tp, keys[tp.id]) or _judge(runtime.llm, evidence[tp.id]) for tp in topics}
        for topic in topics:
            e, key, verdict = evidence[topic.id], keys[topic.id], verdicts[topic.id]
            _apply(topic, e, verdict, scale)
            if verdict is not None:
                topic.signals = {**topic.signals, "judge_key": key, "judge_missing": verdict.missing}
        session.commit()
        return len(topics)


def _scale(evidence: list[_Evidence], t: CoverageThresholds, rule: FindabilityRule, judged: bool) -> _Scale:
    recent = [e.recent for e in evidence] or [0]
    return _Scale(
        thresholds=t,
        rule=rule,
        volume_cut=float(np.quantile(recent, rule.volume_quantile)),
        staff_base=median([e.staff_share for e in evidence]) if evidence else 0.0,
        max_recent=max(recent) or 1,
        max_accounts=max((e.accounts for e in evidence), default=0) or 1,
        judged=judged,
    )


def _members(session: Session) -> dict[int, list[Any]]:
    """Each topic's questions as (id, created_at, account_id, similarity, text, has staff answer) rows."""
    rows = session.exec(
        select(
            Question.id,
            Question.topic_id,
            Question.created_at,
            Question.account_id,
            Question.topic_similarity,
            Question.text,
            col(Question.staff_answer).is_not(None),
        ).where(col(Question.topic_id).is_not(None))
    ).all()
    by_topic: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        by_topic[r[1]].append((r[0], r[2], r[3], r[4], r[5], bool(r[6])))
    return by_topic


def _chat_signals(session: Session, since: datetime) -> dict[int, dict[str, int]]:
    """Recent chat/API turns per topic: how many, how many abstained, how many got a thumbs-down."""
    turns = session.exec(
        select(ChatTurn.topic_id, ChatTurn.covered, ChatTurn.feedback).where(
            col(ChatTurn.topic_id).is_not(None), col(ChatTurn.asked_at) >= since
        )
    ).all()
    out: dict[int, dict[str, int]] = defaultdict(
        lambda: {"turns": 0, "abstained": 0, "thumbs_down": 0, "unanswered": 0}
    )
    for topic_id, covered, feedback in turns:
        c = out[topic_id]
        c["turns"] += 1
        c["abstained"] += int(not covered)
        c["thumbs_down"] += int(feedback == -1)
        c["unanswered"] += int(not covered or feedback == -1)
    return dict(out)


def _evidence(runtime: Runtime, members: list[Any], chat: dict[str, int], now: datetime) -> _Evidence:
    central = sorted(members, key=lambda r: -(r[3] or 0))[:REPRESENTATIVES]
    vectors = runtime.vectors.get_vectors(QUESTIONS, [str(r[0]) for r in central]) if central else []
    best: list[float] = []
    per_question: list[tuple[str, float]] = []
    urls: Counter[str] = Counter()
    found: dict[int, Passage] = {}
    searches = [retrieve(runtime, v, k=3, query_text=row[4]) for row, v in zip(central, vectors, strict=True)]
    prefetch_sentences(runtime, searches)
    for row, v, searched in zip(central, vectors, searches, strict=True):
        passages = searched.passages
        if passages:
            conf = confidence(runtime, measure(runtime, row[4], v, searched))
            best.append(conf)
            per_question.append((row[4], conf))
            urls[passages[0].url.split("#")[0]] += 1
        for p in passages:
            if p.chunk_id not in found or found[p.chunk_id].score < p.score:
                found[p.chunk_id] = p
    series = weekly_series([r[1] for r in members], now.date() - timedelta(weeks=26), now.date())
    since = now - timedelta(weeks=RECENT_WEEKS)
    return _Evidence(
        coverage=round(float(np.mean(best)), 4) if best else 0.0,
        doc_urls=[u for u, _ in urls.most_common(3)],
        passages=sorted(found.values(), key=lambda p: -p.score)[:JUDGE_PASSAGES],
        questions=[r[4] for r in central],
        recent=sum(c for _, c in series[-RECENT_WEEKS:]),
        accounts=len({r[2] for r in members if r[2] and r[1] >= since}),
        growth=round(growth(series), 3),
        staff_share=round(sum(r[5] for r in members) / len(members), 3) if members else 0.0,
        chat=chat,
        weakest=sorted(per_question, key=lambda qs: qs[1])[:WEAKEST_SHOWN],
    )


def _apply(topic: Topic, e: _Evidence, verdict: Verdict | None, scale: _Scale) -> None:
    """Set kind, reason, signals and score on the topic from its evidence and the judge's verdict (if any)."""
    t = scale.thresholds
    topic.coverage, topic.doc_urls = e.coverage, e.doc_urls
    method = "" if verdict is not None else (JUDGE_FAILED if scale.judged else NO_JUDGE)
    overruled = verdict is not None and verdict.verdict == "covered" and gap_kind(e.coverage, t) == "missing"
    if overruled:
        # "Covered" needs evidence: with no passage close to the questions, the verdict is more likely obeyed
        # (a question telling the judge what to say) than read, so the similarity kind stands.
        kind, uncovered = "missing", uncovered_from_coverage(e.coverage, t)
        reason = f"{_similarity_reason(kind, e)}; {JUDGE_OVERRULED}"
    elif verdict is not None:
        kind, uncovered = VERDICT_KIND[verdict.verdict], VERDICT_UNCOVERED[verdict.verdict]
        reason = verdict.missing or f"LLM judge: {verdict.verdict.replace('_', ' ')}"
    else:
        kind, uncovered = gap_kind(e.coverage, t), uncovered_from_coverage(e.coverage, t)
        reason = f"{_similarity_reason(kind, e)}; {method}"
    if kind is None and scale.rule.holds(e.recent, e.accounts, e.growth, scale.volume_cut):
        kind = "findability"
        reason = (
            f"the docs answer it (coverage {e.coverage:.2f}) but {e.recent} questions from {e.accounts} accounts "
            f"in {RECENT_WEEKS} weeks, rising: customers do not find the page" + (f"; {method}" if method else "")
        )
    chat, staff = chat_share(e.chat), max(0.0, e.staff_share - scale.staff_base)
    need = min(1.0, uncovered + 0.5 * chat + 0.5 * staff)
    if kind == "findability":
        need = max(need, FINDABILITY_NEED)
    growth_part = 0.15 * min(max(e.growth, 0.0), 1.0)
    demand = 0.5 * e.recent / scale.max_recent + 0.35 * e.accounts / scale.max_accounts + growth_part
    topic.gap_kind, topic.gap_reason = kind, reason
    topic.gap_score = round(100 * need * demand, 1)
    topic.signals = {
        "coverage": e.coverage,
        "recent_questions": e.recent,
        "recent_accounts": e.accounts,
        "growth": e.growth,
        "chat_turns": e.chat.get("turns", 0),
        "chat_abstained": e.chat.get("abstained", 0),
        "chat_thumbs_down": e.chat.get("thumbs_down", 0),
        "chat_unanswered_share": round(chat, 3),
        "staff_answer_share": e.staff_share,
        "staff_answer_baseline": round(scale.staff_base, 3),
        "judge": verdict.verdict if verdict is not None else ("failed" if scale.judged else "none"),
        "judge_overruled": overruled,
        "need": round(need, 3),
        "demand": round(demand, 3),
    }


def _similarity_reason(kind: str | None, e: _Evidence) -> str:
    what = {
        "missing": f"no passage close to its questions (coverage {e.coverage:.2f})",
        "partial": f"related passages, not close enough to answer (coverage {e.coverage:.2f})",
        None: f"passages close to its questions (coverage {e.coverage:.2f})",
    }[kind]
    if kind is None or not e.weakest:
        return what
    examples = ", ".join(f"“{_clip(q)}” ({score:.2f})" for q, score in e.weakest)
    return f"{what}; least covered: {examples}"


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _judge_key(e: _Evidence) -> str:
    """What the judge sees (questions and passages); the same key means the same question to the LLM."""
    seen = "\n".join([*e.questions, *(f"{p.url}\n{p.text}" for p in e.passages)])
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def _cached_verdict(topic: Topic, key: str) -> Verdict | None:
    """The verdict from the last run if the judge would see exactly the same thing (an LLM call saved)."""
    sig = topic.signals or {}
    if key and sig.get("judge_key") == key and sig.get("judge") in VERDICT_KIND:
        return Verdict(sig["judge"], sig.get("judge_missing", ""))
    return None


def _judge(llm: LLMClient | None, e: _Evidence) -> Verdict | None:
    """Ask the LLM whether the passages answer the topic's questions; None when it fails or replies garbage."""
    if llm is None or not e.questions:
        return None
    try:
        reply = llm.chat(prompts.messages("coverage_judge", questions=e.questions, passages=e.passages))
    except LLMError:
        return None
    verdict = parse_verdict(reply)
    if verdict is None:
        return None
    # The "missing" sentence becomes the gap reason on the board: no markup, no link the passages do not hold, and
    # none at all with a "covered" verdict (the prompt asks for it empty then: text there was not asked for).
    if verdict.verdict == "covered":
        return Verdict(verdict.verdict, "")
    return Verdict(verdict.verdict, tidy(keep_links(strip_markup(verdict.missing), passage_links(e.passages))[0]))


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_verdict(reply: str) -> Verdict | None:
    """The judge's JSON verdict, tolerating code fences and chatter around the object; None if unusable."""
    m = _JSON_OBJECT.search(reply)
    if not m:
        return None
    try:
        data = json.loads(m.group(0), strict=False)  # models put raw newlines inside strings
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    verdict = str(data.get("verdict", "")).strip().lower().replace(" ", "_").replace("-", "_")
    if verdict not in VERDICT_KIND:
        return None
    missing = data.get("missing") or ""
    return Verdict(verdict, " ".join(str(missing).split())[:500])
