"""A documentation-improvement ticket from a topic: the problem, its evidence, an outline and the page to change.

Everything is computed from what docgap already holds: the topic's questions and signals (`retrieval.coverage`),
the doc index, and the staff answers in the topic's threads. A ticket may be exported to an outside tracker, so
it names no account: accounts are counted, and the example questions are the stored (redacted) texts.

- **Examples**: the topic's five most central questions (closest to its centre, near-repeats skipped), as
  `clustering.service.diverse_examples` picks the topic's examples.
- **Closest pages**: each example is searched as the chat would search it (dense + BM25); pages are ranked by
  how many examples reach them and how close. Why a page falls short is said in figures: how many examples it is
  the top result for and how many of those it answers (answer confidence at or above the answer threshold,
  `retrieval.confidence`), how many of the examples' key words the page uses anywhere, and the ones it never
  mentions.
- **Target page**: a missing gap gets a new page (a path beside the closest page, named after the topic); a
  partial gap, a findability gap or a covered topic gets the closest page, which is the one to improve (or to
  make findable).
- **Outline**: `reports.ticket_outline` (extracted from staff answers offline; written by the LLM when one is
  configured).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from sqlmodel import Session, col, select

from clustering.labels import stop_words
from clustering.service import diverse_examples
from clustering.trends import growth, weekly_series
from core.models import Chunk, Document, Question, Topic
from core.runtime import Runtime
from reports.ticket_outline import Outline, account_names, mask_accounts, write_outline
from retrieval.confidence import answer_threshold, confidence, key_terms, measure, prefetch_sentences
from retrieval.index import Retrieval, retrieve
from retrieval.lexical import LexicalIndex, lexical_index

EXAMPLES = 5
PAGES = 3
SEARCH_K = 5
RECENT_WEEKS = 8
MISSING_WORDS = 4
"""Key words a page never mentions, named in why it falls short (the examples' most shared ones first)."""
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass
class PageEvidence:
    """An existing page close to the topic, and why it does not answer it."""

    url: str
    title: str
    section: str
    """The section of its passage closest to the examples."""
    similarity: float
    """Best cosine of one of its passages to an example question."""
    reached: int
    """Examples whose top five passages include this page."""
    top_for: int
    """Examples for which it is the first result."""
    answered: int
    """Of those, how many it answers (answer confidence at or above the threshold)."""
    best_confidence: float
    key_terms: int
    """Distinct key terms of the examples (question and stop words out, `retrieval.confidence.key_terms`)."""
    key_terms_held: int
    """How many of them the page holds anywhere."""
    missing_terms: list[str]
    why: str = ""


@dataclass
class TicketDraft:
    """A ticket's content, before it is stored (`usecases.tickets` keeps it as a `DocTicket`)."""

    topic_id: int
    title: str
    problem: str
    evidence: dict[str, Any]
    outline: list[str]
    outline_mode: str
    target_page: str
    target_title: str
    target_is_new: bool
    pages: list[PageEvidence] = field(default_factory=list)


def build_ticket(runtime: Runtime, topic_id: int) -> TicketDraft:
    """The ticket for one topic (LookupError if there is no such topic)."""
    with Session(runtime.engine) as session:
        topic = session.get(Topic, topic_id)
        if topic is None:
            raise LookupError(f"no topic #{topic_id}")
        rows = session.exec(
            select(Question.text, Question.created_at, Question.account_id, Question.staff_answer)
            .where(Question.topic_id == topic_id)
            .order_by(col(Question.topic_similarity).desc(), col(Question.id))
        ).all()
        session.expunge(topic)
    names = account_names(runtime)
    # Customers name their own company in questions; a ticket may leave for an outside tracker, so mask them.
    topic.label, topic.gap_reason = mask_accounts(topic.label, names), mask_accounts(topic.gap_reason or "", names)
    central = diverse_examples([r[0] for r in rows])[:EXAMPLES] or topic.examples[:EXAMPLES]
    examples = [mask_accounts(q, names) for q in central]
    pages = closest_pages(runtime, examples)
    new = topic.gap_kind == "missing" or not pages
    target, target_title = (new_page_path(topic.label, pages), topic.label) if new else (pages[0].url, pages[0].title)
    staff = [r[3] for r in rows if r[3]]
    outline = write_outline(runtime, topic, examples, staff, pages, target_title if new else target, new)
    evidence = _evidence(runtime, topic, rows, examples, pages, outline)
    return TicketDraft(
        topic_id=topic_id,
        title=f"Document: {' '.join(topic.label.split())}",
        problem=problem_paragraph(topic, evidence, pages, new),
        evidence=evidence,
        outline=outline.points,
        outline_mode=outline.mode,
        target_page=target,
        target_title=target_title,
        target_is_new=new,
        pages=pages,
    )


def _evidence(
    runtime: Runtime, topic: Topic, rows: list[Any], examples: list[str], pages: list[PageEvidence], outline: Outline
) -> dict[str, Any]:
    now = runtime.clock()
    since = now - timedelta(weeks=RECENT_WEEKS)
    series = weekly_series([r[1] for r in rows], now.date() - timedelta(weeks=26), now.date())
    dates = sorted(r[1] for r in rows)
    return {
        "volume": len(rows),
        "recent_questions": sum(1 for r in rows if r[1] >= since),
        "accounts": len({r[2] for r in rows if r[2]}),
        "recent_accounts": len({r[2] for r in rows if r[2] and r[1] >= since}),
        "growth": round(growth(series), 3),
        "first_seen": _iso(dates[0] if dates else topic.first_seen),
        "last_seen": _iso(dates[-1] if dates else topic.last_seen),
        "gap_kind": topic.gap_kind,
        "coverage": topic.coverage,
        "gap_reason": topic.gap_reason or "",
        "staff_answered": sum(1 for r in rows if r[3]),
        "examples": examples,
        "pages": [asdict(p) for p in pages],
        "outline_source": outline.source,
        "outline_note": outline.note,
    }


def _iso(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def closest_pages(runtime: Runtime, questions: list[str], limit: int = PAGES) -> list[PageEvidence]:
    """The pages the questions' searches reach most, each with figures on how far it is from answering them."""
    if not questions:
        return []
    vectors = runtime.embedder.embed(questions)
    searches = [retrieve(runtime, v, k=SEARCH_K, query_text=q) for q, v in zip(questions, vectors, strict=True)]
    if not any(s.passages for s in searches):
        return []
    prefetch_sentences(runtime, searches)
    scores = [
        confidence(runtime, measure(runtime, q, v, s)) if s.passages else 0.0
        for q, v, s in zip(questions, vectors, searches, strict=True)
    ]
    ranked = dict(list(_rank_pages(searches).items())[:limit])
    index = lexical_index(runtime)
    threshold = answer_threshold(runtime)
    with Session(runtime.engine) as session:
        docs = {d.id: d for d in session.exec(select(Document).where(col(Document.id).in_(list(ranked)))).all()}
        chunks = session.exec(select(Chunk.id, Chunk.document_id).where(col(Chunk.document_id).in_(list(ranked))))
        page_terms: dict[int, set[str]] = {d: set() for d in ranked}
        for chunk_id, doc_id in chunks.all():
            page_terms[doc_id] |= index.terms(chunk_id or 0)
    out = []
    for doc_id, hits in ranked.items():
        doc = docs.get(doc_id)
        if doc is None:
            continue
        top_for = [i for i, s in enumerate(searches) if s.passages and s.passages[0].document_id == doc_id]
        held, terms, missing = _term_gap(index, questions, page_terms[doc_id])
        best = max(hits.values(), key=lambda h: h[0])
        page = PageEvidence(
            url=doc.url,
            title=doc.title,
            section=_heading(best[1], doc.title),
            similarity=round(best[0], 3),
            reached=len(hits),
            top_for=len(top_for),
            answered=sum(1 for i in top_for if scores[i] >= threshold),
            best_confidence=round(max((scores[i] for i in top_for), default=0.0), 3),
            key_terms=terms,
            key_terms_held=held,
            missing_terms=missing,
        )
        page.why = why_short(page, len(questions), threshold)
        out.append(page)
    return out


def _heading(section: str, title: str) -> str:
    """A section path without the page title it starts with ("Title › Fees" → "Fees")."""
    parts = [p for p in section.split(" › ") if p.strip()]
    return " › ".join(parts[1:] if parts and parts[0].strip() == title.strip() else parts)


def _rank_pages(searches: list[Retrieval]) -> dict[int, dict[int, tuple[float, str]]]:
    """Page id → {example index: (best cosine, its section)}, pages reached by most examples (then closest) first."""
    pages: dict[int, dict[int, tuple[float, str]]] = {}
    for i, s in enumerate(searches):
        for p in s.passages:
            hits = pages.setdefault(p.document_id, {})
            if i not in hits or hits[i][0] < p.score:
                hits[i] = (p.score, p.section)
    order = sorted(pages, key=lambda d: (-len(pages[d]), -sum(h[0] for h in pages[d].values())))
    return {d: pages[d] for d in order}


def _term_gap(index: LexicalIndex, questions: list[str], page: set[str]) -> tuple[int, int, list[str]]:
    """How many of the questions' distinct key terms the page holds, of how many, and the words it lacks.

    Terms are stems; a missing one is shown as the word a customer wrote, the most shared (then rarest) first.
    """
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for q in questions:
        counts.update(key_terms(index, q))
        for word in _WORD.findall(q.lower()):
            for stem in index.analyze(word):
                surface.setdefault(stem, word)
    stop = set(stop_words())  # the index keeps a few ("cannot") that name no subject
    counts = Counter({t: n for t, n in counts.items() if surface.get(t, t) not in stop})
    lacking = sorted((t for t in counts if t not in page), key=lambda t: (-counts[t], -index.idf(t), t))
    return len(counts) - len(lacking), len(counts), [surface.get(t, t) for t in lacking[:MISSING_WORDS]]


def why_short(page: PageEvidence, asked: int, threshold: float) -> str:
    """Why a close page does not do the job, in figures a writer can check."""
    parts = []
    if page.top_for:
        parts.append(
            f"first result for {page.top_for} of {asked} example questions, answers {page.answered} of them "
            f"(answer confidence at most {page.best_confidence:.2f}; {threshold:.2f} needed)"
        )
    else:
        parts.append(f"reached by {page.reached} of {asked} example questions but never the first result")
    parts.append(f"uses {page.key_terms_held} of their {page.key_terms} key words")
    if page.missing_terms:
        parts.append("never mentions " + ", ".join(f"“{w}”" for w in page.missing_terms))
    text = "; ".join(parts)
    if page.top_for and page.answered == page.top_for:
        text += ": the content is there, customers do not find it"
    return text


def problem_paragraph(topic: Topic, e: dict[str, Any], pages: list[PageEvidence], new: bool) -> str:
    """The problem in one paragraph, from the figures (no account named: a ticket may go to an outside tracker)."""
    label = " ".join(topic.label.split())
    span = f"between {e['first_seen']} and {e['last_seen']}" if e["first_seen"] else "so far"
    accounts = f"{e['accounts']} account{'' if e['accounts'] == 1 else 's'}"
    s = [
        f"Customers asked {e['volume']} questions about “{label}” from {accounts} {span} "
        f"({e['recent_questions']} in the last {RECENT_WEEKS} weeks, {_trend(e['growth'])})."
    ]
    closest = f"“{pages[0].title}”" if pages else None
    kind = topic.gap_kind
    if kind == "missing":
        tail = f"; the closest, {closest}, does not." if closest else ": nothing in the doc index is close."
        s.append("The documentation has no page that answers it" + tail)
    elif kind == "partial":
        s.append(f"The docs touch on it without answering it: {closest or 'no page'} comes closest.")
    elif kind == "findability":
        s.append(f"The docs answer it ({closest or 'a page'}), but customers keep asking: they do not find the page.")
    else:
        s.append(f"The docs appear to cover it (coverage {topic.coverage or 0:.2f}); the questions keep coming.")
    if e["gap_reason"]:
        s.append(f"Why docgap flags it: {e['gap_reason'].rstrip('.')}.")
    if e["staff_answered"] and e.get("outline_source") == "staff answers":
        s.append(f"Staff answered {e['staff_answered']} of these questions by hand; the outline draws on them.")
    elif e["staff_answered"]:
        s.append(
            f"Staff answered {e['staff_answered']} of these questions by hand, but their replies only handle "
            "each case (nothing a page could say), so the outline lists the questions to answer."
        )
    s.append("Suggested: write a new page." if new else f"Suggested: improve {closest}.")
    return " ".join(s)


def _trend(g: float) -> str:
    if g >= 1:
        return "at least doubling"
    if g >= 0.2:
        return "rising"
    if g <= -0.2:
        return "falling"
    return "steady"


def new_page_path(label: str, pages: list[PageEvidence]) -> str:
    """A path for a new page: beside the closest page (same folder and extension), named after the topic."""
    stop = set(stop_words())
    words = [w for w in _WORD.findall(label.lower()) if w not in stop][:6] or ["new-page"]
    slug = "-".join(words)
    if not pages:
        return f"{slug}.md"
    near = pages[0].url.split("#")[0]
    ext = m.group(0) if (m := re.search(r"\.(md|mdx|markdown|html?|rst)$", near)) else ""
    if re.match(r"https?://", near):
        return urljoin(near, slug + ext)
    folder = near.rsplit("/", 1)[0] + "/" if "/" in near else ""
    return f"{folder}{slug}{ext or '.md'}"
