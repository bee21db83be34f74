"""Offline sentence splitting with character spans (pysbd rules), safe across threads and linear in length.

pysbd decides the boundaries. Two things around it keep it usable on any input:
- no shared state: pysbd's `Segmenter` stores the text being split on itself, so one cached
  segmenter used by two threads (the bot composing answers while /reindex splits articles) mixes
  their texts and loses sentences. Here each call runs pysbd's stateless `Processor` and locates
  the sentences itself.
- bounded cost: pysbd's processing is quadratic in paragraph length (a 5 MB one-line file would
  take hours), so a long paragraph is fed to pysbd in windows of at most `WINDOW_CHARS`, each
  starting where pysbd began a sentence, and only boundaries with `WINDOW_MARGIN` characters of
  right context are kept. A run-on "sentence" is cut at a safe boundary (clause punctuation, else
  a space) so none exceeds `MAX_SENTENCE_CHARS`.
Every span is an exact range of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pysbd.languages import Language
from pysbd.processor import Processor

from indexing.models import Span

WINDOW_CHARS = 4000  # paragraphs up to this length are split in one pysbd call, exactly as before
WINDOW_MARGIN = 400  # right context a boundary needs before it is trusted
MAX_SENTENCE_CHARS = 1500  # longer "sentences" are cut (longest in the eval sets: 1,412)

_PARAGRAPH = re.compile(r"[^\n]+")
# Where a run-on sentence may be cut, best first. pysbd already declined every full stop inside it
# (abbreviations such as "U.S." or quoted passages), so clause punctuation comes first.
_CUTS = (
    re.compile(r"[;；](?=\s)|；"),
    re.compile(r"[.!?。！？…][\"'”’»)\]]*(?=\s)|[。！？]"),
    re.compile(r"[:：](?=\s)|："),
    re.compile(r"[,，、](?=\s)|[，、]"),
)
_SPACE = re.compile(r"\s+")

# pysbd builds many patterns on the fly (one per abbreviation and rule) and overflows the `re`
# module's 512-entry cache, so it recompiles them for every paragraph; a larger cache makes
# splitting about 2x faster. Only raises the limit; harmless where the attribute is absent.
if getattr(re, "_MAXCACHE", 0) < 8192:
    re._MAXCACHE = 8192


@lru_cache(maxsize=1)
def _english():
    return Language.get_language_code("en")  # a module of constant rules, safe to share


def _pysbd_spans(text: str, start: int, end: int) -> list[Span]:
    """pysbd's sentences of text[start:end] as spans of `text` (what `Segmenter(char_span=True)` gives).

    Located front to back with a cursor (pysbd rescans the whole text for each sentence, which is
    quadratic); a sentence pysbd altered beyond recognition is skipped, as pysbd itself does.
    """
    piece = text[start:end]
    if not piece:
        return []
    spans: list[Span] = []
    cursor = 0
    for sentence in Processor(piece, _english(), char_span=True).process():
        found = piece.find(sentence, cursor)
        if found < 0 or not sentence:
            continue
        stop = found + len(sentence)
        spans.append(Span(start + found, start + stop))
        space = _SPACE.match(piece, stop)
        cursor = space.end() if space else stop
    return spans


def _cut(text: str, start: int, limit: int) -> int:
    """Where to end a run-on sentence that starts at `start` so it stays within `limit` characters."""
    end = start + limit
    for pattern in _CUTS:
        best = None
        for match in pattern.finditer(text, start + limit // 2, end):
            best = match.end()
        if best is not None:
            return best
    spaces = [m.start() for m in _SPACE.finditer(text, start + 1, end)]
    if spaces:
        return spaces[-1]
    while start + 1 < end < len(text) and unicodedata.combining(text[end]):
        end -= 1  # never split a letter from its accent
    return end


def _capped(text: str, span: Span, limit: int) -> list[Span]:
    """`span` cut into pieces of at most `limit` characters at safe boundaries."""
    pieces = []
    start = span.start
    while span.end - start > limit:
        stop = _cut(text, start, limit)
        pieces.append(Span(start, stop))
        start = stop
    pieces.append(Span(start, span.end))
    return pieces


def _paragraph_spans(text: str, start: int, end: int) -> list[Span]:
    """Sentences of the paragraph text[start:end], windowed when it is long."""
    if end - start <= WINDOW_CHARS:
        return _pysbd_spans(text, start, end)
    spans: list[Span] = []
    pos = start
    while pos < end:
        stop = min(pos + WINDOW_CHARS, end)
        found = _pysbd_spans(text, pos, stop)
        if stop == end:
            spans.extend(found)
            break
        trusted = [span for span in found if span.end <= stop - WINDOW_MARGIN]  # a prefix of `found`
        if trusted:
            spans.extend(trusted)
            pos = found[len(trusted)].start if len(trusted) < len(found) else trusted[-1].end
            continue
        # no boundary pysbd would stand by: a run-on sentence, cut at safe places up to the margin
        pos = found[0].start if found else pos
        while True:
            cut = _cut(text, pos, min(MAX_SENTENCE_CHARS, end - pos))
            spans.append(Span(pos, cut))
            pos = cut
            if pos + MAX_SENTENCE_CHARS > stop - WINDOW_MARGIN:
                break
    return spans


def split_sentences(text: str) -> list[Span]:
    """Spans of the sentences of `text`; never crosses a line break, trims surrounding whitespace.

    pysbd handles abbreviations (Dr., U.S.), initials, decimals and quotes. Splitting line by
    line keeps headings and list items as their own sentences. Safe to call from any thread.
    """
    spans: list[Span] = []
    for paragraph in _PARAGRAPH.finditer(text):
        for found in _paragraph_spans(text, paragraph.start(), paragraph.end()):
            for piece in _capped(text, found, MAX_SENTENCE_CHARS):
                start, end = piece.start, piece.end
                while start < end and text[start].isspace():
                    start += 1
                while end > start and text[end - 1].isspace():
                    end -= 1
                if end > start:
                    spans.append(Span(start, end))
    return spans
