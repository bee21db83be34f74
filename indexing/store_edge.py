"""The embedded store on Qdrant Edge (`qdrant-edge-py`): the Qdrant engine in-process, data on disk.

Folder layout under `QDRANT_PATH` (beside, never inside, the old local-mode files `meta.json` and
`collection/`):

    edge/<collection>/store.json   model, dimension, schema version, generation (Edge shards have no metadata)
    edge/<collection>/.lock        held while a process has the store open (one process at a time)
    edge/<collection>/chunks/      Edge shard: one point per chunk
    edge/<collection>/articles/    Edge shard: one vector-less point per article (the records)

Vectors other than `dense` and the payload stay on disk (mmap) and are read per hit; `dense` is
cached in the page cache and gets an HNSW graph when its segment is large enough (`optimize`, at
the end of each indexing run). The shard's write-ahead log keeps the write order across a crash,
so chunks written before their record are never seen after a record that was not.

Segments (see docs/store.md, "Segments and HNSW upkeep"): Edge writes into one appendable segment
(searched exactly) and its optimizer turns segments into indexed ones with an HNSW graph each,
only when `optimize` is called. Left to its defaults it merges every new batch into the smallest
indexed segment (on 2 cores: up to ~83k chunks), rebuilding that whole graph on a daily run, and a
big run would end as one giant segment. So the chunk shard is configured to merge only segments
that stay under `MERGE_CHUNKS` (bounding the graph a daily run rebuilds), to tolerate
`TARGET_SEGMENTS` small segments before merging them, and a long run indexes what it wrote every
`RUN_SEGMENT_CHUNKS` chunks (segments that big are never merged again).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

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

EDGE_DIR = "edge"
META_FILE = "store.json"
_PLACEHOLDER = "none"  # the article shard's only (never written) vector: Edge needs one to create a shard
_NO_GRAPH = qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000)  # read back, never searched
_SCHEMAS = {"keyword": qe.PayloadSchemaType.Keyword, "datetime": qe.PayloadSchemaType.Datetime}
MERGE_CHUNKS = 20_000  # no merge builds a graph over more chunks than this: bounds a daily run's upkeep
RUN_SEGMENT_CHUNKS = 125_000  # a long run indexes its appendable segment every this many chunks
FLUSH_CHUNKS = 25_000  # and flushes every this many, so the write-ahead log is truncated as it goes
TARGET_SEGMENTS = 8  # small segments tolerated before the optimizer merges the smallest ones


def edge_root(settings: Settings) -> Path:
    """The folder of this collection's Edge store."""
    return Path(settings.qdrant_path) / EDGE_DIR / settings.qdrant_collection


def local_mode_collections(path: Path) -> set[str]:
    """Collections of a qdrant-client local-mode store in `path` (its `meta.json`), empty when none."""
    meta = path / "meta.json"
    if not meta.is_file():
        return set()
    try:
        return set(json.loads(meta.read_text(encoding="utf-8")).get("collections") or {})
    except (OSError, ValueError, AttributeError):
        return set()


def legacy_message(path: Path, collection: str) -> str:
    return (
        f"The store at {path} holds collection '{collection}' in qdrant-client's local-mode format, "
        "the embedded store before Qdrant Edge. Run `python -m indexing --recreate` to rebuild it with "
        "Qdrant Edge (then the old meta.json and collection/ folder there can be deleted), "
        "or set QDRANT_ENGINE=local to keep using it as it is."
    )


class _FolderLock:
    """An exclusive, non-blocking lock on `<root>/.lock`, held while the store is open."""

    def __init__(self, root: Path) -> None:
        import portalocker

        self._handle = open(root / ".lock", "a+")  # noqa: SIM115 - held until release()
        try:
            portalocker.lock(self._handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
        except portalocker.exceptions.LockException:
            self._handle.close()
            raise StoreLockedError(locked_message(root.parent.parent)) from None

    def release(self) -> None:
        if not self._handle.closed:
            import portalocker

            portalocker.unlock(self._handle)
            self._handle.close()


def chunk_config(dimension: int, chunk_sentences: int) -> qe.EdgeConfig:
    """The chunk shard's layout and optimizer settings (also passed on load: older stores get the settings)."""
    read_back = {"size": dimension, "distance": qe.Distance.Cosine, "hnsw_config": _NO_GRAPH, "memory": qe.Memory.Cold}
    # Edge measures a segment by its largest vector, here `sentences`: chunk_sentences vectors per chunk.
    chunk_kb = max(1, chunk_sentences * dimension * 4 // 1024)
    return qe.EdgeConfig(
        vectors={
            DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine, memory=qe.Memory.Cached),
            TITLE: qe.EdgeVectorParams(**read_back),
            SENTENCES: qe.EdgeVectorParams(
                **read_back, multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)
            ),
        },
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        payload_memory=qe.Memory.Cold,
        optimizers=qe.EdgeOptimizersConfig(
            default_segment_number=TARGET_SEGMENTS, max_segment_size=MERGE_CHUNKS * chunk_kb
        ),
    )


