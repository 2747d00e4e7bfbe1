"""A doc ticket's suggested outline, drawn from what staff already told customers in the topic's threads.

Offline the outline is extractive: the staff answers are cut into sentences, pleasantries, case work ("I've
escalated it to our payments team") and customer-specific ones (questions back, redaction placeholders, an
account's name) are dropped, and the sentences are ranked by
how many different answers say the same thing (cosine ≥ `SAME`), then by how central they are among all of them;
near-repeats of a sentence already picked are skipped. A point several staff members wrote is what the page must
say. With no staff answer to draw on, the outline lists the example questions the page must answer, and says so.

With an LLM configured, the model writes the outline from the same material (`prompts/doc_ticket.*.j2`, every
customer and staff text fenced as data). Its lines are held to plain text: markup and links are removed, a line
naming an account is dropped, and fewer than two usable lines means the offline outline is used instead, with a
note saying why. The outline says which mode wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session, select

import prompts
from core.llm import LLMError
from core.models import Account, Topic
from core.runtime import Runtime
from retrieval.answer import keep_links, strip_markup, tidy
from retrieval.sentences import sentences

if TYPE_CHECKING:
    from reports.tickets import PageEvidence

POINTS = 6
"""Outline points extracted offline."""
MAX_POINTS = 8
"""Most points kept from the LLM's outline."""
MAX_ANSWERS = 40
"""Staff answers read offline (the most central questions' first)."""
LLM_ANSWERS = 8
LLM_ANSWER_CHARS = 600
SAME = 0.8
"""Cosine at which two staff sentences say the same thing (MiniLM: paraphrases sit around 0.8–0.9)."""
MIN_WORDS = 4
POINT_CHARS = 200
_PLEASANTRY = re.compile(
    r"^(?:hi|hello|hey|dear|thanks|thank you|many thanks|cheers|regards|kind regards|best|sorry)\b"
    r"|let (?:us|me) know|hope (?:this|that) helps|happy to help|glad to help|any (?:other|further) questions"
    r"|reach out|get back to (?:you|us)|have a (?:good|great|nice)",
    re.I,
)
_CASE_WORK = re.compile(
    r"^(?:i|i['’]ve|i['’]m|i['’]ll|i['’]d|i have|i am|i will|we['’]ve|we have now|we['’]ll)\b"
    r"|\b(?:your (?:ticket|case|request)|this (?:ticket|case)|for you|your inbox)\b",
    re.I,
)
"""What the agent did on one case ("I've escalated it", "sent the details to your inbox"): no page says that."""
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|SECRET|IP|ACCOUNT)\]")
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+(.*\S)\s*$")
GAP_WORDS = {
    "missing": "missing: no page answers these questions",
    "partial": "partial: pages touch on the subject without answering the questions",
    "findability": "findability: a page answers it, but customers do not find it",
    None: "covered by the docs, yet customers keep asking",
}


@dataclass(frozen=True)
class Outline:
    points: list[str]
    mode: str
    """"llm" or "offline"."""
    source: str
    """"staff answers" or "example questions" (nothing staff wrote to draw on)."""
    note: str = ""
    """Why the offline outline stands in for the LLM's, when it does."""


def account_names(runtime: Runtime) -> list[str]:
    with Session(runtime.engine) as session:
        return [n for n in session.exec(select(Account.name)).all() if n]


def _name_pattern(name: str) -> str:
    return rf"(?<!\w){re.escape(name)}(?!\w)"


def names_any(text: str, names: Sequence[str]) -> bool:
    return any(re.search(_name_pattern(n), text, re.I) for n in names)


def mask_accounts(text: str, names: Sequence[str]) -> str:
    """`text` with every account name replaced by "[ACCOUNT]" (longest names first, so none is half replaced)."""
    for n in sorted(names, key=len, reverse=True):
        text = re.sub(_name_pattern(n), "[ACCOUNT]", text, flags=re.I)
    return text


