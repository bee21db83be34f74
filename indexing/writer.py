"""Embed prepared articles and write them to the store, chunks first, article record last."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from indexing.embedding import Embedder
from indexing.models import PreparedArticle
from indexing.sparse import document_vector
from indexing.store import ChunkPoint, Store, chunk_point_id

UPSERT_BATCH = 256
PROGRESS_SLICE = 512  # texts per progress report while embedding


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


def _chunk_points(item: PreparedArticle, sentence_vectors: np.ndarray, title_vector: np.ndarray) -> list[ChunkPoint]:
    """The article's chunks as store points; vectors become lists once per array (the cheap form)."""
    article = item.article
    position = {(span.start, span.end): index for index, span in enumerate(item.sentences)}
    title = title_vector.tolist()
    points = []
    for chunk in item.chunks:
        rows = sentence_vectors[[position[(s.start, s.end)] for s in chunk.sentence_spans]]
        dense = rows.mean(axis=0)
        dense /= np.linalg.norm(dense) or 1.0
        indices, values = document_vector(chunk.text)
        points.append(
            ChunkPoint(
                id=chunk_point_id(article.article_id, chunk.index),
                dense=dense.tolist(),
                sentences=rows.tolist(),
                title=title,
                sparse_indices=indices,
                sparse_values=values,
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


def _record(item: PreparedArticle, extra: dict | None = None) -> dict:
    """The article record's payload (the commit marker, written after the article's chunks)."""
    return article_payload(item, extra)


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
    """Write several articles: records marked in progress, all chunks, stale chunks dropped, then the records.

    Stale chunks of an update are found by id: the indices from the new chunk count up to the count
    the record held, so the work stays proportional to the articles written, whatever the store's size.
    """
    if not items:
        return 0
    # Mark existing records as in progress first: if the run dies before the new records are
    # written, no hash or fingerprint matches on the next run, so it redoes these articles even
    # when their files were meanwhile reverted to the old content. The records' n_chunks then
    # cover the new chunks too, so a later run or prune still finds every one by id.
    held = store.mark_in_progress({item.article.article_id: len(item.chunks) for item in items})
    points = [
        point for item, (rows, title) in zip(items, vectors, strict=True) for point in _chunk_points(item, rows, title)
    ]
    for start in range(0, len(points), UPSERT_BATCH):
        store.upsert_chunks(points[start : start + UPSERT_BATCH])
    for item in items:
        article_id = item.article.article_id
        store.delete_chunks(article_id, range(len(item.chunks), held.get(article_id, 0)))
    extras = extra_payloads or [None] * len(items)
    store.write_records([_record(item, extra) for item, extra in zip(items, extras, strict=True)])
    return len(points)


def delete_article(store: Store, article_id: str) -> None:
    """Remove an article: its chunks first (by id), then its record."""
    store.delete_article(article_id)


def index_prepared(
    store: Store,
    prepared: list[PreparedArticle],
    embedder: Embedder,
    progress: bool = False,
    on_written: Callable[[PreparedArticle, int], None] | None = None,
) -> int:
    """Embed and write a batch of prepared articles as one indexing run; returns the chunks written."""
    store.ensure(embedder.name, embedder.dimension)
    total = 0
    for item, (sentences, title) in zip(prepared, embed_articles(prepared, embedder, progress), strict=True):
        written = write_article(store, item, sentences, title)
        total += written
        if on_written:
            on_written(item, written)
    store.finish_run()
    return total
