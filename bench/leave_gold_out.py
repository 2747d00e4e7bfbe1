"""Labelled leave-gold-out sets: questions whose answering pages are known, asked with and without those pages.

Two real documentation sets, each turned into Markdown pages the way a user would index them:
- **Smart TV manual** (`bench/data/emanual_smart_tv`, Nandy et al. 2021): each of its 261 sections is a page
  (title + text; never `t5_para`, which leaks generated questions). Questions come from the 50-question CSV and
  every record of `smart_remote_QA.zip` that parses (several of its files are not valid JSON upstream, so each
  `{...}` record is parsed on its own). Gold: the sections that contain the question's `answer` text (word-trigram
  containment ≥ `GOLD_CONTAINMENT`, so near-identical sections that repeat the answer are all gold and all removed);
  questions whose answer matches no section well ("Yes", a paraphrase) or too many are left out.
- **Demo help center** (`demo/helpcenter`, BANKING77 questions): a fixed-seed sample of the training questions of
  every intent `demo/intents.json` marks documented, gold = its page (as in `bench/retrieval.py`).

"Gold present" asks a question of the whole index; "gold removed" asks it of the index without its gold pages
(`LeaveGoldOut` removes and restores them through the real indexer, one gold group at a time).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.retrieval import labelled_queries
from core.runtime import Runtime
from demo import HELPCENTER_DIR
from ingest.docs import DocumentRecord, content_hash, read_docs_folder
from retrieval.index import index_documents

MANUAL_DIR = Path(__file__).parent / "data" / "emanual_smart_tv"
GOLD_CONTAINMENT = 0.5
"""Share of the answer's word trigrams a section must contain to hold the answer."""
MAX_GOLD = 5
"""Questions whose answer text is in more sections than this are too generic to remove the answer of."""
_WORD = re.compile(r"\w+")
_PAGE_NUMBER = re.compile(r"^-\s*\d+\s*-$")
_RECORD = re.compile(r"\{[^{}]*\}", re.S)


@dataclass(frozen=True)
class Asked:
    text: str
    gold: frozenset[str]
    """URLs of the pages that answer it."""


@dataclass(frozen=True)
class LabelledSet:
    name: str
    pages: list[DocumentRecord]
    questions: list[Asked]

    def groups(self) -> dict[frozenset[str], list[Asked]]:
        """Questions by their gold pages: each group is asked once with those pages removed."""
        out: dict[frozenset[str], list[Asked]] = defaultdict(list)
        for q in self.questions:
            out[q.gold].append(q)
        return dict(out)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _trigrams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def manual_markdown(title: str, lines: list[str]) -> str:
    """A manual section as a Markdown page: its title as the heading, its extracted lines as they came.

    The lines are the PDF's (hard-wrapped mid-sentence, bold words and menu items on lines of their own); only
    page-number lines ("- 15 -") are dropped. Line breaks inside a paragraph are soft in Markdown, so the
    indexer must read them as spaces, as a renderer would.
    """
    body = "\n".join(line for line in lines if not _PAGE_NUMBER.match(line.strip()))
    return f"# {title}\n\n{body}\n"


def manual_set(folder: Path = MANUAL_DIR) -> LabelledSet:
    corpus = json.loads((folder / "smart_tv_remote_manual_corpus.json").read_text(encoding="utf-8"))
    pages, grams = [], {}
    for key in sorted(corpus, key=lambda k: int(k.rsplit("_", 1)[-1])):
        section = corpus[key]
        text = manual_markdown(section["title"], section["text"])
        pages.append(DocumentRecord(f"{key}.md", section["title"], text, content_hash(text)))
        grams[f"{key}.md"] = _trigrams(_words(" ".join(section["text"])))
    questions: dict[str, Asked] = {}
    for text, answer in _manual_questions(folder):
        g = _trigrams(_words(answer))
        key = " ".join(text.lower().split())
        if not g or not key or key in questions:
            continue
        gold = frozenset(url for url, s in grams.items() if len(g & s) / len(g) >= GOLD_CONTAINMENT)
        if 1 <= len(gold) <= MAX_GOLD:
            questions[key] = Asked(" ".join(text.split()), gold)
    return LabelledSet("Smart TV manual", pages, list(questions.values()))


def _manual_questions(folder: Path) -> Iterator[tuple[str, str]]:
    """(question, answer) pairs: the CSV's, then every record of the zip's JSON files that parses on its own."""
    with (folder / "smart_tv_remote_50_questions.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield row["question"], row["answer"]
    with zipfile.ZipFile(folder / "smart_remote_QA.zip") as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".json")):
            raw = zf.read(name).decode("utf-8", "replace")
            for m in _RECORD.finditer(raw):
                try:
                    record = json.loads(m.group(0), strict=False)
                except json.JSONDecodeError:
                    continue  # a broken record upstream; its neighbours still count
                if isinstance(record, dict) and record.get("Question") and record.get("Answer"):
                    yield str(record["Question"]), str(record["Answer"])


def demo_set(per_intent: int = 20, seed: int = 11) -> LabelledSet:
    questions = [Asked(q.text, frozenset({q.page})) for q in labelled_queries(per_intent, seed)]
    pages = [p for p in read_docs_folder(HELPCENTER_DIR) if isinstance(p, DocumentRecord)]
    return LabelledSet("demo help center", pages, questions)


class LeaveGoldOut:
    """One labelled set indexed once; `without(gold)` takes pages out through the indexer and puts them back."""

    SOURCE = "leave-gold-out"

    def __init__(self, runtime: Runtime, labelled: LabelledSet) -> None:
        self.runtime, self.labelled = runtime, labelled
        result = index_documents(runtime, self.SOURCE, labelled.pages)
        assert result.ok, result.errors

    @contextmanager
    def without(self, gold: frozenset[str]) -> Iterator[None]:
        kept = [p for p in self.labelled.pages if p.url not in gold]
        index_documents(self.runtime, self.SOURCE, kept)
        try:
            yield
        finally:
            index_documents(self.runtime, self.SOURCE, self.labelled.pages)
