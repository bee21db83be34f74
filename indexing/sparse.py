"""BM25-style sparse vectors computed offline, shared by indexing (documents) and the bot (queries).

Documents get the BM25 term-frequency part; Qdrant's IDF modifier supplies the IDF part at query
time, so the index never needs a global vocabulary pass.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import Counter
from functools import lru_cache

import snowballstemmer

K1 = 0.9
B = 0.4
AVG_DOC_TOKENS = 25.0  # typical sentence length in tokens; stands in for the corpus average

_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+", re.UNICODE)

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
    ]
)


_local = threading.local()


def _stemmer() -> snowballstemmer.stemmer:
    """This thread's stemmer: a snowball stemmer keeps the word it is stemming on itself, so one shared by
    question threads and a reindex mixed up their words (an IndexError, or a wrong stem cached for good)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words of `text` (stop words dropped). `findall` makes no match objects: 22 %
    faster than `finditer` over the eval texts, the same tokens (benchmarks/bench_tokenize.py). It returns whole
    matches only while `_TOKEN` has no capturing group."""
    return [_stem(word) for word in map(str.lower, _TOKEN.findall(text)) if word not in STOPWORDS]


def term_index(term: str) -> int:
    """Stable 32-bit index of a term (Qdrant sparse indices are u32)."""
    return zlib.crc32(term.encode("utf-8"))


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """BM25 document weights: saturated, length-normalised term frequencies."""
    counts = Counter(tokenize(text))
    length = sum(counts.values()) or 1
    norm = K1 * (1 - B + B * length / AVG_DOC_TOKENS)
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        index = term_index(term)  # rare crc32 collisions merge into one weight
        weights[index] = weights.get(index, 0.0) + tf * (K1 + 1) / (tf + norm)
    indices = sorted(weights)
    return indices, [weights[index] for index in indices]


def query_vector(text: str) -> tuple[list[int], list[float]]:
    """Query weights: one per distinct term (IDF comes from the store)."""
    terms = sorted({term_index(term) for term in tokenize(text)})
    return terms, [1.0] * len(terms)
