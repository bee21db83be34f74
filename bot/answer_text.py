"""The lead of an answer and the shown part of a long quote: contiguous verbatim excerpts of a quote.

The lead is the part of the first quote that answers: the clauses that hold the answer, by the answer
pointer's start/end probabilities (bot/pointer.py) or, with ANSWER_POINTER=off, by a lexical piece model.
It is always a slice of the quote's own text: never re-punctuated or re-capitalised, and cut only at clause
boundaries (after a top-level comma, ";", ":" or a dash; with the pointer also before "after", "because",
"including" and the like), never inside brackets or quotation marks, so never inside a word, name or number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from bot.absent import absent_line
from bot.lexicon import canon
from bot.scoring import has_type, question_type
from bot.types import Answer
from indexing.sparse import tokenize

if TYPE_CHECKING:
    from bot.pointer import AnswerPointer, RememberedReads, SpanDistribution

ABSTAIN_TEXT = "I could not find an answer to that in the indexed articles."
TENTATIVE_TEXT = "The articles may not answer this directly. The closest passages:"
DATED_TEXT = "The closest passages are older than the time the question asks about, so they may not answer it:"


def caution(answer: Answer) -> str:
    """The line that opens a tentative answer: why its quotes may not answer."""
    return DATED_TEXT if answer.dated else TENTATIVE_TEXT


def did_you_mean_line(answer: Answer) -> str | None:
    """The line that suggests a declined question respelled, which the articles do answer; None without one."""
    return f"Did you mean “{answer.did_you_mean}”? Ask that to see its answer." if answer.did_you_mean else None


def absent_note(answer: Answer) -> str | None:
    """The note naming what the articles lack: the question's numbered names or year the closest article never
    mentions (bot/numbered.py), then its words that no indexed article uses (bot/absent.py); None without
    either."""
    unmatched = [name for name in answer.unmatched if name not in answer.absent]  # said once, the stronger way
    lines = [unmatched_line(unmatched), absent_line(answer.absent)]
    return " ".join(line for line in lines if line) or None


def unmatched_line(names: list[str]) -> str | None:
    """ "The closest article never mentions “Super Bowl 50”." (None without names)."""
    if not names:
        return None
    return f"The closest article never mentions {' or '.join(f'“{n}”' for n in names)}."


CONTENTLESS_HINT = (
    "Please ask a question about the articles in words, e.g. “Who met the army chief?” or “When did the bridge reopen?”"
)

LONG_WORDS = 60  # a quote longer than this is shown as its relevant window
WINDOW_WORDS = 40
MIN_PIECE_WORDS = 2

# Piece boundaries: a comma, semicolon, colon or dash followed by a space (or an em dash between words).
_BOUNDARY = re.compile(r"[,;:](?=\s)\s+|\s+[—–]\s+|(?<=\w)—(?=\w)")
# With the answer pointer, also before these words: an adverbial clause or phrase the answer often sits in.
# Not before "who", "which", "when", "where": without a comma they open a restrictive clause, and a lead cut
# there reads as a fragment ("who watched the liftoff were inspired by …").
_FINE_WORDS = (
    "after", "before", "because", "while", "whereas", "although", "though", "since", "until", "unless",
    "including", "during", "following", "despite",
)  # fmt: skip
_FINE = re.compile(r"\s+(?=(?:" + "|".join(_FINE_WORDS) + r")\b)")
_MONTHS = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|December)\b")
_OPEN, _CLOSE = "([{“‘", ")]}”’"
_FILLER = {
    "tell", "more", "explain", "elabor", "continu", "go", "pleas", "ok", "okay", "thank", "thx", "hi",
    "hello", "hey", "yes", "yeah", "yep", "nope", "sure", "cool", "nice", "great", "wow", "lol", "hmm",
    "huh", "els", "detail", "answer", "question", "someth", "anyth", "info", "inform",
}  # fmt: skip

# Piece model: the probability that a piece of the answering sentence holds the answer, from question-term
# overlap, the position relative to the best-matching piece and the answer type. Fitted on the gold sentences
# of the SQuAD tuning half (benchmarks/fit_lead.py; see docs/quality.md).
LEAD_WEIGHTS: dict[str, float] = {
    "ov": 2.784,
    "best": 0.053,
    "after1": -0.505,
    "after2": -1.453,
    "before1": -0.829,
    "before2": -1.551,
    "typ": 0.987,
    "novel": 1.64,
    "caps": 0.189,
    "num": 0.037,
    "words": -0.03,
    "first": 0.485,
    "last": 0.503,
}
LEAD_BIAS = -2.772
LEAD_MASS = 0.88  # the lead grows from the likeliest piece until the pieces it holds reach this share
# With the answer pointer (bot/pointer.py): the lead grows until it holds the answer span with this probability
# (benchmarks/fit_lead.py --pointer: the smallest mass that keeps the gold answer in 98.5 % of the calibration
# articles' leads).
POINTER_MASS = 0.94
POINTER_FINE = True  # the pointer may also cut before a subordinate clause (pieces(fine=True))


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


def _joins_a_date_or_number(text: str, cut: int, resume: int) -> bool:
    """A comma inside "July 6, 2009" or "Paris, 1920s"-like dates, or between digits, is not a boundary."""
    before, after = text[max(0, cut - 16) : cut].split()[-1:] or [""], text[resume : resume + 4]
    if not after[:1].isdigit():
        return False
    return before[0][-1:].isdigit() or bool(_MONTHS.search(" ".join(text[max(0, cut - 24) : cut].split()[-2:])))


def pieces(text: str, start: int, end: int, fine: bool = False) -> list[tuple[int, int]]:
    """The pieces of text[start:end] between top-level commas, semicolons, colons and dashes (with `fine`, also
    before a lower-case word opening a subordinate clause or phrase, `_FINE_WORDS`),
    as (start, end) offsets in `text` without the boundary's punctuation; a piece under MIN_PIECE_WORDS words
    joins the one before it."""
    cuts: list[tuple[int, int]] = []
    for match in _BOUNDARY.finditer(text, start, end):
        if _depth_ok(text[start:end], match.start() - start) and not _joins_a_date_or_number(
            text, match.start(), match.end()
        ):
            cuts.append((match.start(), match.end()))
    if fine:
        for match in _FINE.finditer(text, start, end):
            if _depth_ok(text[start:end], match.start() - start):  # lower-case words: never inside a title-case name
                cuts.append((match.start(), match.end()))
        cuts.sort()
    out: list[tuple[int, int]] = []
    cursor = start
    for cut, resume in cuts:
        if cut < cursor:  # inside a boundary already taken (", which": the comma's)
            continue
        out.append((cursor, cut))
        cursor = resume
    out.append((cursor, end))
    merged: list[tuple[int, int]] = []
    for a, b in out:
        while b > a and text[b - 1] in " ,;:":
            b -= 1
        if b <= a:
            continue
        if merged and (len(text[a:b].split()) < MIN_PIECE_WORDS or _short(text, merged[-1])):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Alias of `pieces` (the units a lead is made of)."""
    return pieces(text, start, end)


