"""Is a message a question (or request, or problem report), and what language is it in?

Question detection cannot lean on a trailing "?": customers write "my card still hasn't arrived" and "ma carte
est bloquée". So a message counts as a question when it asks (a question mark in any script), requests or reports
a problem (cue words in the languages our customers write), or is a substantial statement that is not a
pleasantry. Pleasantries, acknowledgements and announcements ("thanks!", "+1", "FYI …", "merci beaucoup") are
dropped. `bench/question_detection.py` measures precision and recall on the demo's labelled messages.

Language comes from lingua (a maintained, offline, rule+n-gram detector); messages too short to tell get None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_ASKS = re.compile(r"[?¿？؟]")
_WORD = re.compile(r"\w+(?:['’]\w+)?", re.U)
# Words that make a message a request or a problem report, in English, French, Spanish, German, Italian, Dutch,
# Portuguese. Stems are matched at word starts ("declin" → declined, declining).
_CUES = re.compile(
    r"\b(how|why|when|where|what|which|who|can i|could|is there|are there|please|pls|need|want|help|"
    r"can't|cannot|can not|couldn't|unable|not working|doesn't|didn't|won't|hasn't|haven't|isn't|still|"
    r"fail|declin|reject|error|problem|issue|missing|wrong|charged|stuck|lost|stolen|blocked|broken|pending|"
    r"faulty|gone|remove|delete|close|cancel|refund|limit|change|order|"
    r"comment|pourquoi|quand|où|besoin|impossible|refus|problème|erreur|toujours pas|bloqu|perdu|volé|"
    r"cómo|por qué|cuándo|dónde|necesito|no puedo|rechaz|problema|todavía|perdí|robad|"
    r"wie|warum|wann|wo|brauche|kann nicht|abgelehnt|fehler|funktioniert nicht|immer noch|gestohlen|verloren|"
    r"perché|quando|dove|non riesco|rifiutat|waarom|hoe|wanneer|kan niet|werkt niet|porque|não consigo)",
    re.I | re.U,
)
_PLEASANTRY = re.compile(
    r"^\W*(thanks|thank you|thx|ty|cheers|great|perfect|brilliant|awesome|noted|sounds good|will do|ok|okay|"
    r"lol|morning|good (morning|afternoon|evening)|hi all|hello all|happy \w+|have a (great|good|nice)|welcome|"
    r"fyi|heads up|just a heads up|looking forward|congrat|we('ve| have) just|"
    r"merci|parfait|d'accord|bonne|super|gracias|muchas gracias|mil gracias|perfecto|genial|buen|vielen dank|danke|"
    r"alles klar|schönes|"
    r"grazie|perfetto|bedankt|obrigad)\b",
    re.I | re.U,
)
_MIN_STATEMENT_WORDS = 5
LANGUAGES = (
    "en fr es de it pt nl sv da nb fi pl cs sk hu ro bg el tr ru uk ar he hi bn ur fa id ms vi th zh ja ko tl sw"
).split()
"""Candidate languages (ISO 639-1) for detection."""


def is_question(text: str) -> bool:
    """True for questions, requests and problem reports; False for pleasantries, reactions and announcements."""
    words = _WORD.findall(text)
    if not words:
        return False
    cue = bool(_CUES.search(text))
    if _PLEASANTRY.match(text):
        # "Thanks, but my card still doesn't work" asks again; "Thanks so much!" does not.
        return bool(_ASKS.search(text)) or (
            cue and re.search(r"\b(but|however|mais|pero|aber)\b", text, re.I) is not None
        )
    if _ASKS.search(text) or cue:
        return True
    return len(words) >= _MIN_STATEMENT_WORDS


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    # High-accuracy mode (~500 MB of n-gram models, loaded on first use) is what short questions need: low-accuracy
    # mode read 8% of short English questions as another language in bench/question_detection.py, this reads none.
    # The minimum distance makes it say "unsure" (None) instead of guessing; limiting candidates to languages
    # business customers commonly write in stops short English questions from being read as Yoruba or Latin.
    codes = [getattr(IsoCode639_1, c.upper()) for c in LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_minimum_relative_distance(0.1).build()


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """ISO 639-1 codes ("en", "fr", …) per text, None when the text is too short or ambiguous to tell."""
    if not texts:
        return []
    found = _detector().detect_languages_in_parallel_of(list(texts))
    return [
        lang.iso_code_639_1.name.lower() if lang is not None and len(_WORD.findall(t)) >= 3 else None
        for t, lang in zip(texts, found, strict=True)
    ]
