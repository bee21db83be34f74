"""Sentence-aligned chunks: windows of whole sentences that carry their sentence spans."""

from __future__ import annotations

from indexing.models import Chunk, Span


def make_chunks(text: str, sentences: list[Span], size: int, overlap: int) -> list[Chunk]:
    """Windows of `size` sentences, each sharing `overlap` sentences with the previous one.

    A chunk's text is the exact slice of the article text from its first sentence's start to its
    last sentence's end, so every sentence span is valid in both the article and the chunk.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("chunk size must be >= 1 and overlap in [0, size)")
    chunks: list[Chunk] = []
    step = size - overlap
    start = 0
    while start < len(sentences):
        window = sentences[start : start + size]
        span = Span(window[0].start, window[-1].end)
        chunks.append(Chunk(index=len(chunks), span=span, sentence_spans=list(window), text=span.slice(text)))
        if start + size >= len(sentences):
            break
        start += step
    return chunks
