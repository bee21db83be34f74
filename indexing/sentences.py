"""Offline sentence splitting with character spans (pysbd: rule-based, no model download)."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

from indexing.models import Span

_PARAGRAPH = re.compile(r"[^\n]+")

# pysbd builds many patterns on the fly (one per abbreviation and rule) and overflows the `re`
# module's 512-entry cache, so it recompiles them for every paragraph; a larger cache makes
# splitting about 2x faster. Only raises the limit; harmless where the attribute is absent.
if getattr(re, "_MAXCACHE", 0) < 8192:
    re._MAXCACHE = 8192


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Span]:
    """Spans of the sentences of `text`; never crosses a line break, trims surrounding whitespace.

    pysbd handles abbreviations (Dr., U.S.), initials, decimals and quotes. Splitting line by
    line keeps headings and list items as their own sentences and keeps pysbd fast.
    """
    spans: list[Span] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        for piece in _segmenter().segment(paragraph.group()):
            start, end = base + piece.start, base + piece.end
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                spans.append(Span(start, end))
    return spans
