"""The lead of an answer and the shown part of a long quote: contiguous verbatim excerpts of a quote.

The lead is the part of the first quote that answers: its answering sentence (a quote may hold two) or,
when one clause of that sentence clearly holds the question's terms, that clause. It is always a slice
of the quote's own text: never re-punctuated or re-capitalised, and cut only at clause boundaries (after
";", ":", a dash, or a comma before "but" / "while" / "although" / "and"), never inside brackets or
quotation marks, so never inside a word, name or number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.scoring import has_type, question_type
from indexing.sparse import tokenize

ABSTAIN_TEXT = "I could not find an answer to that in the indexed articles."
CONTENTLESS_HINT = (
    "Please ask a question about the articles in words, e.g. “Who met the army chief?” or “When did the bridge reopen?”"
)

MIN_CLAUSE_WORDS = 5
LONG_WORDS = 60  # a quote longer than this is shown as its relevant window
WINDOW_WORDS = 40

# clause boundaries: (end of the clause before, start of the clause after) come from these matches
_BOUNDARY = re.compile(
    r"[;:](?=\s)\s+|\s+[—–]\s+|,\s+(?:(?:but|while|whereas|although|though|and)\s+)(?=\w)",
)
_OPEN, _CLOSE = "([{“‘", ")]}”’"
_FILLER = {
    "tell",
    "more",
    "explain",
    "elabor",
    "continu",
    "go",
    "pleas",
    "ok",
    "okay",
    "thank",
    "thx",
    "hi",
    "hello",
    "hey",
    "yes",
    "yeah",
    "yep",
    "nope",
    "sure",
    "cool",
    "nice",
    "great",
    "wow",
    "lol",
    "hmm",
    "huh",
    "els",
    "detail",
    "answer",
    "question",
    "someth",
    "anyth",
    "info",
    "inform",
}


def is_contentless(text: str) -> bool:
    """A message with nothing to search for: "?", an emoji, "tell me more", "hi" (only stop words and filler)."""
    return not [t for t in tokenize(text) if t not in _FILLER]


def _depth_ok(text: str, position: int) -> bool:
    """No bracket or curly quotation left open before `position` (straight quotes counted by parity)."""
    depth = 0
    for ch in text[:position]:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
    return depth == 0 and text[:position].count('"') % 2 == 0


def clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The clauses of text[start:end] as (start, end) offsets in `text`, trimmed of the boundary's punctuation."""
    out: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if not _depth_ok(text[start:end], match.start() - start):
            continue
        out.append((cursor, match.start()))
        cursor = match.end()
    out.append((cursor, end))
    trimmed: list[tuple[int, int]] = []
    for a, b in out:
        while b > a and text[b - 1] in " ,;:":
            b -= 1
        if b <= a:
            continue
        if trimmed and (len(text[a:b].split()) < MIN_CLAUSE_WORDS or _short(text, trimmed[-1])):
            trimmed[-1] = (trimmed[-1][0], b)  # a piece too short to stand alone stays with its neighbour
        else:
            trimmed.append((a, b))
    return trimmed


def _short(text: str, span: tuple[int, int]) -> bool:
    return len(text[span[0] : span[1]].split()) < MIN_CLAUSE_WORDS


def _value(question: str, qtype: str | None, caps: set[str], clause: str, weight: Callable[[str], float]) -> float:
    terms = set(tokenize(question))
    found = sum(weight(t) for t in terms & set(tokenize(clause)))
    total = sum(weight(t) for t in terms) or 1.0
    return found / total + (0.25 if qtype and has_type(clause, qtype, caps) else 0.0)


