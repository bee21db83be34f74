"""Question words the collection never uses, read as its word one edit away ("Kurila" as "Kurilla").

People type questions fast and misspell names. A name the collection never holds costs the question both ways:
BM25 cannot match it, and the answerability model reads a question term no article has as a sign that the
articles do not cover the question, so "Who did Kurila meet?" is declined while "Who did Kurilla meet?" is
answered. Only words of MIN_LETTERS+ letters that the collection has never seen are touched, and only by one edit
that keeps the first letter (a letter deleted, added or replaced, two neighbours swapped: Norvig's candidates,
checked against the collection's own vocabulary, which no dictionary package knows).

An English word is never respelled, however rare in the collection ("Who discovered Pluto?" asked of articles
that only name Plato stays a question about Pluto), and a word is read as another only when that one is an
English word or, for a capitalised word, a name as the collection writes it (its own stem: "kurilla"), not some
string that merely stems like a collection term ("faded" is not "maded"). The English words are pyspellchecker's
frequency list (160,000 words, shipped in the package: nothing to download), loaded on first use.

A name the bot has never seen and a typo look the same, so the pipeline (QuestionAnswerer.run_raw) never answers
a respelled question in place of the one asked: it declines as before and suggests the respelled question when
that one is answered (docs/quality.md round 14).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

from bot.lexicon import canon
from indexing.sparse import STOPWORDS, _stemmer

# shorter words have too many neighbours one edit away: a rare name of five letters ("Twigg", "Roone") is more
# often read as some other word of the collection than a typo is mended (docs/quality.md round 14)
MIN_LETTERS = 6
# a word of MIN_LETTERS+ letters, not the first part of a contraction ("couldn't")
_WORD = re.compile(rf"(?<![\w'’])[^\W\d_]{{{MIN_LETTERS},}}(?!\w|['’]t\b)")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


_english: frozenset[str] | None = None
_english_lock = threading.Lock()


def english() -> frozenset[str]:
    """pyspellchecker's English words (lower case), loaded once per process (0.2 s; +42 MB peak RSS)."""
    global _english
    if _english is None:
        with _english_lock:
            if _english is None:
                from spellchecker import SpellChecker

                _english = frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)
    return _english


def term_of(word: str) -> str:
    """The collection's term for a lower-case word (stemmed, grouped), as `tokenize` would index it. The stemmer
    is called directly: edit candidates would only crowd out the tokenizer's stem cache."""
    return canon(_stemmer().stemWord(word))


def one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion (a-z) away from `word`, its first
    letter kept: typing rarely gets the first letter wrong, and a name one edit from another word mostly differs
    there ("Sorkin" / "Corkin", "Slayton" / "Clayton")."""
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


def same_case(model: str, word: str) -> str:
    """`word` cased like `model`: upper case, capitalised or lower case."""
    if model.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def respelled_word(word: str, df: Mapping[str, int]) -> str | None:
    """The collection's most frequent word one edit away from `word` (an English word, or a name as the
    collection writes it), when `word` is neither English nor used by the collection; None otherwise."""
    lower = word.lower()
    if lower in STOPWORDS or df.get(term_of(lower), 0) > 0 or lower in english():
        return None
    best, best_df = None, 0
    named = word[:1].isupper()  # only a capitalised word may be read as a name ("partical" is not "particl")
    for candidate in sorted(one_edit(lower)):  # sorted: ties go the same way every time
        if candidate in STOPWORDS:
            continue
        term = term_of(candidate)
        count = df.get(term, 0)
        if count > best_df and (candidate in english() or (named and candidate == term)):
            best, best_df = candidate, count
    return same_case(word, best) if best else None


def respell(question: str, df: Mapping[str, int]) -> tuple[str, list[tuple[str, str]]]:
    """`question` with each word of MIN_LETTERS+ letters that the collection never uses (`df`: its term
    frequencies) replaced by its nearest word (`respelled_word`); the (written, read as) pairs."""
    changes: list[tuple[str, str]] = []

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        better = respelled_word(word, df)
        if better is None or better == word:
            return word
        changes.append((word, better))
        return better

    return _WORD.sub(fix, question), changes
