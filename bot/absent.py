"""The question's words that no indexed article uses ("No indexed article mentions “Karachi”.").

A decline says the articles do not answer; naming the question's words that none of them holds says why, and
lets the asker rephrase ("ethanol" → "alcohol") or see a typo. An answer can need the same note: "Who did the
Centcom chief meet in Karachi?" is answered with the sentence about the meeting, and nothing in the articles
says it was in Karachi. The note is the bot's own words, not a quote, and it is exact: a word is named only when
its indexed term (`tokenize`: lower case, stemmed, irregular forms grouped) occurs in no article of the
collection (`df`, the term frequencies the indexer stores), so no form of it appears in any stored text.

Spellings the articles write otherwise only in part are not named: a word typed without its diacritics
("Gospic" for "Gospić") or a name's adjective ("Californian" where the articles say "California") counts as used,
so the note names only what the articles really lack.

On declines and answers flagged as the closest passages every content word counts. On answers given as
answers only names and numbers do: a confident answer whose question holds a common word the articles phrase
otherwise ("personalised" for "personalized") needs no note. A capitalised word is named with the capitalised
words around it ("Golden Gate Bridge" when no article has "gate"): the phrase is absent when one word is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping

from bot.spelling import term_of
from indexing.sparse import _TOKEN, STOPWORDS

MAX_NAMED = 3  # more reads as noise: names and numbers first, then the question's order
# a number is named when it reads as one: digits, thousands groups or a decimal, not a list like "3,6"
_NUMBER = re.compile(r"\d{2,}|\d{1,3}(?:,\d{3})+|\d+\.\d+")
_CONTRACTED = re.compile(r"['’]t\b")


# letters that carry no combining mark to strip ("Bolesław")
_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae", "Æ": "AE"})


def fold(term: str) -> str:
    """`term` without diacritics ("gospić" → "gospic", "bolesław" → "boleslaw")."""
    decomposed = unicodedata.normalize("NFKD", term.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _used(word: str, df: Mapping[str, int], folded: Collection[str]) -> bool:
    """Does some article use `word`: its term, the term typed without diacritics (`folded`: the collection's
    terms with diacritics, folded), or for a capitalised word the name it is the adjective of
    ("Mongolian" → "Mongolia", "Parisian" → "Paris", "Canadian" → "Canada")?"""
    lower = word.lower()
    term = term_of(lower)
    if df.get(term, 0) > 0 or term in folded:
        return True
    if not word[:1].isupper() or not lower.endswith("n"):
        return False
    bases = [lower[:-1]] + ([lower[:-3], lower[:-3] + "a"] if lower.endswith("ian") else [])
    return any(len(b) >= 4 and df.get(term_of(b), 0) > 0 for b in bases)


def _named(word: str, first: bool) -> bool:
    """A name or a number: a capitalised word that does not open the question, or digits."""
    return bool(_NUMBER.fullmatch(word)) or (word[:1].isupper() and not first)


def _phrase(question: str, tokens: list[re.Match[str]], i: int) -> tuple[int, int]:
    """The span of token i grown over the capitalised content words next to it (only spaces or hyphens
    between), so "Gate" is named as "Golden Gate Bridge"."""
    lo = hi = i
    if tokens[i].group(0)[:1].isupper():
        while lo > 1 and _joins(question, tokens[lo - 1], tokens[lo]):
            lo -= 1
        while hi + 1 < len(tokens) and _joins(question, tokens[hi], tokens[hi + 1]):
            hi += 1
    return tokens[lo].start(), tokens[hi].end()


def _joins(question: str, left: re.Match[str], right: re.Match[str]) -> bool:
    gap = question[left.end() : right.start()]
    words = (left.group(0), right.group(0))
    return gap in (" ", "-") and all(w[:1].isupper() and w.lower() not in STOPWORDS for w in words)


def absent_words(
    question: str, df: Mapping[str, int], names_only: bool = False, folded: Collection[str] = frozenset()
) -> list[str]:
    """The question's content words (as written, capitalised runs kept whole) that no article uses (`df`: the
    collection's term counts; `folded`: its terms with diacritics, folded), at most MAX_NAMED (names and numbers
    first); with `names_only`, only names and numbers."""
    tokens = list(_TOKEN.finditer(question))
    spans: list[tuple[int, int]] = []
    for i, match in enumerate(tokens):
        word = match.group(0)
        if word.lower() in STOPWORDS or (len(word) < 3 and not _NUMBER.fullmatch(word)):
            continue
        if word[:1].isdigit() and not _NUMBER.fullmatch(word):
            continue
        if _CONTRACTED.match(question, match.end()):  # "didn't": "didn" is not a word of the question
            continue
        if names_only and not _named(word, first=i == 0):
            continue
        if _used(word, df, folded):
            continue
        span = _phrase(question, tokens, i)
        if not spans or span[0] >= spans[-1][1]:
            spans.append(span)
    named = [s for s in spans if _named(question[s[0] : s[1]], first=s[0] == tokens[0].start())]
    first = named + [s for s in spans if s not in named]  # names and numbers say most: they come first
    return [question[start:end] for start, end in first[:MAX_NAMED]]


def absent_line(words: list[str]) -> str | None:
    """ "No indexed article mentions “A”, “B” or “C”." (None without words)."""
    if not words:
        return None
    quoted = [f"“{w}”" for w in words]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"No indexed article mentions {listed}."
