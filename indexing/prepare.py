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


class EmptyArticleError(ValueError):
    """The article has no prose left after cleaning."""


def content_hash(article: Article, chunk_sentences: int, chunk_overlap: int) -> str:
    """Hash of everything that ends up in the store, so any change triggers a rewrite."""
    payload = json.dumps(
        [article.title, article.text, article.url, article.published, article.source, chunk_sentences, chunk_overlap],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def clean_article(article: Article) -> Article:
    """The article as stored: cleaned text, one-line title. Cheap, so runs hash it before preparing."""
    text, _dropped = clean_text(article.text)
    if not text.strip():
        raise EmptyArticleError("no article text after cleaning")
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
    cleaned = clean_article(article)
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
