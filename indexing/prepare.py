"""Turn a raw article into what the store needs: cleaned text, sentences, chunks and a hash."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from indexing.chunking import make_chunks
from indexing.cleaning import clean_text
from indexing.models import Article, PreparedArticle
from indexing.sentences import split_sentences
from indexing.sparse import tokenize

# How articles are read, cleaned and split. It is part of every file fingerprint and content hash,
# so bumping it makes the next run re-process every article once (e.g. after a splitting fix).
# 3: a blank line marks where a boilerplate line was dropped (indexing.cleaning.DROPPED_LINE_MARK).
PROCESSING_VERSION = 3


class ArticleError(ValueError):
    """An article that cannot be indexed; the message is the reason shown in the run summary."""


class EmptyArticleError(ArticleError):
    """The article has no prose left after cleaning."""


class ArticleTooLongError(ArticleError):
    """The article's text is longer than MAX_ARTICLE_CHARS."""


def content_hash(article: Article, chunk_sentences: int, chunk_overlap: int) -> str:
    """Hash of everything that ends up in the store and of how it was made, so any change triggers a rewrite."""
    payload = json.dumps(
        [
            PROCESSING_VERSION,
            article.title,
            article.text,
            article.url,
            article.published,
            article.source,
            chunk_sentences,
            chunk_overlap,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    """Identity of a cleaned text alone: the same story from two sources has the same text hash."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_article(article: Article, max_chars: int | None = None) -> Article:
    """The article as stored: cleaned text, one-line title. Cheap, so runs hash it before preparing.

    Raises EmptyArticleError, and ArticleTooLongError past `max_chars` characters of cleaned text
    (embedding cost grows with the text: a 5 MB article would keep a run busy for many minutes).
    """
    text, _dropped = clean_text(article.text)
    if not text.strip():
        raise EmptyArticleError("no article text after cleaning")
    if max_chars is not None and len(text) > max_chars:
        raise ArticleTooLongError(
            f"article too long ({len(text):,} characters of text > MAX_ARTICLE_CHARS {max_chars:,}); "
            "split it into smaller articles or raise MAX_ARTICLE_CHARS"
        )
    return Article(
        article_id=article.article_id,
        title=" ".join(article.title.split()) or article.article_id,
        text=text,
        url=article.url,
        published=article.published,
        source=article.source,
        origin=article.origin,
    )


def prepare_article(article: Article, chunk_sentences: int = 4, chunk_overlap: int = 1) -> PreparedArticle:
    """Clean, split into sentences, chunk, and count terms per sentence."""
    return prepare_cleaned(clean_article(article), chunk_sentences, chunk_overlap)


def prepare_cleaned(cleaned: Article, chunk_sentences: int = 4, chunk_overlap: int = 1) -> PreparedArticle:
    """Split an article `clean_article` already cleaned (cleaning twice would erase its dropped-line marks)."""
    text = cleaned.text
    sentences = split_sentences(text)
    chunks = make_chunks(text, sentences, chunk_sentences, chunk_overlap)
    term_df: Counter[str] = Counter()
    for span in sentences:
        term_df.update(set(tokenize(span.slice(text))))
    return PreparedArticle(
        article=cleaned,
        content_hash=content_hash(cleaned, chunk_sentences, chunk_overlap),
        sentences=sentences,
        chunks=chunks,
        term_df=dict(term_df),
    )