def _short(text: str, span: tuple[int, int]) -> bool:
    return len(text[span[0] : span[1]].split()) < MIN_PIECE_WORDS


def piece_features(question: str, text: str, parts: list[tuple[int, int]]) -> list[dict[str, float]]:
    """LEAD_WEIGHTS' features of each piece (see there)."""
    q_terms = {canon(t) for t in tokenize(question)}
    qtype = question_type(question)
    caps = {w.lower() for w in re.findall(r"[A-Za-z][\w'’\-]*", question)}
    terms = [{canon(t) for t in tokenize(text[a:b])} for a, b in parts]
    overlap = [len(q_terms & ts) / max(len(q_terms), 1) for ts in terms]
    top = max(range(len(parts)), key=lambda i: overlap[i])
    out = []
    for i, (a, b) in enumerate(parts):
        piece, d = text[a:b], i - top
        out.append(
            {
                "ov": overlap[i],
                "best": 1.0 if d == 0 and overlap[i] > 0 else 0.0,
                "after1": 1.0 if d == 1 else 0.0,
                "after2": 1.0 if d >= 2 else 0.0,
                "before1": 1.0 if d == -1 else 0.0,
                "before2": 1.0 if d <= -2 else 0.0,
                "typ": 1.0 if qtype and has_type(piece, qtype, caps) else 0.0,
                "novel": len(terms[i] - q_terms) / max(len(terms[i]), 1),
                "caps": 1.0 if any(w[:1].isupper() and w.lower() not in caps for w in piece.split()[1:]) else 0.0,
                "num": 1.0 if re.search(r"\d", piece) else 0.0,
                "words": math.log1p(len(piece.split())),
                "first": 1.0 if i == 0 else 0.0,
                "last": 1.0 if i == len(parts) - 1 else 0.0,
            }
        )
    return out


def piece_probabilities(question: str, text: str, parts: list[tuple[int, int]]) -> list[float]:
    """Each piece's share of the probability of holding the answer (sums to 1)."""
    raw = []
    for f in piece_features(question, text, parts):
        z = LEAD_BIAS + sum(w * f[name] for name, w in LEAD_WEIGHTS.items())
        raw.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
    total = sum(raw) or 1.0
    return [p / total for p in raw]


