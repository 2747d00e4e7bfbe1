"""Answering a question from the docs, with numbered citations that are checked against what was retrieved.

Offline (no LLM configured) the answer is extractive: the retrieved sentences closest to the question, each
followed by the number of the passage it came from. With an LLM the model writes the answer from the numbered
passages; any citation number that does not point at a passage we gave it is removed. Below the confidence
threshold the answer says the docs do not cover the question, and the turn is recorded as a gap signal.

With an LLM, the model has a say in that verdict too: it reads the passages, which retrieval similarity cannot.
When it replies `NOT_COVERED` (the answer prompt asks for exactly that when the passages do not answer), or writes
an answer in which no citation survives the check, the answer is "not covered" whatever the retrieval score was,
its confidence is capped below the threshold, and the turn is a gap signal like any other abstention. An uncited
answer is never shown: it would be the model's own knowledge, not the docs'.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin

import numpy as np
from sqlmodel import Session, func, select

import prompts
from clustering.labels import keyword_label
from core.llm import LLMError
from core.models import Account, ChatTurn, Chunk, Topic
from core.runtime import Runtime
from ingest.redact import redact
from retrieval.centroids import TOPICS
from retrieval.confidence import answer_threshold, measure
from retrieval.confidence import confidence as score
from retrieval.embed_cache import QUERIES, SENTENCES
from retrieval.index import Passage, retrieve
from retrieval.sentences import sentences

logger = logging.getLogger(__name__)

NOT_COVERED = "The documentation does not seem to cover this question. The closest passages are listed below."
MODEL_ABSTAINS = "NOT_COVERED"
"""What the answer prompt tells the model to reply when the passages do not answer the question."""
_CITATION = re.compile(r"\[(\d{1,2})\]")
TOPIC_MATCH = 0.5
ANSWER_SENTENCES = 3
SAME_SENTENCE = 0.95
"""Cosine above which two candidate sentences say the same thing (identical ones give 1.0); only one is quoted."""


@dataclass
class Citation:
    n: int
    title: str
    url: str
    snippet: str
    score: float


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[Citation]
    confidence: float
    covered: bool
    topic_id: int | None
    topic_label: str | None
    mode: str
    dropped_citations: list[int] = field(default_factory=list)
    turn_id: int | None = None
    """The recorded `ChatTurn` (for thumbs feedback); None when not recorded."""

    def to_dict(self) -> dict:
        return asdict(self)


def _retrieve(runtime: Runtime, question: str, top_k: int) -> tuple[np.ndarray, list[Passage], Answer]:
    """Retrieval shared by whole and streamed answers: passages, confidence, topic; the answer text left empty.

    Confidence is the calibrated probability that the docs answer the question (`retrieval.confidence`), not a
    cosine: the same threshold then means the same on another model's scale and another set of docs.
    """
    qvec = QUERIES.embed(runtime.embedder, question)
    found = retrieve(runtime, qvec, k=top_k, query_text=question)
    passages = found.passages
    confidence = score(runtime, measure(runtime, question, qvec, found)) if passages else 0.0
    topic_id, topic_label = _nearest_topic(runtime, qvec)
    citations = [Citation(i + 1, p.title, p.url, _snippet(p.text), p.score) for i, p in enumerate(passages)]
    covered = confidence >= answer_threshold(runtime)
    return qvec, passages, Answer(question, "", citations, confidence, covered, topic_id, topic_label, "offline")


def answer_question(
    runtime: Runtime,
    question: str,
    account: str | None = None,
    top_k: int = 5,
    record: bool = True,
    asked_by: int | None = None,
) -> Answer:
    qvec, passages, result = _retrieve(runtime, question, top_k)
    if not result.covered:
        result.answer = NOT_COVERED
    elif runtime.llm is not None:
        try:
            raw = runtime.llm.chat(prompts.messages("answer", question=redact(question).text, passages=passages))
            _finish_llm_answer(result, raw, passages, answer_threshold(runtime))
        except LLMError:
            result.answer = _extractive(runtime, question, qvec, passages)
    else:
        result.answer = _extractive(runtime, question, qvec, passages)
    if record:
        _record(runtime, result, account, asked_by)
    return result


def stream_answer(
    runtime: Runtime, question: str, account: str | None = None, top_k: int = 5, asked_by: int | None = None
) -> tuple[Answer, Iterator[str]]:
    """The LLM's answer as it is written (for terminals and chat); the `Answer` is completed when drained.

    The stream is the model's text, held back only until it is clear the reply is not the abstention token (which
    is shown as `NOT_COVERED`'s sentence instead). If the endpoint fails before writing anything, the extractive
    answer is streamed in its place, as `answer_question` would fall back.
    """
    qvec, passages, result = _retrieve(runtime, question, top_k)

    def chunks() -> Iterator[str]:
        if result.covered:
            try:
                yield from _stream_llm(runtime, result, question, passages)
            except LLMError:
                if result.answer:
                    raise  # the model had started: its half-answer is on screen, no silent switch of writer
                result.answer = _extractive(runtime, question, qvec, passages)
                yield result.answer
        else:
            result.answer = NOT_COVERED
            yield NOT_COVERED
        _record(runtime, result, account, asked_by)

    return result, chunks()


def _stream_llm(runtime: Runtime, result: Answer, question: str, passages: list[Passage]) -> Iterator[str]:
    """Yield the model's text as it comes, except an abstention, which becomes `NOT_COVERED`'s sentence.

    `result.answer` holds what has been shown so far, so a caller knows whether the model had started. An answer
    whose citations all fail the check is followed by the not-covered sentence (it was on screen already). The
    pieces are the model's raw text (shown as text, never HTML); the checked answer (`_finish_llm_answer`) is
    what is stored and what the page renders once the stream ends.
    """
    assert runtime.llm is not None
    parts: list[str] = []
    held = True  # until the reply can no longer be the abstention token
    for piece in runtime.llm.stream(prompts.messages("answer", question=redact(question).text, passages=passages)):
        parts.append(piece)
        if not held:
            result.answer += piece
            yield piece
        elif not MODEL_ABSTAINS.startswith("".join(parts).strip()[: len(MODEL_ABSTAINS)]):
            held = False
            result.answer = "".join(parts)
            yield result.answer
    _finish_llm_answer(result, "".join(parts), passages, answer_threshold(runtime))
    if held or not result.covered:
        yield ("\n\n" if not held else "") + result.answer


def _abstains(raw: str) -> bool:
    """The model's reply is the abstention token (a trailing full stop tolerated)."""
    return raw.strip().strip(".").strip() == MODEL_ABSTAINS


