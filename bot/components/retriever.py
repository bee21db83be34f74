"""Hybrid candidate retrieval: dense (`dense` chunk vectors) and sparse (`bm25`) chunk queries in one batch."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from haystack import component, default_from_dict, default_to_dict

from bot.scoring import CandidatePool, SentenceCandidate
from indexing.store import SENTENCES, TITLE, ChunkQuery, SearchFilter, StoredPoint

from ._store_params import StoreUser

log = logging.getLogger(__name__)


@component
class HybridRetriever(StoreUser):
    """Fetches candidate chunks by dense and sparse similarity and expands them into candidate sentences.

    The chunks come back with their `sentences` multivector and `title` vector, so every sentence is
    scored later without re-encoding.
    """

    def __init__(self, store_params: dict[str, Any], dense_top_k: int = 24, sparse_top_k: int = 24) -> None:
        self.store_params = dict(store_params)
        self.dense_top_k = dense_top_k
        self.sparse_top_k = sparse_top_k

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, store_params=self.store_params, dense_top_k=self.dense_top_k, sparse_top_k=self.sparse_top_k
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridRetriever:
        return default_from_dict(cls, data)

    @component.output_types(pool=CandidatePool)
    def run(
        self,
        embedding: np.ndarray,
        sparse_indices: list[int],
        sparse_values: list[float],
        filters: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        flt = SearchFilter.from_dict(filters)
        queries = [
            ChunkQuery(limit=self.dense_top_k, dense=np.asarray(embedding, dtype=np.float32).tolist(), filters=flt)
        ]
        if sparse_indices:
            queries.append(ChunkQuery(limit=self.sparse_top_k, sparse=(sparse_indices, sparse_values), filters=flt))
        points: dict[str, StoredPoint] = {}
        for hits in self.store.query(queries):
            for point in hits:
                points.setdefault(point.id, point)
        return self._expand(list(points.values()))

    @staticmethod
    def _expand(points: list[StoredPoint]) -> dict[str, Any]:
        by_key: dict[tuple[str, int], SentenceCandidate] = {}
        titles: dict[str, np.ndarray] = {}
        links: dict[tuple[str, int], list[Any]] = {}
        chunks: dict[tuple[str, int], list[int]] = {}
        for number, point in enumerate(points):
            payload = point.payload
            vectors = point.vectors
            article_id = payload.get("article_id")
            spans = payload.get("sentences") or []
            rows = vectors.get(SENTENCES)
            if not article_id or rows is None or len(rows) == 0 or len(rows) != len(spans):
                continue
            if vectors.get(TITLE) is not None:
                titles.setdefault(article_id, np.asarray(vectors[TITLE], dtype=np.float32))
            text, offset = payload.get("text") or "", int(payload.get("start") or 0)
            for i, (start, end) in enumerate(spans):
                key = (article_id, start)
                prev_start = spans[i - 1][0] if i > 0 else None
                next_start = spans[i + 1][0] if i + 1 < len(spans) else None
                gap = text[end - offset : next_start - offset] if next_start is not None else None
                link = links.setdefault(key, [None, None, None])
                link[0] = link[0] if link[0] is not None else prev_start
                if link[1] is None and next_start is not None:
                    link[1], link[2] = next_start, gap
                chunks.setdefault(key, []).append(number)
                if key in by_key:
                    continue
                by_key[key] = SentenceCandidate(
                    article_id=article_id,
                    start=start,
                    end=end,
                    text=text[start - offset : end - offset],
                    prev_start=None,
                    next_start=None,
                    gap_after=None,
                    title=payload.get("title") or article_id,
                    url=payload.get("url"),
                    source=payload.get("source"),
                    published=payload.get("published"),
                    content_hash=payload.get("content_hash") or "",
                    vector=np.asarray(rows[i], dtype=np.float32),
                )
        for key, candidate in by_key.items():
            candidate.prev_start, candidate.next_start, candidate.gap_after = links[key]
            candidate.chunks = tuple(chunks[key])
        return {"pool": CandidatePool(list(by_key.values()), titles)}
