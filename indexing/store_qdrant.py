"""The store over qdrant-client: a Qdrant server (`QDRANT_URL`, one node or a cluster) or qdrant-client's
local mode (`QDRANT_ENGINE=local`: the embedded format before Qdrant Edge, and `:memory:` for tests).

Two collections per `QDRANT_COLLECTION`: `<name>` (chunks) and `<name>_articles` (records), the same
names as before, so a local-mode folder keeps working with `QDRANT_ENGINE=local`. The model, dimension,
schema and generation live in the chunk collection's metadata. On a server the collections are created
with `QDRANT_SHARDS` and `QDRANT_REPLICATION_FACTOR` (docs/store.md) and payload indexes for the filters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from indexing.settings import Settings
from indexing.store import (
    ARTICLES,
    CHUNKS,
    DENSE,
    INDEXED_FIELDS,
    SENTENCES,
    SPARSE,
    TITLE,
    ChunkPoint,
    ChunkQuery,
    SearchFilter,
    Store,
    StoredPoint,
    StoreError,
    StoreFormatError,
    StoreLockedError,
    article_point_id,
    locked_message,
)

log = logging.getLogger(__name__)

_SCHEMAS = {"keyword": models.PayloadSchemaType.KEYWORD, "datetime": models.PayloadSchemaType.DATETIME}
_EXISTS_TTL = 2.0  # seconds a server's "collections exist" answer is reused
SWEEP_GRACE = 600.0  # seconds a stray chunk on a server waits before a sweep deletes it


def _is_locked(path: Path) -> bool:
    """Whether another client holds the local-mode folder's lock (checked without waiting)."""
    lock_file = path / ".lock"
    if not lock_file.exists():
        return False
    import portalocker

    with open(lock_file, "r+") as handle:
        try:
            portalocker.lock(handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
        except portalocker.exceptions.LockException:
            return True
        portalocker.unlock(handle)
    return False


def _payload_selector(fields: Sequence[str] | None, exclude: Sequence[str] | None) -> Any:
    if fields is not None:
        return models.PayloadSelectorInclude(include=list(fields))
    if exclude:
        return models.PayloadSelectorExclude(exclude=list(exclude))
    return True


def qdrant_filter(filters: SearchFilter | None) -> models.Filter | None:
    if filters is None or not filters.active:
        return None
    must: list[models.Condition] = []
    for key in ("article_id", "source"):
        value = getattr(filters, key)
        if value:
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
    if filters.date_from or filters.date_to:
        must.append(
            models.FieldCondition(
                key="published", range=models.DatetimeRange(gte=filters.date_from, lte=filters.date_until)
            )
        )
    return models.Filter(must=must)


def _stored(point: Any) -> StoredPoint:
    vectors = point.vector if isinstance(point.vector, dict) else {}
    return StoredPoint(
        id=str(point.id), payload=point.payload or {}, vectors=vectors, score=float(getattr(point, "score", 0.0) or 0.0)
    )


class QdrantStore(Store):
    """Chunks and article records as two collections of a Qdrant server or of qdrant-client's local mode."""

    def __init__(self, client: QdrantClient, settings: Settings, engine: str) -> None:
        super().__init__(settings.qdrant_collection)
        self.client = client
        self.engine = engine
        self.exclusive_writes = engine == "local"  # local mode is pure Python: no write beside a read
        self.sweep_grace = SWEEP_GRACE if engine == "server" else 0.0  # a server may have other writers
        self.articles_collection = f"{self.collection}_articles"
        self._shards = settings.qdrant_shards
        self._replication = settings.qdrant_replication_factor
        self._exists_at = 0.0

    @classmethod
    def connect(cls, settings: Settings) -> QdrantStore:
        """A Qdrant server (or cluster) at `QDRANT_URL`."""
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        client = QdrantClient(url=settings.qdrant_url, api_key=api_key or None, timeout=int(settings.qdrant_timeout))
        return cls(client, settings, "server")

    @classmethod
    def open_local(cls, settings: Settings, *, upgrade: bool = False) -> QdrantStore:
        """qdrant-client's local mode in `QDRANT_PATH` (or in memory when it is `:memory:`)."""
        if str(settings.qdrant_path) == ":memory:":
            return cls(QdrantClient(location=":memory:"), settings, "local")
        path = Path(settings.qdrant_path)
        from indexing.store_edge import META_FILE, edge_root, local_mode_collections

        if (
            not upgrade
            and (edge_root(settings) / META_FILE).exists()
            and settings.qdrant_collection not in local_mode_collections(path)
        ):
            raise StoreFormatError(
                f"QDRANT_ENGINE=local, but the store at {path} holds collection '{settings.qdrant_collection}' "
                "in the Qdrant Edge format: unset QDRANT_ENGINE to use it."
            )
        path.mkdir(parents=True, exist_ok=True)
        if _is_locked(path):
            raise StoreLockedError(locked_message(path))  # before QdrantClient loads every point
        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as error:
            if "already accessed by another instance" in str(error):
                raise StoreLockedError(locked_message(path)) from None
            raise
        return cls(client, settings, "local")

    def _name(self, kind: str) -> str:
        return self.collection if kind == CHUNKS else self.articles_collection

    # ------------------------------------------------------------------ schema

    def _close(self) -> None:
        self.client.close()

    def _exists(self) -> bool:
        if self.engine == "server" and time.monotonic() - self._exists_at < _EXISTS_TTL:
            return True
        try:
            found = self.client.collection_exists(self.collection) and self.client.collection_exists(
                self.articles_collection
            )
        except Exception as error:
            if self.engine == "server":
                raise StoreError(f"Cannot reach the Qdrant server: {error}") from error
            raise
        self._exists_at = time.monotonic() if found else 0.0
        return found

    def _metadata(self) -> dict[str, Any]:
        return dict(self.client.get_collection(self.collection).config.metadata or {})

    def _create(self, metadata: dict[str, Any], dimension: int) -> None:
        read_back = {"hnsw_config": models.HnswConfigDiff(m=0), "on_disk": True}  # returned with hits, never searched
        cluster = {"shard_number": self._shards, "replication_factor": self._replication}
        cluster = {key: value for key, value in cluster.items() if value is not None and self.engine == "server"}
        if not self.client.collection_exists(self.collection):
            self.client.create_collection(
                self.collection,
                vectors_config={
                    DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE),
                    TITLE: models.VectorParams(size=dimension, distance=models.Distance.COSINE, **read_back),
                    SENTENCES: models.VectorParams(
                        size=dimension,
                        distance=models.Distance.COSINE,
                        multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                        **read_back,
                    ),
                },
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                on_disk_payload=True,
                metadata=metadata,
                **cluster,
            )
        if not self.client.collection_exists(self.articles_collection):
            self.client.create_collection(
                self.articles_collection, vectors_config={}, on_disk_payload=True, metadata=metadata, **cluster
            )
        if self.engine == "server":  # local mode has no payload indexes (and warns about them)
            for collection in (self.collection, self.articles_collection):
                for name, schema in INDEXED_FIELDS.items():
                    self.client.create_payload_index(collection, name, field_schema=_SCHEMAS[schema], wait=True)
        self._exists_at = 0.0

    def _drop(self) -> None:
        for name in (self.collection, self.articles_collection):
            if self.client.collection_exists(name):
                self.client.delete_collection(name)
        self._exists_at = 0.0

    def _read_metadata(self) -> dict[str, Any]:
        return self._metadata() if self._exists() else {}

    def _update_metadata(self, fields: dict[str, Any]) -> None:
        self.client.update_collection(self.collection, metadata=fields)

    # ------------------------------------------------------------------ writes

    def _upsert_chunks(self, points: Sequence[ChunkPoint]) -> None:
        made = [
            models.PointStruct(
                id=p.id,
                vector={
                    DENSE: p.dense,
                    SENTENCES: p.sentences,
                    TITLE: p.title,
                    SPARSE: models.SparseVector(indices=p.sparse_indices, values=p.sparse_values),
                },
                payload=p.payload,
            )
            for p in points
        ]
        self.client.upsert(self.collection, made, wait=True)

    def _upsert_records(self, payloads: Sequence[dict[str, Any]]) -> None:
        made = [models.PointStruct(id=article_point_id(p["article_id"]), vector={}, payload=p) for p in payloads]
        self.client.upsert(self.articles_collection, made, wait=True)

    def _set_record_fields(self, article_id: str, fields: dict[str, Any]) -> None:
        self.client.set_payload(self.articles_collection, fields, points=[article_point_id(article_id)], wait=True)

    def _delete(self, kind: str, ids: list[str]) -> None:
        if ids:
            self.client.delete(self._name(kind), models.PointIdsList(points=ids), wait=True)

    def _delete_chunks_where(self, article_id: str, from_index: int) -> None:
        must: list[models.Condition] = [
            models.FieldCondition(key="article_id", match=models.MatchValue(value=article_id))
        ]
        if from_index > 0:
            must.append(models.FieldCondition(key="chunk_index", range=models.Range(gte=from_index)))
        self.client.delete(self.collection, models.FilterSelector(filter=models.Filter(must=must)), wait=True)

    # ------------------------------------------------------------------ reads

    def _records(
        self, article_ids: list[str], fields: list[str] | None, exclude: list[str] | None = None
    ) -> dict[str, dict]:
        if fields is not None and "article_id" not in fields:
            fields = [*fields, "article_id"]
        found = self.client.retrieve(
            self.articles_collection,
            ids=[article_point_id(a) for a in article_ids],
            with_payload=_payload_selector(fields, exclude),
            with_vectors=False,
        )
        return {r.payload["article_id"]: r.payload for r in found if r.payload and r.payload.get("article_id")}

    def _scroll(
        self,
        kind: str,
        filters: SearchFilter | None,
        fields: Sequence[str] | None,
        exclude: Sequence[str] | None,
        vectors: Sequence[str],
        limit: int,
        offset: Any,
    ) -> tuple[list[StoredPoint], Any]:
        points, next_offset = self.client.scroll(
            self._name(kind),
            scroll_filter=qdrant_filter(filters),
            limit=limit,
            offset=offset,
            with_payload=_payload_selector(fields, exclude),
            with_vectors=list(vectors) if vectors else False,
        )
        return [_stored(p) for p in points], next_offset

    def _query(self, queries: Sequence[ChunkQuery]) -> list[list[StoredPoint]]:
        requests = []
        for q in queries:
            if q.dense is not None:
                query, using = list(q.dense), DENSE
            elif q.sparse is not None:
                query, using = models.SparseVector(indices=list(q.sparse[0]), values=list(q.sparse[1])), SPARSE
            else:
                raise ValueError("a chunk query needs a dense or a sparse vector")
            requests.append(
                models.QueryRequest(
                    query=query,
                    using=using,
                    limit=q.limit,
                    filter=qdrant_filter(q.filters),
                    params=models.SearchParams(hnsw_ef=q.hnsw_ef, exact=q.exact) if q.exact or q.hnsw_ef else None,
                    with_payload=True,
                    with_vector=list(q.vectors) if q.vectors else False,
                )
            )
        responses = self.client.query_batch_points(self.collection, requests=requests)
        return [[_stored(p) for p in response.points] for response in responses]

    def _count(self, kind: str) -> int:
        return self.client.count(self._name(kind), exact=True).count

    def _chunk_counts(self) -> dict[str, int]:
        limit = max(1024, 2 * self._count(ARTICLES))
        while True:
            hits = self.client.facet(self.collection, key="article_id", limit=limit, exact=True).hits
            if len(hits) < limit:
                return {str(hit.value): int(hit.count) for hit in hits if hit.count > 0}
            limit *= 4
