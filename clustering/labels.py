"""Topic labels: class-based TF-IDF keywords (each topic's words weighed against all other topics).

Words are any Unicode letters (so "prélèvement" and "Überweisung" count), and stop words are removed for English
(scikit-learn's list, which keeps domain words like "top" and "new") plus every other language the questions
are in (stopwords-iso). Without an LLM the label is the top keywords, shown as such; it is honest about being
keywords, not a title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import stopwordsiso
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

WORD = r"(?u)\b[^\W\d_]{2,}\b"
"""Two or more letters in any script; digits and underscores are not words."""


def stop_words(languages: Sequence[str] = ()) -> list[str]:
    """English stop words plus those of the other given ISO 639-1 languages (unknown codes are skipped)."""
    words = set(ENGLISH_STOP_WORDS)
    others = [lang for lang in languages if lang != "en" and stopwordsiso.has_lang(lang)]
    if others:
        words |= set(stopwordsiso.stopwords(others))
    # Stop words must be what the tokenizer produces ("quelqu'un" is seen as "quelqu" and "un").
    return sorted({tok for w in words for tok in re.findall(WORD, _expand_contractions(w))})


def class_tfidf_keywords(
    docs_per_topic: Sequence[Sequence[str]], top_n: int = 6, languages: Sequence[str] = ()
) -> list[list[str]]:
    """Top keywords per topic by c-TF-IDF (term frequency in the topic × log(1 + avg words / term frequency))."""
    joined = [" ".join(d) for d in docs_per_topic]
    if not any(joined):
        return [[] for _ in joined]
    vec = CountVectorizer(
        stop_words=stop_words(languages),
        ngram_range=(1, 2),
        token_pattern=WORD,
        preprocessor=_expand_contractions,
    )
    try:
        counts = vec.fit_transform(joined).astype(np.float64).tocsr()
    except ValueError:  # only stop words
        return [[] for _ in joined]
    # Kept sparse: topics × terms grows with both (10,000 topics over a 200,000-term vocabulary would be 16 GB dense).
    terms = vec.get_feature_names_out()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    avg_words = counts.sum() / len(joined)
    idf = np.log(1 + avg_words / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    scores = sparse.diags(1 / np.maximum(totals, 1)) @ counts @ sparse.diags(idf)
    out = []
    scores = scores.tocsr()
    for r in range(scores.shape[0]):
        span = slice(scores.indptr[r], scores.indptr[r + 1])  # this topic's terms, read in place
        indices, data = scores.indices[span], scores.data[span]
        order = np.lexsort((indices, -data))  # best first; ties by term order
        words: list[str] = []
        for i, value in zip(indices[order].tolist(), data[order].tolist(), strict=True):
            if value <= 0 or len(words) >= top_n:
                break
            term = str(terms[i])
            if any(term in w or w in term for w in words):
                continue  # "card" and "new card": keep the more informative one only once
            words.append(term)
        out.append(words)
    return out


_CONTRACTION = re.compile(r"(?i)\b(\w+)n['’]t\b|['’](s|m|re|ve|ll|d)\b")


def _expand_contractions(text: str) -> str:
    """'hasn't' → 'has not', "card's" → 'card': otherwise the tokenizer leaves stubs like "hasn" as keywords."""
    text = text.lower().replace("can't", "can not").replace("won't", "will not").replace("can’t", "can not")
    return _CONTRACTION.sub(lambda m: f"{m.group(1)} not" if m.group(1) else "", text)


def keyword_label(keywords: Sequence[str]) -> str:
    return " · ".join(keywords[:3]) if keywords else "(unlabelled)"
