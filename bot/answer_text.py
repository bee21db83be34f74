"""Extractive answer text: the best quoted sentence, trimmed to its answering clause where that is clear."""

from __future__ import annotations

import re

from bot.scoring import has_type, question_type
from indexing.sentences import split_sentences
from indexing.sparse import tokenize

_CLAUSE_SPLIT = re.compile(r"(?<=[;:])\s+|\s+[—–]\s+|,\s+(?=(?:but|while|whereas|although|though|and|which)\b)")
MIN_CLAUSE_WORDS = 5
_UNBALANCED = re.compile(r"[\[\]()]")  # brackets (pronunciations, citations): do not cut

ABSTAIN_TEXT = "I could not find an answer to that in the indexed articles."


def extractive_answer(question: str, quote: str) -> str:
    """The quote's best sentence (a quote may hold two), or the one clause of it that holds the question's
    terms (and answer type) when that is clear."""
    spans = split_sentences(quote)
    if len(spans) > 1:
        terms = set(tokenize(question))
        quote = max((span.slice(quote) for span in spans), key=lambda s: len(terms & set(tokenize(s))))
    sentence = " ".join(quote.split())
    if _UNBALANCED.search(sentence):
        return sentence
    clauses = [c.strip(" ,;:") for c in _CLAUSE_SPLIT.split(sentence) if c and c.strip(" ,;:")]
    if len(clauses) < 2:
        return sentence
    terms = set(tokenize(question))
    qtype = question_type(question)
    caps = {w.lower() for w in re.findall(r"[A-Za-z][\w'’\-]*", question)}

    def value(clause: str) -> float:
        overlap = len(terms & set(tokenize(clause)))
        return overlap + (0.5 if qtype and has_type(clause, qtype, caps) else 0.0)

    scored = sorted(((value(c), i, c) for i, c in enumerate(clauses)), reverse=True)
    best_value, _, best = scored[0]
    second = scored[1][0]
    if best_value < 1 or best_value - second < 1 or len(best.split()) < MIN_CLAUSE_WORDS:
        return sentence
    best = best[0].upper() + best[1:]
    return best if best[-1] in ".!?\"'”" else best + "."
