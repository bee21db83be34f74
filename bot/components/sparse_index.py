"""An in-memory mirror of the chunks' `bm25` sparse vectors, for the embedded store.

Qdrant's embedded (local) mode scores sparse vectors in pure Python over every point: about 150 ms per
query on 3,400 chunks, the whole latency budget. With a Qdrant server the sparse query runs in Qdrant;
in embedded mode the retriever reads the same vectors once into a SciPy matrix and scores them here
with the same IDF formula as Qdrant's IDF modifier. The mirror is rebuilt after `refresh()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from qdrant_client import models
from scipy import sparse

from indexing.store import SPARSE, Store

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class SparseMirror:
    ids: list
    matrix: sparse.csc_matrix  # rows: chunks, columns: terms
    columns: dict[int, int]  # term index (crc32) -> column
    idf: np.ndarray  # per column, Qdrant's IDF modifier
    article_id: np.ndarray
    source: np.ndarray
    published: np.ndarray

    @classmethod
    def load(cls, store: Store) -> SparseMirror:
        ids, rows, cols, vals = [], [], [], []
        article_ids, sources, published = [], [], []
        columns: dict[int, int] = {}
        selector = models.PayloadSelectorInclude(include=["article_id", "source", "published"])
        for point in store.scroll_all(store.collection, with_payload=selector, with_vectors=[SPARSE], page=512):
            vector = (point.vector or {}).get(SPARSE)
            row = len(ids)
            ids.append(point.id)
            payload = point.payload or {}
            article_ids.append(payload.get("article_id") or "")
            sources.append(payload.get("source") or "")
            published.append(payload.get("published") or "")
            if vector is None:
                continue
            for index, value in zip(vector.indices, vector.values, strict=True):
                rows.append(row)
                cols.append(columns.setdefault(index, len(columns)))
                vals.append(value)
        matrix = sparse.csc_matrix(
            (np.asarray(vals, dtype=np.float32), (np.asarray(rows), np.asarray(cols))),
            shape=(len(ids), max(len(columns), 1)),
        )
        n = len(ids)
        df = np.diff(matrix.indptr).astype(np.float64)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        return cls(
            ids=ids,
            matrix=matrix,
            columns=columns,
            idf=idf,
            article_id=np.asarray(article_ids, dtype=object),
            source=np.asarray(sources, dtype=object),
            published=np.asarray(published, dtype=object),
        )

    def _mask(self, filters: dict[str, str | None] | None) -> np.ndarray | None:
        if not filters:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if filters.get("article_id"):
            mask &= self.article_id == filters["article_id"]
        if filters.get("source"):
            mask &= self.source == filters["source"]
        date_from, date_to = filters.get("date_from"), filters.get("date_to")
        if date_from or date_to:
            keep = []
            for value in self.published:
                keep.append(bool(value) and in_range(value, date_from, date_to))
            mask &= np.asarray(keep, dtype=bool)
        return mask

    def search(self, indices: list[int], values: list[float], limit: int, filters: dict | None = None) -> list:
        """Ids of the `limit` best chunks for the sparse query (dot product with IDF, as Qdrant)."""
        cols = [self.columns[i] for i in indices if i in self.columns]
        if not cols or not self.ids:
            return []
        weights = np.asarray([v for i, v in zip(indices, values, strict=True) if i in self.columns], dtype=np.float32)
        scores = self.matrix[:, cols] @ (weights * self.idf[cols])
        scores = np.asarray(scores).ravel()
        mask = self._mask(filters)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(limit, int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        return [self.ids[i] for i in top[np.argsort(-scores[top])]]


def in_range(published: str, date_from: str | None, date_to: str | None) -> bool:
    """ISO comparison that treats a date-only bound as the whole day."""
    if date_from and published < date_from:
        return False
    if date_to:
        bound = f"{date_to}T23:59:59.999999" if _DATE_ONLY.match(date_to) else date_to
        if published > bound:
            return False
    return True
