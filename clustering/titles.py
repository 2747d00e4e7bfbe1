"""Topic titles: a short question-form title from the LLM when one is configured, else a real question.

A title is asked for only when a topic is new or its top keywords changed, so a daily incremental run does not
re-title every topic; a writer's rename (`label_locked`) is never overwritten. A reply that is not a short,
one-line question is rejected.

Offline (or when the reply is rejected) the title is the topic's most representative real question: the most
central of its examples (already redacted, and picked for being central) that is short, preferring one written
as a question. A writer reads "How do I change my PIN?" at a glance; "pin · change · reset" needs decoding. The
keywords stay beside it as secondary text, and a topic with no usable question falls back to them.

That real question is one customer's words. In one account's brief the title is that account's own most
representative question in the topic (`title_for_account`); an answer, which may go back to any customer, names
the topic by its keywords (`retrieval.answer`). One tenant's text never reaches another's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

import prompts
from clustering.labels import keyword_label
from core.llm import LLMError
from core.models import Account, Question, Topic
from core.runtime import Runtime

log = logging.getLogger("docgap.titles")
MAX_TITLE_WORDS = 16
BASIS = 3
"""How many top keywords a title is tied to: it is re-asked when these change."""


def write_titles(topics: Sequence[Topic]) -> None:
    """Offline titles, inside the transaction that changed the topics: no model is asked here.

    A topic keeps a model's title while its keywords are those it was asked on; the model is asked afterwards,
    outside any write transaction (`retitle`), so a slow endpoint never holds the database's write lock.
    """
    for t in topics:
        if t.label_locked or (t.label_source == "llm" and t.label_basis == t.keywords[:BASIS] and t.label):
            continue
        question = representative_question(t.examples)
        if question:
            t.label, t.label_source, t.label_basis = question, "question", []
        else:
            t.label, t.label_source, t.label_basis = keyword_label(t.keywords), "keywords", []


@dataclass(frozen=True)
class _Wanted:
    id: int
    keywords: list[str]
    examples: list[str]


def retitle(runtime: Runtime, only: Collection[int] | None = None) -> int:
    """Ask the LLM for a title for each topic (of `only`, when given) that is new or whose top keywords changed.

    Returns how many got one.

    The topics are read, the session closed, the model asked, and the titles written in one short transaction
    that re-checks each topic: one renamed by a writer or re-clustered meanwhile keeps what it has now.
    """
    if runtime.llm is None:
        return 0
    with Session(runtime.engine) as session:
        wanted = [
            _Wanted(t.id, list(t.keywords), list(t.examples))
            for t in session.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all()
            if t.id is not None
            and (only is None or t.id in only)
            and not t.label_locked
            and not (t.label_source == "llm" and t.label_basis == t.keywords[:BASIS])
        ]
    titles = {w.id: (title, w.keywords[:BASIS]) for w in wanted if (title := _ask(runtime, w))}
    if not titles:
        return 0
    with Session(runtime.engine) as session:
        written = 0
        for topic_id, (title, basis) in titles.items():
            t = session.get(Topic, topic_id)
            if t is not None and t.active and not t.label_locked and t.keywords[:BASIS] == basis:
                t.label, t.label_source, t.label_basis = title, "llm", basis
                written += 1
        session.commit()
    return written


ACCOUNT_EXAMPLES = 20
"""The account's questions nearest the topic's centre that its own title is chosen from."""


def title_for_account(session: Session, topic: Topic, account_id: int | None) -> str:
    """The topic's title as shown on one account's behalf: no other customer's question.

    An LLM title, a writer's rename and a keyword label generalise over customers and are shown as they are. A
    title that is a real question ("question") is replaced by the account's own most representative question in
    the topic, or by the keyword label when the account has none there. Without an account (internal pages, an
    API call that names none) the stored title stands.
    """
    if topic.label_source != "question" or account_id is None:
        return topic.label
    own = session.exec(
        select(Question.text)
        .where(Question.topic_id == topic.id, Question.account_id == account_id)
        .order_by(col(Question.topic_similarity).desc(), col(Question.id))
        .limit(ACCOUNT_EXAMPLES)
    ).all()
    return representative_question(list(own)) or keyword_label(topic.keywords)


_ASKS = re.compile(
    r"[?¿？؟]\s*$|^\s*(how|why|what|when|where|which|who|can|could|is|are|do|does|did|will|should)\b", re.I
)
TITLE_WORDS = 12
"""Longest example used as it is; a longer central question is cut at a word boundary with an ellipsis."""


def representative_question(examples: Sequence[str]) -> str | None:
    """The first (most central) short example written as a question, else the first short one, else the first cut.

    Examples are ordered by closeness to the topic's centre (`clustering.service.diverse_examples`).
    """
    lines = [" ".join(e.split()) for e in examples if e and e.strip()]
    if not lines:
        return None
    short = [e for e in lines if len(e.split()) <= TITLE_WORDS]
    asked = [e for e in short if _ASKS.search(e)]
    if asked or short:
        return (asked or short)[0]
    return " ".join(lines[0].split()[:TITLE_WORDS]) + " …"


def _ask(runtime: Runtime, t: _Wanted) -> str | None:
    assert runtime.llm is not None
    try:
        reply = runtime.llm.chat(prompts.messages("topic_title", keywords=t.keywords, examples=t.examples[:5]))
    except LLMError as exc:
        log.warning("topic %s: no LLM title (%s); keeping the keyword label", t.id, exc)
        return None
    title = clean_title(reply)
    if title and _names_an_account(runtime, title):
        return None  # a title generalises over customers; one naming an account was told to, or leaks
    return title


def _names_an_account(runtime: Runtime, title: str) -> bool:
    with Session(runtime.engine) as session:
        names = session.exec(select(Account.name)).all()
    low = title.casefold()
    return any(re.search(rf"\b{re.escape(n.casefold())}\b", low) for n in names)


_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_MARKUP = re.compile(
    r"[<>`“”\"]|\]\(|\[\d{1,2}\]|\b(?:https?|ftp|javascript|data|mailto):|\bwww\.|\S\.(?:com|net|org|io|example)\b",
    re.I,
)
"""What a title never holds: HTML, Markdown links or code, quotes, citation markers, URLs (an injected reply's)."""


def clean_title(reply: str) -> str | None:
    """The first line without quotes or a "Title:" prefix, if it is a short question in plain words; else None.

    A title is shown on every page and in reports: one carrying HTML, a link or a URL is refused, not cleaned up,
    since the model that wrote it was following someone else's instructions.
    """
    line = _INVISIBLE.sub("", reply).strip().splitlines()[0] if reply.strip() else ""
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.I).strip().strip("\"'“”*# ").strip()
    if not line.endswith("?") or not 2 <= len(line.split()) <= MAX_TITLE_WORDS or _MARKUP.search(line):
        return None
    return line
