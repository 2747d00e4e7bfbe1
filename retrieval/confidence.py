"""Answer confidence: how likely the docs answer a question, from several retrieval signals in one calibrated score.

One flat cosine threshold (the best passage's similarity ≥ 0.45 after a linear map) was tuned on the demo's
BANKING77 questions and its help center; on a real product manual with the answering sections removed it told
"not covered" from "covered" no better than chance would suggest from the demo (AUROC 0.60 there, issue 9). What
moves when the answer is there is not one number but several, each weak alone and on its own scale:

- `cosine`: the best passage's cosine (dense side), and `sentence`: the best single sentence's cosine among the
  top passages (an answer is usually one sentence, a passage also carries its neighbours);
- `terms`: how much of the question's key terms (stop words out, IDF-weighted) the best of the top passages
  holds; words no passage has weigh the most, so "Bixby" asked of docs that never name it counts against;
- `bm25`: the best BM25 score over its per-query upper bound (0–1, comparable between questions);
- `agreement`: how many of three views (dense top passage, BM25 top passage, best sentence) sit on the page the
  fused ranking puts first: when the docs answer, the views tend to meet on the page that does;
- `pages`: how many distinct pages the top five passages come from (one page answering draws the list together);
- `margin`: the best cosine minus the best cosine on any other page.

`retrieval.index.retrieve` already has both sides' candidates, so the signals cost set look-ups, arithmetic and
the top passages' sentence vectors (cached, `retrieval.embed_cache.SENTENCES`; the offline answer reads the same
ones). The model's profile (`core.profiles`) holds the logistic calibration that turns them into a probability
and the thresholds on it; `python -m bench.abstention` measures it on leave-gold-out sets and `--fit` refits it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from core.profiles import ModelProfile, load_profile
from core.runtime import Runtime
from ingest.redact import PLACEHOLDERS, redact
from retrieval.embed_cache import SENTENCES
from retrieval.index import Passage, Retrieval
from retrieval.lexical import Analyzer, LexicalIndex, lexical_index
from retrieval.sentences import sentences

SIGNAL_PASSAGES = 3
"""Top fused passages whose sentences and terms are read (the offline answer quotes from the same three)."""
TOP_PAGES = 5
"""How many fused passages `pages` counts the distinct pages of (what an answer lists)."""
_PLACEHOLDERS = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
_DIGIT = re.compile(r"\d")
# Question words that are not stop words for BM25 but carry no subject ("how do I …", "what is …").
_NOT_KEY = frozenset(
    "a about after again all also am an and any are as at be been before being both but by can could did do does "
    "doing done each either else ever every few for from get gets getting got had has have having he her here hers "
    "how i if in into is it its just let like may me might mine more most much must my need no nor not now of off "
    "on once one only or other our out over own please possible same shall she should so some still such than "
    "that the their them then there these they this those through to too tried try trying under until up upon us "
    "use using very want wants was way we well were what when where whether which while who whom whose why will "
    "with would yes yet you your yours".split()
)


@dataclass(frozen=True)
class Signals:
    cosine: float
    sentence: float
    terms: float
    bm25: float
    agreement: float
    pages: float
    margin: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


NO_SIGNALS = Signals(cosine=0.0, sentence=0.0, terms=0.0, bm25=0.0, agreement=0.0, pages=5.0, margin=0.0)
"""What an empty index gives: nothing found, nothing agrees."""


def profile(runtime: Runtime) -> ModelProfile:
    """The embedding model's profile (calibration and thresholds), see `core.profiles`."""
    return load_profile(runtime.embedder.name, runtime.settings.data_dir)


def answer_threshold(runtime: Runtime) -> float:
    """`DOCGAP_ANSWER_MIN_CONFIDENCE` when set, else the model profile's threshold."""
    value = runtime.settings.answer_min_confidence
    return profile(runtime).answer_min_confidence if value is None else value