def lead_span(
    question: str,
    text: str,
    sentences: list[tuple[int, int]] | None = None,
    chosen: int | None = 0,
    weight: Callable[[str], float] | None = None,
    mass: float = LEAD_MASS,
    pointer: AnswerPointer | RememberedReads | None = None,
    pointer_mass: float = POINTER_MASS,
) -> tuple[int, int]:
    """Where the lead lies in `text` (a quote): within sentence `chosen` of `sentences` (offsets in `text`;
    None: all of them), the likeliest piece widened, one neighbour at a time (the likelier first), until the
    pieces it holds reach `mass` of the probability of holding the answer. With a `pointer` (bot/pointer.py)
    the pieces holding its likeliest answer span are widened until they hold the answer with probability
    `pointer_mass`. `weight` is unused (kept for callers passing term IDF)."""
    sentences = sentences or [(0, len(text))]
    spans = sentences if chosen is None else [sentences[chosen]]
    start, end = spans[0][0], spans[-1][1]
    if pointer is not None:
        fine = [p for a, b in spans for p in pieces(text, a, b, fine=POINTER_FINE)]
        dist = pointer.distribution(question, text) if len(fine) > 1 else None
        pointed = pointed_span(fine, dist, pointer_mass) if dist is not None else None
        if pointed is not None:
            return pointed
    parts = [p for a, b in spans for p in pieces(text, a, b)]
    if len(parts) < 2:
        return start, end
    probs = piece_probabilities(question, text, parts)
    lo = hi = max(range(len(parts)), key=lambda i: probs[i])
    held = probs[lo]
    while held < mass and (lo > 0 or hi < len(parts) - 1):
        left = probs[lo - 1] if lo > 0 else -1.0
        right = probs[hi + 1] if hi < len(parts) - 1 else -1.0
        if right >= left:
            hi += 1
            held += right
        else:
            lo -= 1
            held += left
    return parts[lo][0], parts[hi][1]


def piece_pairs(parts: list[tuple[int, int]], dist: SpanDistribution) -> np.ndarray:
    """P[i, j]: the probability that the answer starts in piece i and ends in piece j (tokens outside the
    pieces dropped, the rest renormalised); a token between two pieces (their comma) belongs to the first."""
    starts = np.array([a for a, _ in parts])
    at = dist.offsets[:, 0]
    inside = (at >= parts[0][0]) & (at < parts[-1][1])
    piece = np.clip(np.searchsorted(starts, at, side="right") - 1, 0, len(parts) - 1)
    onehot = np.zeros((len(at), len(parts)))
    onehot[np.nonzero(inside)[0], piece[inside]] = 1.0
    pairs = onehot.T @ dist.joint @ onehot
    total = pairs.sum()
    return pairs / total if total > 0 else pairs


def pointed_span(parts: list[tuple[int, int]], dist: SpanDistribution, mass: float) -> tuple[int, int] | None:
    """The pieces holding the likeliest answer, widened one neighbour at a time (the one that adds more
    probability first) until the answer lies within them with probability `mass`; None without evidence."""
    pairs = piece_pairs(parts, dist)
    if pairs.sum() <= 0:
        return None
    lo, hi = np.unravel_index(int(np.argmax(pairs)), pairs.shape)
    lo, hi = int(lo), int(hi)
    last = len(parts) - 1
    while pairs[lo : hi + 1, lo : hi + 1].sum() < mass and (lo > 0 or hi < last):
        left = pairs[lo - 1 : hi + 1, lo - 1 : hi + 1].sum() if lo > 0 else -1.0
        right = pairs[lo : hi + 2, lo : hi + 2].sum() if hi < last else -1.0
        if right >= left:
            hi += 1
        else:
            lo -= 1
    return parts[lo][0], parts[hi][1]


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
    n = len(spans)
    prefix = [0.0]
    for g in gains:
        prefix.append(prefix[-1] + g)
    next_hit, prev_hit = [n] * (n + 1), [-1] * n
    for i in range(n - 1, -1, -1):
        next_hit[i] = i if gains[i] else next_hit[i + 1]
    for i in range(n):
        prev_hit[i] = i if gains[i] else (prev_hit[i - 1] if i else -1)
    best, best_i, best_off = -1.0, 0, 0.0
    for i in range(0, n - words + 1):
        a, b = spans[i][0], spans[i + words - 1][1]
        if keep is not None and not (a <= keep[0] and keep[1] <= b):
            continue
        value = prefix[i + words] - prefix[i]
        lo, hi = next_hit[i], prev_hit[i + words - 1]
        # among equally good windows, the one centred on the matched words (the answer is often just after)
        off = abs((lo + hi) / 2 - (i + (words - 1) / 2)) if lo <= hi else 0.0
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