def _payload_selector(fields: Sequence[str] | None, exclude: Sequence[str] | None) -> Any:
    if fields is not None:
        return qe.PayloadSelector.Include(list(fields))
    if exclude:
        return qe.PayloadSelector.Exclude(list(exclude))
    return True


def edge_filter(filters: SearchFilter | None) -> qe.Filter | None:
    if filters is None or not filters.active:
        return None
    must: list[Any] = []
    for key in ("article_id", "source"):
        value = getattr(filters, key)
        if value:
            must.append(qe.FieldCondition(key, match=qe.MatchValue(value)))
    if filters.date_from or filters.date_to:
        must.append(
            qe.FieldCondition("published", range=qe.RangeDateTime(gte=filters.date_from, lte=filters.date_until))
        )
    return qe.Filter(must=must)


def _stored(point: Any) -> StoredPoint:
    return StoredPoint(
        id=str(point.id),
        payload=point.payload or {},
        vectors=point.vector or {},
        score=float(getattr(point, "score", 0.0) or 0.0),
    )


class EdgeStore(Store):
    """Chunks and article records as two Qdrant Edge shards in one folder (see the module docstring)."""

    engine = "edge"

    def __init__(self, root: Path, collection: str, chunk_sentences: int = 4) -> None:
        super().__init__(collection)
        self.root = root
        self.chunk_sentences = chunk_sentences
        self._unindexed = 0  # chunks written by this process since the last optimize
        self._unflushed = 0  # and since the last flush
        self._lock: _FolderLock | None = None
        self._shards: dict[str, qe.EdgeShard] = {}
        self._meta: dict[str, Any] = {}

    @classmethod
    def open_folder(cls, settings: Settings, *, upgrade: bool = False) -> EdgeStore:
        path = Path(settings.qdrant_path)
        if str(path) == ":memory:":
            raise StoreError(
                "Qdrant Edge keeps its store in a folder: set QDRANT_PATH to one (or QDRANT_ENGINE=local)."
            )
        root = edge_root(settings)
        collection = settings.qdrant_collection
        if not (root / META_FILE).exists() and not upgrade and collection in local_mode_collections(path):
            raise StoreFormatError(legacy_message(path, collection))
        root.mkdir(parents=True, exist_ok=True)
        store = cls(root, collection, settings.chunk_sentences)
        store._lock = _FolderLock(root)
        try:
            store._load()
        except BaseException:
            store._close()
            raise
        return store

    def _load(self) -> None:
        meta = self.root / META_FILE
        if not meta.exists():
            return
        self._meta = json.loads(meta.read_text(encoding="utf-8"))
        for kind in (CHUNKS, ARTICLES):
            if not (self.root / kind).is_dir():
                return
        dimension = self._meta.get("dimension")
        for kind in (CHUNKS, ARTICLES):
            config = chunk_config(int(dimension), self.chunk_sentences) if kind == CHUNKS and dimension else None
            try:
                self._shards[kind] = qe.EdgeShard.load(str(self.root / kind), config)
            except Exception as error:
                if "WouldBlock" in str(error):
                    raise StoreLockedError(locked_message(self.root.parent.parent)) from None
                raise StoreError(f"Cannot open the Qdrant Edge store at {self.root}: {error}") from error

    # ------------------------------------------------------------------ schema

    def _close(self) -> None:
        for shard in self._shards.values():
            try:
                shard.flush()
            finally:
                shard.close()
        self._shards.clear()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _exists(self) -> bool:
        return len(self._shards) == 2

    def _metadata(self) -> dict[str, Any]:
        return dict(self._meta)

    def _create(self, metadata: dict[str, Any], dimension: int) -> None:
        chunks = chunk_config(dimension, self.chunk_sentences)
        articles = qe.EdgeConfig(
            sparse_vectors={_PLACEHOLDER: qe.EdgeSparseVectorParams()}, payload_memory=qe.Memory.Cold
        )
        for kind, config in ((CHUNKS, chunks), (ARTICLES, articles)):
            shutil.rmtree(self.root / kind, ignore_errors=True)  # what a crash during an earlier create left
            shard = qe.EdgeShard.create(str(self.root / kind), config)
            self._shards[kind] = shard
            for name, schema in INDEXED_FIELDS.items():
                shard.update(qe.UpdateOperation.create_field_index(name, _SCHEMAS[schema]))
        self._meta = dict(metadata)
        self._write_meta()

    def _drop(self) -> None:
        for shard in self._shards.values():
            shard.close()
        self._shards.clear()
        for kind in (CHUNKS, ARTICLES):
            shutil.rmtree(self.root / kind, ignore_errors=True)
        self._meta = {"generation": self._meta.get("generation", 0)}  # readers must see a new one after a recreate
        self._write_meta()

    def _write_meta(self) -> None:
        """Replace store.json atomically (a crash leaves the old or the new file, never half of one)."""
        temporary = self.root / f".{META_FILE}.tmp"
        temporary.write_text(json.dumps(self._meta, indent=2), encoding="utf-8")
        os.replace(temporary, self.root / META_FILE)

    def _read_metadata(self) -> dict[str, Any]:
        return self._meta

    def _update_metadata(self, fields: dict[str, Any]) -> None:
        self._meta.update(fields)
        self._write_meta()

    # ------------------------------------------------------------------ writes

    def _upsert_chunks(self, points: Sequence[ChunkPoint]) -> None:
        made = [
            qe.Point(
                p.id,
                {
                    DENSE: p.dense,
                    SENTENCES: p.sentences,
                    TITLE: p.title,
                    SPARSE: qe.SparseVector(p.sparse_indices, p.sparse_values),
                },
                p.payload,
            )
            for p in points
        ]
        self._shards[CHUNKS].update(qe.UpdateOperation.upsert_points(made))
        self._unindexed += len(made)
        self._unflushed += len(made)
        if self._unindexed >= RUN_SEGMENT_CHUNKS:  # a long run: index this part now, as a segment of its own
            self._optimize()
        if self._unflushed >= FLUSH_CHUNKS:  # the WAL keeps every write until a flush (3 GB at 250k chunks)
            self._flush()

    def _upsert_records(self, payloads: Sequence[dict[str, Any]]) -> None:
        made = [qe.Point(article_point_id(p["article_id"]), {}, p) for p in payloads]
        self._shards[ARTICLES].update(qe.UpdateOperation.upsert_points(made))

    def _set_record_fields(self, article_id: str, fields: dict[str, Any]) -> None:
        self._shards[ARTICLES].update(qe.UpdateOperation.set_payload([article_point_id(article_id)], fields))

    def _delete(self, kind: str, ids: list[str]) -> None:
        if ids:
            self._shards[kind].update(qe.UpdateOperation.delete_points(ids))

    def _delete_chunks_where(self, article_id: str, from_index: int) -> None:
        must: list[Any] = [qe.FieldCondition("article_id", match=qe.MatchValue(article_id))]
        if from_index > 0:
            must.append(qe.FieldCondition("chunk_index", range=qe.RangeFloat(gte=float(from_index))))
        self._shards[CHUNKS].update(qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=must)))

    # ------------------------------------------------------------------ reads

    def _records(
        self, article_ids: list[str], fields: list[str] | None, exclude: list[str] | None = None
    ) -> dict[str, dict]:
        if fields is not None and "article_id" not in fields:
            fields = [*fields, "article_id"]
        found = self._shards[ARTICLES].retrieve(
            [article_point_id(a) for a in article_ids],
            with_payload=_payload_selector(fields, exclude),
            with_vector=False,
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
        request = qe.ScrollRequest(
            offset=offset,
            limit=limit,
            filter=edge_filter(filters),
            with_payload=_payload_selector(fields, exclude),
            with_vector=list(vectors) if vectors else False,
        )
        points, next_offset = self._shards[kind].scroll(request)
        return [_stored(p) for p in points], next_offset

    def _query(self, queries: Sequence[ChunkQuery]) -> list[list[StoredPoint]]:
        requests = []
        for q in queries:
            if q.dense is not None:
                query = qe.Query.Nearest(list(q.dense), using=DENSE)
            elif q.sparse is not None:
                query = qe.Query.Nearest(qe.SparseVector(list(q.sparse[0]), list(q.sparse[1])), using=SPARSE)
            else:
                raise ValueError("a chunk query needs a dense or a sparse vector")
            requests.append(
                qe.QueryRequest(
                    limit=q.limit,
                    query=query,
                    filter=edge_filter(q.filters),
                    params=qe.SearchParams(hnsw_ef=q.hnsw_ef, exact=q.exact) if q.exact or q.hnsw_ef else None,
                    with_payload=True,
                    with_vector=list(q.vectors) if q.vectors else False,
                )
            )
        results = self._shards[CHUNKS].query_batch(qe.QueryBatchRequest(requests))
        return [[_stored(p) for p in points] for points in results]

    def _count(self, kind: str) -> int:
        return self._shards[kind].count(qe.CountRequest(exact=True))

    def _chunk_counts(self) -> dict[str, int]:
        limit = max(1024, 2 * self._count(ARTICLES))
        while True:
            hits = self._shards[CHUNKS].facet(qe.FacetRequest("article_id", limit=limit, exact=True)).hits
            if len(hits) < limit:
                return {str(hit.value): int(hit.count) for hit in hits if hit.count > 0}
            limit *= 4

    def _flush(self) -> None:
        for shard in self._shards.values():
            shard.flush()
        self._unflushed = 0

    def _optimize(self) -> None:
        for shard in self._shards.values():
            shard.optimize()
        self._unindexed = 0
