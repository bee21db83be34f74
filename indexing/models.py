"""Plain data passed between the stages of indexing and read back by the answer side."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) in an article's cleaned text."""

    start: int
    end: int

    def slice(self, text: str) -> str:
        return text[self.start : self.end]


@dataclass
class Article:
    """One article as read from a source, before or after cleaning."""

    article_id: str
    title: str
    text: str
    url: str | None = None
    published: str | None = None  # ISO 8601 date or datetime
    source: str | None = None  # outlet / publisher
    origin: str | None = None  # where it was read from (path or URL), for reports and pruning


@dataclass
class Chunk:
    """A sentence-aligned window of an article: the unit stored as one Qdrant point."""

    index: int
    span: Span
    sentence_spans: list[Span]
    text: str


@dataclass
class PreparedArticle:
    """An article cleaned, split and chunked, with its content hash: ready to embed and write."""

    article: Article
    content_hash: str
    sentences: list[Span]
    chunks: list[Chunk]
    term_df: dict[str, int] = field(default_factory=dict)