@lru_cache(maxsize=1)
def _not_key_stems() -> frozenset[str]:
    """The question words as the index analyses them (stemmed, by the same analyser), once per process."""
    return frozenset(Analyzer()(" ".join(_NOT_KEY)))


def key_terms(index: LexicalIndex, question: str) -> list[str]:
    """The question's analysed words that name a subject, once each.

    Left out: question words and stop words, and what a customer pastes rather than asks about (card numbers,
    e-mail addresses and other values redaction replaces, order numbers, amounts: any token with a digit). No
    passage has those, and as the rarest words they would outweigh the subject.
    """
    stems = _not_key_stems()
    text = _PLACEHOLDERS.sub(" ", redact(question).text)
    return [t for t in dict.fromkeys(index.analyze(text)) if t not in stems and not _DIGIT.search(t)]


def measure(runtime: Runtime, question: str, qvec: np.ndarray, found: Retrieval) -> Signals:
    """The signals of one search (`retrieve` with the question's text) for the calibrated score."""
    if not found.passages:
        return NO_SIGNALS
    index = lexical_index(runtime)
    top = found.passages[:SIGNAL_PASSAGES]
    dense = found.dense
    cosine = dense[0].cosine if dense else max(p.score for p in top)  # dense order: the best cosine comes first
    best_page = dense[0].document_id if dense else top[0].document_id
    other = next((h.cosine for h in dense if h.document_id != best_page), None)
    margin = cosine - other if other is not None else 0.0

    sentence, sentence_page = _best_sentence(runtime, qvec, top)
    terms = _term_coverage(index, question, top)
    bound = index.best_possible(question)
    bm25 = min(found.lexical[0].score / bound, 1.0) if found.lexical and bound > 0 else 0.0

    first_page = found.passages[0].document_id
    views = [best_page, found.lexical[0].document_id if found.lexical else None, sentence_page]
    agreement = sum(v == first_page for v in views)
    pages = len({p.document_id for p in found.passages[:TOP_PAGES]})
    return Signals(
        cosine=round(float(cosine), 4),
        sentence=round(float(sentence), 4),
        terms=round(terms, 4),
        bm25=round(float(bm25), 4),
        agreement=float(agreement),
        pages=float(pages),
        margin=round(float(margin), 4),
    )


def prefetch_sentences(runtime: Runtime, searches: list[Retrieval]) -> None:
    """Embed the sentences `measure` will read for these searches in one model call (topic coverage asks eight).

    One call per question paid the model's fixed cost per call eight times over: a first `docgap cluster` on the
    demo spent most of its coverage time there.
    """
    texts = {s for found in searches for p in found.passages[:SIGNAL_PASSAGES] for _, s in sentences(p.text)}
    if texts:
        SENTENCES.embed(runtime.embedder, sorted(texts))


def _best_sentence(runtime: Runtime, qvec: np.ndarray, top: list[Passage]) -> tuple[float, int | None]:
    """The best sentence cosine among the top passages and the page it is on (the passage's own cosine if none)."""
    found = [(p.document_id, s) for p in top for _, s in sentences(p.text)]
    if not found:
        return max(p.score for p in top), None
    sims = SENTENCES.embed(runtime.embedder, [s for _, s in found]) @ np.asarray(qvec, dtype=np.float32)
    best = int(np.argmax(sims))
    return float(sims[best]), found[best][0]


def _term_coverage(index: LexicalIndex, question: str, top: list[Passage]) -> float:
    """The largest IDF-weighted share of the question's key terms that one of the top passages holds."""
    terms = key_terms(index, question)
    weights = {t: index.idf(t) for t in terms}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return max(sum(w for t, w in weights.items() if t in index.terms(p.chunk_id)) / total for p in top)


def confidence(runtime: Runtime, signals: Signals) -> float:
    """P(the docs answer it) under the model profile's calibration, rounded for display and storage."""
    return round(profile(runtime).calibration.probability(signals.as_dict()), 3)