def _finish_llm_answer(result: Answer, raw: str, passages: list[Passage], threshold: float) -> None:
    """Check the model's citations and let it overrule retrieval: no answer in the passages means not covered.

    What the model writes is held to the passages, whatever the question or a page told it: a link whose target
    is not a passage's URL or a link inside a passage loses its target (its text stays), HTML tags are removed,
    and a sentence left without a valid citation (an uncited claim, or one citing a passage that does not exist)
    is dropped.

    Confidence is then capped at half the threshold, so `covered` and `confidence >= threshold` never disagree
    for a consumer that filters on either.
    """
    result.mode = "llm"
    text, result.dropped_citations = _held_to_passages(raw, passages)
    if _abstains(raw) or not _CITATION.search(text):
        result.covered = False
        result.confidence = min(result.confidence, round(threshold / 2, 3))
        result.answer = NOT_COVERED
    else:
        result.answer = text


def _held_to_passages(raw: str, passages: list[Passage]) -> tuple[str, list[int]]:
    """The model's text with invented citations, foreign links, markup and uncited sentences removed."""
    text, dropped = check_citations(raw, len(passages))
    return tidy(cited_sentences(keep_links(strip_markup(text), passage_links(passages))[0], len(passages))), dropped


def check_citations(text: str, n_passages: int) -> tuple[str, list[int]]:
    """Remove citation markers that point at no retrieved passage; returns the text and the dropped numbers."""
    dropped: list[int] = []

    def keep(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if 1 <= n <= n_passages:
            return m.group(0)
        dropped.append(n)
        return ""

    return tidy(_CITATION.sub(keep, text)), dropped


def tidy(text: str) -> str:
    """Spaces left by removed markers and links closed up."""
    return re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


_URL = r"(?:https?://|www\.)[^\s<>()\[\]\"'`]*[^\s<>()\[\]\"'`.,;:!?]"
_LINKISH = re.compile(
    r"(?P<image>!?)\[(?P<text>[^\]]*)\]\(\s*<?(?P<inline>[^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)"  # [text](target)
    r"|^ {0,3}\[[^\]]+\]:\s*<?(?P<ref>[^\s>]+)>?.*$"  # [label]: target
    r"|<(?P<auto>(?:[a-z][a-z0-9+.-]{1,31}:|www\.)[^\s<>]*)>"  # <scheme:target>
    rf"|(?P<bare>{_URL})",
    re.I | re.M,
)
_TAG = re.compile(
    r"<(script|style)\b.*?(?:</\1\s*>|$)|<!--.*?(?:-->|$)|</?[a-z][a-z0-9-]*(?:\s[^<>]*)?/?>", re.I | re.S
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?:\s*\[\d{1,2}\])*\s+|\n+")


def _target(m: re.Match[str]) -> str:
    return next(m.group(g) for g in ("inline", "ref", "auto", "bare") if m.group(g) is not None)


def link_targets(text: str, base: str = "") -> set[str]:
    """The targets of the links and URLs in `text` (Markdown, autolinks, bare), also resolved against `base`."""
    found = {_target(m) for m in _LINKISH.finditer(text)}
    return {u for t in found for u in (t, urljoin(base, t) if base else t) if u}


def passage_links(passages: list[Passage]) -> set[str]:
    """Every link target an answer may hold: the passages' URLs and the links and URLs written inside them."""
    allowed: set[str] = set()
    for p in passages:
        allowed |= {p.url, p.url.split("#")[0], *link_targets(p.text, p.url)}
    return {a for a in allowed if a}


def keep_links(text: str, allowed: set[str]) -> tuple[str, list[str]]:
    """`text` with every link whose target is not in `allowed` removed (a Markdown link keeps its text).

    Covers inline links and images, reference definitions, autolinks (`<https://…>`) and bare URLs. Returns the
    text and the removed targets.
    """
    dropped: list[str] = []

    def check(m: re.Match[str]) -> str:
        target = _target(m)
        if target in allowed:
            return m.group(0)
        dropped.append(target)
        return m.group("text") if m.group("inline") is not None else ""

    return _LINKISH.sub(check, text), dropped


_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def strip_markup(text: str) -> str:
    """`text` without HTML tags, comments or invisible characters: LLM prose is Markdown, never page markup.

    Invisible characters (zero-width, bidi controls) go first, so none can hide a tag or a URL from the checks.
    """
    return _TAG.sub("", _INVISIBLE.sub("", text))


def cited_sentences(text: str, n_passages: int) -> str:
    """Only the sentences (or lines) that carry a citation of a passage we gave: an uncited claim is dropped."""
    pieces = [p for p in _SENTENCE_END.split(text) if p is not None]
    seps = [m.group(0) for m in _SENTENCE_END.finditer(text)]
    out = []
    for i, piece in enumerate(pieces):
        sep = seps[i] if i < len(seps) else ""
        cites = [int(n) for n in _CITATION.findall(piece + sep)]
        if any(1 <= n <= n_passages for n in cites):
            out.append(piece + sep)
    return "".join(out).strip()


def _extractive(runtime: Runtime, question: str, qvec: np.ndarray, passages: list[Passage]) -> str:
    candidates = [(n, j, s) for n, p in enumerate(passages[:3], start=1) for j, s in sentences(p.text)]
    if not candidates:
        return NOT_COVERED
    vectors = SENTENCES.embed(runtime.embedder, [c[2] for c in candidates])
    sims = vectors @ qvec
    # Passage rank matters as much as the sentence's own match: prefer sentences from the best passage.
    weights = sims - 0.03 * np.array([c[0] - 1 for c in candidates])
    chosen: list[int] = []
    for i in np.argsort(-weights):
        # Docs repeat themselves (a manual's quick guide and its chapter): one sentence is quoted once.
        if all(float(vectors[i] @ vectors[j]) < SAME_SENTENCE for j in chosen):
            chosen.append(int(i))
        if len(chosen) == ANSWER_SENTENCES:
            break
    chosen.sort(key=lambda i: (candidates[i][0], candidates[i][1]))
    return " ".join(
        f"{resolve_links(candidates[i][2].rstrip(), passages[candidates[i][0] - 1].url)} [{candidates[i][0]}]"
        for i in chosen
    )


_MD_LINK = re.compile(r"(\[[^\]]*\])\(([^)\s]+)\)")


def resolve_links(text: str, page_url: str) -> str:
    """Markdown link targets in a sentence lifted from a page, made relative to the docs root instead of the page.

    "see [Card delivery](card-delivery.md)" on `cards/pin-management.md` becomes `(cards/card-delivery.md)`, the
    same form as a citation's `url` (an absolute site URL stays absolute): out of its page, the sentence's link
    would otherwise point nowhere.
    """
    return _MD_LINK.sub(lambda m: f"{m.group(1)}({urljoin(page_url, m.group(2))})", text)


def warm_sentence_cache(runtime: Runtime, batch: int = 256) -> int:
    """Embed every passage's candidate sentences once, so early answers do not pay for it; returns how many.

    Sentences already cached cost nothing, so calling it again after the docs changed embeds only the new ones.
    """
    with Session(runtime.engine) as session:
        texts = session.exec(select(Chunk.text)).all()
    unique = list(dict.fromkeys(s for t in texts for _, s in sentences(t)))
    for i in range(0, len(unique), batch):
        SENTENCES.embed(runtime.embedder, unique[i : i + batch])
    return len(unique)


def keep_sentence_cache_warm(runtime: Runtime, stop: threading.Event, every_s: float = 60.0) -> None:
    """`docgap serve`'s background thread: warm the cache at start, and again whenever the docs change.

    Docs are imported by another process (the CLI, a worker's job, a sync) while the server runs; without this
    the first answers after each import embed those sentences themselves (a server started before its docs were
    imported spent 16 % of its time on it). The check is one small query a minute.
    """
    seen: tuple[int, int | None] | None = None
    while not stop.is_set():
        try:
            with Session(runtime.engine) as session:
                count, last = session.exec(select(func.count(), func.max(Chunk.id)).select_from(Chunk)).one()
            if (count, last) != seen:
                warm_sentence_cache(runtime)
                seen = (count, last)
        except Exception:  # a failed warm-up only costs speed: answers embed what they miss
            logger.exception("warming the sentence cache failed; answers embed their sentences meanwhile")
        stop.wait(every_s)


def _snippet(text: str, limit: int = 320) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def _nearest_topic(runtime: Runtime, qvec: np.ndarray) -> tuple[int | None, str | None]:
    """The question's topic, and a title for it that quotes no customer.

    An answer is built from the docs and may go straight back to a customer (the API's consumers): a topic titled
    by a real question (`label_source` "question", one customer's words) is named by its keywords here instead.
    """
    topic_id, label = TOPICS.nearest(runtime, qvec, TOPIC_MATCH)
    if topic_id is None:
        return topic_id, label
    with Session(runtime.engine) as session:
        topic = session.get(Topic, topic_id)
        if topic is None or topic.label_source != "question":
            return topic_id, label
        return topic_id, keyword_label(topic.keywords)


def _record(runtime: Runtime, answer: Answer, account: str | None, asked_by: int | None = None) -> None:
    with Session(runtime.engine) as session:
        account_id = None
        if account:
            acc = session.exec(select(Account).where(Account.name == account)).first()
            account_id = acc.id if acc else None
        # What was asked is customer text: kept redacted, like every stored question (the answer can quote it).
        turn = ChatTurn(
            asked_at=runtime.clock(),
            question=redact(answer.question).text,
            account_id=account_id,
            answer=redact(answer.answer).text,
            citations=[asdict(c) for c in answer.citations],
            confidence=answer.confidence,
            covered=answer.covered,
            mode=answer.mode,
            topic_id=answer.topic_id,
            user_id=asked_by,
        )
        session.add(turn)
        session.commit()
        answer.turn_id = turn.id


def record_feedback(runtime: Runtime, turn_id: int, helpful: bool) -> bool:
    """Store a thumbs-up (1) or thumbs-down (-1) on a recorded turn; False when there is no such turn.

    A thumbs-down counts against the turn's topic in the gap score (`retrieval.coverage`).
    """
    with Session(runtime.engine) as session:
        turn = session.get(ChatTurn, turn_id)
        if turn is None:
            return False
        turn.feedback = 1 if helpful else -1
        session.commit()
        return True