def lead_span(
    question: str,
    text: str,
    sentences: list[tuple[int, int]] | None = None,
    chosen: int = 0,
    weight: Callable[[str], float] | None = None,
    margin: float = 0.3,
) -> tuple[int, int]:
    """Where the lead lies in `text` (a quote): sentence `chosen` of `sentences` (offsets in `text`; default
    the whole text), cut to one clause when that clause's share of the question's (IDF-`weight`ed) terms
    beats every other clause's by `margin` and it has at least MIN_CLAUSE_WORDS words."""
    weight = weight or (lambda _t: 1.0)
    start, end = (sentences or [(0, len(text))])[chosen]
    parts = clauses(text, start, end)
    if len(parts) < 2:
        return start, end
    qtype = question_type(question)
    caps = {w.lower() for w in re.findall(r"[A-Za-z][\w'’\-]*", question)}
    scored = sorted(
        ((_value(question, qtype, caps, text[a:b], weight), a, b) for a, b in parts), key=lambda x: x[0], reverse=True
    )
    best, a, b = scored[0]
    if best - scored[1][0] < margin or len(text[a:b].split()) < MIN_CLAUSE_WORDS:
        return start, end
    if qtype and any(has_type(text[x:y], qtype, caps) for _, x, y in scored[1:]):
        return start, end  # another clause also has the kind of answer asked for: keep them all
    return a, b


def _is_joined(left: str, right: str) -> bool:
    """Would a cut between these two words split a name or a number ("New | York", "3 | million")?"""
    if left[:1].isupper() and right[:1].isupper() and not left.endswith((",", ".", ";", ":")):
        return True
    return left[-1:].isdigit() and (right[:1].isdigit() or right.lower().startswith(("million", "billion", "percent")))


def window_span(
    question: str,
    text: str,
    keep: tuple[int, int] | None = None,
    weight: Callable[[str], float] | None = None,
    words: int = WINDOW_WORDS,
) -> tuple[int, int] | None:
    """The part of a long quote (over LONG_WORDS words) to show: `words` consecutive words holding the most
    of the question's terms (and all of `keep`, the lead, when given), widened so it never splits a name
    or a number. None when the quote is short enough to show whole."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if len(spans) <= LONG_WORDS:
        return None
    weight = weight or (lambda _t: 1.0)
    terms = set(tokenize(question))
    gains = [sum(weight(t) for t in set(tokenize(text[a:b])) & terms) for a, b in spans]
    best, best_i, best_off = -1.0, 0, 0.0
    for i in range(0, len(spans) - words + 1):
        a, b = spans[i][0], spans[i + words - 1][1]
        if keep is not None and not (a <= keep[0] and keep[1] <= b):
            continue
        value = sum(gains[i : i + words])
        hits = [j for j in range(i, i + words) if gains[j]]
        # among equally good windows, the one centred on the matched words (the answer is often just after)
        off = abs((hits[0] + hits[-1]) / 2 - (i + (words - 1) / 2)) if hits else 0.0
        if value > best or (value == best and off < best_off):
            best, best_i, best_off = value, i, off
    first, last = best_i, min(len(spans), best_i + words) - 1
    if best < 0 and keep is not None:  # the lead itself is longer than a window: show the lead
        first = next(i for i, (a, b) in enumerate(spans) if b > keep[0])
        last = max(i for i, (a, b) in enumerate(spans) if a < keep[1])
    while first > 0 and _is_joined(text[slice(*spans[first - 1])], text[slice(*spans[first])]):
        first -= 1
    while last < len(spans) - 1 and _is_joined(text[slice(*spans[last])], text[slice(*spans[last + 1])]):
        last += 1
    if first == 0 and last == len(spans) - 1:
        return None
    return spans[first][0], spans[last][1]


def extractive_answer(question: str, quote: str) -> str:
    """The lead of a quote as text (its best sentence or answering clause); a verbatim slice of `quote`."""
    from indexing.sentences import split_sentences

    spans = [(s.start, s.end) for s in split_sentences(quote)] or [(0, len(quote))]
    terms = set(tokenize(question))
    chosen = max(range(len(spans)), key=lambda i: len(terms & set(tokenize(quote[slice(*spans[i])]))))
    a, b = lead_span(question, quote, spans, chosen)
    return quote[a:b]
