"""Embed prepared articles and write them to the store, chunks first, article record last."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from qdrant_client import models

from indexing.embedding import Embedder
from indexing.models import PreparedArticle
from indexing.sparse import document_vector
from indexing.store import DENSE, SENTENCES, SPARSE, TITLE, Store, article_point_id, chunk_point_id

UPSERT_BATCH = 256
PROGRESS_SLICE = 512  # texts per progress report while embedding


def _filter_article(article_id: str, keep_hash: str | None = None) -> models.Filter:
    must = [models.FieldCondition(key="article_id", match=models.MatchValue(value=article_id))]
    must_not = []
    if keep_hash is not None:
        must_not.append(models.FieldCondition(key="content_hash", match=models.MatchValue(value=keep_hash)))
    return models.Filter(must=must, must_not=must_not or None)


def embed_articles(
    prepared: list[PreparedArticle],
    embedder: Embedder,
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per article: (sentence embeddings, title embedding), encoded in one batched pass.

    With `on_progress(done, total)` the texts are encoded longest first in slices (the order
    sentence-transformers would use anyway), reporting after each slice.
    """
    texts: list[str] = []
    for item in prepared:
        texts.append(item.article.title)
        texts.extend(span.slice(item.article.text) for span in item.sentences)
    if on_progress is None:
        vectors = embedder.encode(texts, progress=progress)
    else:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        step = PROGRESS_SLICE
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            vectors[rows] = embedder.encode([texts[i] for i in rows])
            on_progress(min(start + step, len(texts)), len(texts))
    out, cursor = [], 0
    for item in prepared:
        title = vectors[cursor]
        sentences = vectors[cursor + 1 : cursor + 1 + len(item.sentences)]
        cursor += 1 + len(item.sentences)
        out.append((sentences, title))
    return out


def _chunk_points(item: PreparedArticle, sentence_vectors: np.ndarray, title_vector: np.ndarray) -> list:
    article = item.article
    position = {(span.start, span.end): index for index, span in enumerate(item.sentences)}
    points = []
    for chunk in item.chunks:
        rows = sentence_vectors[[position[(s.start, s.end)] for s in chunk.sentence_spans]]
        dense = rows.mean(axis=0)
        dense /= np.linalg.norm(dense) or 1.0
        indices, values = document_vector(chunk.text)
        points.append(
            models.PointStruct(
                id=chunk_point_id(article.article_id, chunk.index),
                vector={
                    DENSE: dense.tolist(),
                    SENTENCES: rows.tolist(),
                    TITLE: title_vector.tolist(),
                    SPARSE: models.SparseVector(indices=indices, values=values),
                },
                payload={
                    "article_id": article.article_id,
                    "chunk_index": chunk.index,
                    "text": chunk.text,
                    "start": chunk.span.start,
                    "end": chunk.span.end,
                    "sentences": [[s.start, s.end] for s in chunk.sentence_spans],
                    "title": article.title,
                    "url": article.url,
                    "source": article.source,
                    "published": article.published,
                    "content_hash": item.content_hash,
                },
            )
        )
    return points


def article_payload(item: PreparedArticle, extra: dict | None = None) -> dict:
    article = item.article
    return (extra or {}) | {
        "article_id": article.article_id,
        "title": article.title,
        "url": article.url,
        "source": article.source,
        "published": article.published,
        "origin": article.origin,
        "content_hash": item.content_hash,
        "text": article.text,
        "sentences": [[s.start, s.end] for s in item.sentences],
        "n_sentences": len(item.sentences),
        "n_chunks": len(item.chunks),
        "term_df": item.term_df,
        "indexed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _record(item: PreparedArticle, extra: dict | None = None) -> models.PointStruct:
    return models.PointStruct(
        id=article_point_id(item.article.article_id), vector={}, payload=article_payload(item, extra)
    )


def write_article(
    store: Store,
    item: PreparedArticle,
    sentence_vectors: np.ndarray,
    title_vector: np.ndarray,
    extra_payload: dict | None = None,
) -> int:
    """Upsert the chunks, drop stale ones, then write the article record (the commit marker)."""
    return write_batch(store, [item], [(sentence_vectors, title_vector)], [extra_payload])


def write_batch(
    store: Store,
    items: list[PreparedArticle],
    vectors: list[tuple[np.ndarray, np.ndarray]],
    extra_payloads: list[dict | None] | None = None,
) -> int:
    """Write several articles: all chunks, stale chunks dropped, then the article records.

    One stale-chunk delete and one record upsert per batch instead of per article (the embedded
    store scans every point for a filtered delete). The flush between chunks and records keeps
    the commit-marker order even across a power cut.
    """
    if not items:
        return 0
    points = [
        point for item, (rows, title) in zip(items, vectors, strict=True) for point in _chunk_points(item, rows, title)
    ]
    # Mark existing records as in progress first: if the run dies before the new records are
    # written, no hash or fingerprint matches on the next run, so it redoes these articles even
    # when their files were meanwhile reverted to the old content.
    touched = models.Filter(should=[_filter_article(item.article.article_id) for item in items])
    store.client.set_payload(
        store.articles_collection, {"content_hash": None, "fingerprint": None}, points=touched, wait=True
    )
    for start in range(0, len(points), UPSERT_BATCH):
        store.client.upsert(store.collection, points[start : start + UPSERT_BATCH], wait=True)
    stale = models.Filter(
        should=[_filter_article(item.article.article_id, keep_hash=item.content_hash) for item in items]
    )
    store.client.delete(store.collection, models.FilterSelector(filter=stale), wait=True)
    store.flush(store.collection)
    extras = extra_payloads or [None] * len(items)
    records = [_record(item, extra) for item, extra in zip(items, extras, strict=True)]
    store.client.upsert(store.articles_collection, records, wait=True)
    store.flush(store.articles_collection)
    return len(points)


def delete_article(store: Store, article_id: str) -> None:
    """Remove an article: its record first (so it reads as absent), then its chunks."""
    store.client.delete(store.articles_collection, models.FilterSelector(filter=_filter_article(article_id)), wait=True)
    store.client.delete(store.collection, models.FilterSelector(filter=_filter_article(article_id)), wait=True)


def index_prepared(
    store: Store,
    prepared: list[PreparedArticle],
    embedder: Embedder,
    progress: bool = False,
    on_written: Callable[[PreparedArticle, int], None] | None = None,
) -> int:
    """Embed and write a batch of prepared articles; returns the number of chunks written."""
    store.ensure(embedder.name, embedder.dimension)
    total = 0
    for item, (sentences, title) in zip(prepared, embed_articles(prepared, embedder, progress), strict=True):
        written = write_article(store, item, sentences, title)
        total += written
        if on_written:
            on_written(item, written)
    return total