def write_outline(
    runtime: Runtime,
    topic: Topic,
    examples: list[str],
    staff_answers: list[str],
    pages: list[PageEvidence],
    target: str,
    target_new: bool,
) -> Outline:
    """The LLM's outline when one is configured and its reply is usable, else the extractive one."""
    names = account_names(runtime)
    offline = extract_outline(runtime, staff_answers, examples, names)
    if runtime.llm is None:
        return offline
    # Answers that explain something first (canned case replies teach the model nothing), central ones first.
    explaining = sorted(staff_answers[:MAX_ANSWERS], key=lambda a: not _usable(a, names))
    answers = [_clip(a, LLM_ANSWER_CHARS) for a in explaining[:LLM_ANSWERS]]
    try:
        reply = runtime.llm.chat(
            prompts.messages("doc_ticket", label=topic.label, gap=GAP_WORDS.get(topic.gap_kind, GAP_WORDS[None]),
                             target=target, target_new=target_new, pages=pages, questions=examples, answers=answers)
        )  # fmt: skip
    except LLMError as exc:
        return replace(offline, note=f"the LLM failed ({exc}); extracted from staff answers instead")
    points = parse_outline(reply, names)
    if len(points) < 2:
        return replace(offline, note="the LLM's outline was unusable; extracted from staff answers instead")
    return Outline(points, "llm", offline.source)


def parse_outline(reply: str, names: Sequence[str] = ()) -> list[str]:
    """The reply's bullet lines as plain text: no markup, no links, none naming an account, at most `MAX_POINTS`."""
    lines = [line for line in strip_markup(reply).splitlines() if line.strip()]
    bullets = [m.group(1) for line in lines if (m := _BULLET.match(line))]
    out: list[str] = []
    for raw in bullets or lines:
        text = keep_links(raw, set())[0]
        text = tidy(re.sub(r"[*_`#>|]+|\]\(|[\[\]<>]", " ", text)).strip(" -–:")
        if len(text.split()) < 2 or names_any(text, names) or text in out:
            continue
        out.append(_clip(text, POINT_CHARS))
        if len(out) == MAX_POINTS:
            break
    return out


def extract_outline(
    runtime: Runtime, staff_answers: list[str], examples: list[str], names: Sequence[str] = ()
) -> Outline:
    """The sentences most staff answers share, deduplicated; the example questions when staff wrote nothing usable."""
    found = [(i, s) for i, a in enumerate(staff_answers[:MAX_ANSWERS]) for s in _usable(a, names)]
    if not found:
        points = [f"Answer: {' '.join(q.split())}" for q in examples if not names_any(q, names)]
        return Outline(points, "offline", "example questions")
    texts = [s for _, s in found]
    vectors = np.asarray(runtime.embedder.embed(texts), dtype=np.float32)
    sims = vectors @ vectors.T
    answer_of = np.asarray([i for i, _ in found])
    support = [len(set(answer_of[sims[j] >= SAME].tolist())) for j in range(len(found))]
    centrality = sims.mean(axis=1)
    order = sorted(range(len(found)), key=lambda j: (-support[j], -float(centrality[j]), j))
    picked: list[int] = []
    for j in order:
        if all(sims[j, k] < SAME for k in picked):
            picked.append(j)
        if len(picked) == POINTS:
            break
    return Outline([_clip(texts[j], POINT_CHARS) for j in picked], "offline", "staff answers")


def _usable(answer: str, names: Sequence[str]) -> list[str]:
    """An answer's sentences that could go on a page: not a pleasantry, question, placeholder or account name."""
    out = []
    for _, s in sentences(answer):
        s = " ".join(s.split())
        if s.endswith("?") or len(s.split()) < MIN_WORDS or _PLEASANTRY.search(s) or _PLACEHOLDER.search(s):
            continue
        if _CASE_WORK.search(s) or names_any(s, names):
            continue
        out.append(s)
    return out


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
