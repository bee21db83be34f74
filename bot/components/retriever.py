"""Hybrid candidate retrieval from Qdrant: dense (`dense` chunk vectors) and sparse (`bm25`) in one batch."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
from haystack import component, default_from_dict, default_to_dict
from qdrant_client import models

from bot.scoring import CandidatePool, SentenceCandidate
from indexing.store import DENSE, SENTENCES, SPARSE, TITLE

from ._store_params import StoreUser
from .resources import is_embedded, sparse_mirror

log = logging.getLogger(__name__)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def build_filter(filters: dict[str, str | None] | None) -> models.Filter | None:
    """Qdrant filter for article_id, source and a `published` date range (ISO dates or datetimes)."""
    if not filters:
        return None
    must: list[models.Condition] = []
    for key in ("article_id", "source"):
        if filters.get(key):
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=filters[key])))
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_to and _DATE_ONLY.match(date_to):
        date_to = f"{date_to}T23:59:59.999999"
    if date_from or date_to:
        must.append(models.FieldCondition(key="published", range=models.DatetimeRange(gte=date_from, lte=date_to)))
    return models.Filter(must=must) if must else None


@component
class HybridRetriever(StoreUser):
    """Fetches candidate chunks by dense and sparse similarity and expands them into candidate sentences.

    The chunks come back with their `sentences` multivector and `title` vector, so every sentence is
    scored later without re-encoding.
    """

    def __init__(
        self, store_params: dict[str, Any], dense_top_k: int = 24, sparse_top_k: int = 24, sparse_mode: str = "auto"
    ) -> None:
        """`sparse_mode`: "qdrant" (query Qdrant), "memory" (the in-memory mirror of the `bm25` vectors,
        see sparse_index.py) or "auto" (memory for the embedded store, Qdrant for a server)."""
        self.store_params = dict(store_params)
        self.dense_top_k = dense_top_k
        self.sparse_top_k = sparse_top_k
        self.sparse_mode = sparse_mode
        self._store = None

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            store_params=self.store_params,
            dense_top_k=self.dense_top_k,
            sparse_top_k=self.sparse_top_k,
            sparse_mode=self.sparse_mode,
        )

    def _use_memory(self) -> bool:
        return self.sparse_mode == "memory" or (self.sparse_mode == "auto" and is_embedded(self.store))

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
        store = self.store
        flt = build_filter(filters)
        requests = [
            models.QueryRequest(
                query=np.asarray(embedding, dtype=np.float32).tolist(),
                using=DENSE,
                limit=self.dense_top_k,
                filter=flt,
                with_payload=True,
                with_vector=[SENTENCES, TITLE],
            )
        ]
        memory = self._use_memory()
        if sparse_indices and not memory:
            requests.append(
                models.QueryRequest(
                    query=models.SparseVector(indices=sparse_indices, values=sparse_values),
                    using=SPARSE,
                    limit=self.sparse_top_k,
                    filter=flt,
                    with_payload=True,
                    with_vector=[SENTENCES, TITLE],
                )
            )
        responses = store.client.query_batch_points(store.collection, requests=requests)
        points: dict[Any, Any] = {}
        for response in responses:
            for point in response.points:
                points.setdefault(point.id, point)
        if sparse_indices and memory:
            ids = sparse_mirror(store).search(sparse_indices, sparse_values, self.sparse_top_k, filters)
            missing = [i for i in ids if i not in points]
            if missing:
                for record in store.client.retrieve(
                    store.collection, ids=missing, with_payload=True, with_vectors=[SENTENCES, TITLE]
                ):
                    points[record.id] = record
        return self._expand(list(points.values()))

    @staticmethod
    def _expand(points: list[Any]) -> dict[str, Any]:
        by_key: dict[tuple[str, int], SentenceCandidate] = {}
        titles: dict[str, np.ndarray] = {}
        links: dict[tuple[str, int], list[Any]] = {}
        chunks: dict[tuple[str, int], list[int]] = {}
        for number, point in enumerate(points):
            payload = point.payload or {}
            vectors = point.vector or {}
            article_id = payload.get("article_id")
            spans = payload.get("sentences") or []
            rows = vectors.get(SENTENCES) if isinstance(vectors, dict) else None
            if not article_id or not rows or len(rows) != len(spans):
                continue
            if isinstance(vectors, dict) and vectors.get(TITLE) is not None:
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
