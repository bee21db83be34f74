"""The article store: one small interface over two Qdrant engines, the layout, and its safety checks.

Nothing above this module knows which engine it talks to:
- `EdgeStore` (indexing/store_edge.py): Qdrant Edge, the Qdrant engine in-process, in `QDRANT_PATH`
  (the default, `QDRANT_ENGINE=edge`);
- `QdrantStore` (indexing/store_qdrant.py): qdrant-client, for a Qdrant server (`QDRANT_URL`) and for
  qdrant-client's local mode (`QDRANT_ENGINE=local`, the embedded format before Edge; tests use it in memory).

Layout (see docs/architecture.md and docs/store.md):
- chunks: one point per chunk. Named vectors: `dense` (mean of the chunk's sentence embeddings, HNSW),
  `sentences` (one embedding per sentence, a MAX_SIM multivector, read back for rescoring), `title`
  (the article title's embedding, read back) and the sparse `bm25` (IDF modifier). The payload carries
  the chunk text, its span and its sentence spans in the cleaned article text, and article metadata.
- article records: one vector-less point per article holding the cleaned text (quotes are verified
  against it), metadata, the content hash used for incremental runs, `n_chunks` and per-term sentence
  frequencies for sentence-level BM25. It is written after the article's chunks, so it is the commit
  record: a run killed half-way leaves an old, in-progress or missing record and the next run redoes it.

Point ids are deterministic (UUIDv5 of the article id and chunk index), so an article is replaced and
deleted by ids, never by scanning filters. Every method is safe to call from several threads: questions
read while one indexing job writes (the locking is inside the store, see `Store._reading`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexing.rwlock import ReadWriteLock
from indexing.settings import Settings

log = logging.getLogger(__name__)

DENSE, SENTENCES, TITLE, SPARSE = "dense", "sentences", "title", "bm25"
SCHEMA_VERSION = 2  # 2: records carry an upper bound of their chunks in n_chunks while in progress
HEAVY_FIELDS = ("text", "term_df")  # left out of record scrolls unless asked for
INDEXED_FIELDS = {"article_id": "keyword", "source": "keyword", "published": "datetime"}
STRAY_KEY = "stray_since"  # metadata: [[article_id, first seen (epoch s)], ...] of strays waiting out the grace
_NAMESPACE = uuid.UUID("6f1c2b0e-4d7a-4c53-9a55-1f0e6b7d2c11")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class StoreError(RuntimeError):
    """A store problem users can act on (locked folder, wrong model, old format, unreachable server)."""


class StoreLockedError(StoreError):
    """The embedded store folder is held by another process (usually the running bot)."""


class ModelMismatchError(StoreError):
    """The collection was built with another embedding model."""


class StoreFormatError(StoreError):
    """The folder holds a store in another format (e.g. qdrant-client's local mode before Qdrant Edge)."""


def chunk_point_id(article_id: str, chunk_index: int) -> str:
    """Deterministic id, so reindexing overwrites rather than duplicates."""
    return str(uuid.uuid5(_NAMESPACE, f"chunk:{article_id}:{chunk_index}"))


def article_point_id(article_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"article:{article_id}"))


def locked_message(path: Path) -> str:
    return (
        f"The embedded Qdrant store at {path} is in use by another process "
        "(probably the running bot). Reindex from the bot with /reindex, stop the bot first, "
        "or run a Qdrant server and set QDRANT_URL."
    )


@dataclass(frozen=True)
class SearchFilter:
    """Which chunks a query may return: one article, one source, a `published` date range (ISO)."""

    article_id: str | None = None
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def from_dict(cls, filters: dict[str, str | None] | None) -> SearchFilter | None:
        """From the pipeline's filter dict; None when nothing is filtered."""
        if not filters:
            return None
        made = cls(*(filters.get(key) or None for key in ("article_id", "source", "date_from", "date_to")))
        return made if made.active else None

    @property
    def active(self) -> bool:
        return any((self.article_id, self.source, self.date_from, self.date_to))

    @property
    def date_until(self) -> str | None:
        """`date_to` as an inclusive bound: a date-only value covers its whole day."""
        if self.date_to and _DATE_ONLY.match(self.date_to):
            return f"{self.date_to}T23:59:59.999999"
        return self.date_to


@dataclass(slots=True)
class ChunkPoint:
    """One chunk to write: vectors as plain lists (the cheapest form for both engines) and its payload."""

    id: str
    dense: list[float]
    sentences: list[list[float]]
    title: list[float]
    sparse_indices: list[int]
    sparse_values: list[float]
    payload: dict[str, Any]


@dataclass(slots=True)
class StoredPoint:
    """A chunk or article record read back: id, payload, the vectors asked for, and the score of a query."""

    id: str
    payload: dict[str, Any]
    vectors: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0


@dataclass(frozen=True)
class ChunkQuery:
    """One query over the chunks: `dense` (on the `dense` vector) or `sparse` (indices, values on `bm25`).

    `exact` searches `dense` without its HNSW graph and `hnsw_ef` overrides the graph search's
    breadth (default: the engine's, `ef_construct`): for recall checks against exact search."""

    limit: int
    dense: Sequence[float] | None = None
    sparse: tuple[Sequence[int], Sequence[float]] | None = None
    filters: SearchFilter | None = None
    vectors: tuple[str, ...] = (SENTENCES, TITLE)
    exact: bool = False
    hnsw_ef: int | None = None


CHUNKS, ARTICLES = "chunks", "articles"  # the two point kinds, for the engines' primitives


class Store(ABC):
    """The article store. Open with `Store.open(settings)`; see the module docstring for the layout.

    Engines implement the `_`-prefixed primitives, which never lock; the public methods lock once each:
    reads and point writes share the lock (Edge and a server serve them concurrently), restructuring
    (create, recreate, close) takes it exclusively, and an engine that cannot write while others read
    (qdrant-client's local mode) sets `exclusive_writes`.
    """

    engine: str = ""
    exclusive_writes: bool = False
    sweep_grace: float = 0.0  # seconds a stray chunk waits before a sweep deletes it (see sweep_orphans)

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self._rw = ReadWriteLock()
        self._dirty = False  # written since the last finish_run

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = False) -> Store:
        """The store of `settings`: a Qdrant server (`QDRANT_URL`), else the embedded folder (`QDRANT_PATH`)
        with `QDRANT_ENGINE`. `upgrade` opens an Edge store beside a folder in the old local-mode format
        (for `--recreate`) instead of refusing it. Raises StoreLockedError and StoreFormatError."""
        if settings.qdrant_url:
            from indexing.store_qdrant import QdrantStore

            return QdrantStore.connect(settings)
        if settings.qdrant_engine == "local":
            from indexing.store_qdrant import QdrantStore

            return QdrantStore.open_local(settings, upgrade=upgrade)
        from indexing.store_edge import EdgeStore

        return EdgeStore.open_folder(settings, upgrade=upgrade)

    def close(self) -> None:
        with self._rw.write():
            self._close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ locking

    def _reading(self) -> AbstractContextManager[None]:
        return self._rw.read()

    def _writing(self) -> AbstractContextManager[None]:
        """For point writes; marks the store changed (finish_run then bumps the generation)."""
        self._dirty = True
        return self._write_lock()

    def _write_lock(self) -> AbstractContextManager[None]:
        return self._rw.write() if self.exclusive_writes else self._rw.read()

    # ------------------------------------------------------------------ schema

    def exists(self) -> bool:
        """Whether both the chunks and the article records exist (an indexed store, maybe empty)."""
        with self._reading():
            return self._exists()

    def metadata(self) -> dict[str, Any]:
        """What the store records about how it was built: model, dimension, schema, generation."""
        with self._reading():
            return self._metadata() if self._exists() else {}

    def check_model(self, model_name: str, dimension: int | None = None) -> None:
        """Refuse an existing store built with another model (dimension checked when known)."""
        meta = self.metadata()
        if not meta:
            return
        if meta.get("model") != model_name or (dimension is not None and meta.get("dimension") != dimension):
            shown = f" ({dimension} dims)" if dimension is not None else ""
            raise ModelMismatchError(
                f"Collection '{self.collection}' was built with model {meta.get('model')!r} "
                f"({meta.get('dimension')} dims) but EMBEDDING_MODEL is {model_name!r}{shown}. "
                "Run `python -m indexing --recreate` to rebuild it with the new model."
            )

    def ensure(self, model_name: str, dimension: int, recreate: bool = False) -> bool:
        """Create the store on first use; refuse a different model unless `recreate` (which drops it).

        Returns True when the store was (re)created.
        """
        with self._rw.write():
            generation = self._generation_or_zero()  # carried over a recreate: readers must see a new one
            if recreate:
                self._drop()
            if self._exists():
                meta = self._metadata()
            else:
                self._create({"model": model_name, "dimension": dimension, "schema": SCHEMA_VERSION}, dimension)
                self._update_metadata({"generation": generation + 1})
                self._dirty = True
                return True
        if meta.get("model") != model_name or meta.get("dimension") != dimension:
            self.check_model(model_name, dimension)
        return False

    # ------------------------------------------------------------------ writes

    def upsert_chunks(self, points: Sequence[ChunkPoint]) -> None:
        """Insert or replace chunks (by their deterministic ids)."""
        if points:
            with self._writing():
                self._upsert_chunks(points)

    def write_records(self, payloads: Sequence[dict[str, Any]]) -> None:
        """Insert or replace article records (each payload has its `article_id`): the commit markers."""
        if payloads:
            with self._writing():
                self._upsert_records(payloads)

    def mark_in_progress(self, n_chunks: dict[str, int]) -> dict[str, int]:
        """Before rewriting articles ({article_id: new chunk count}): clear the hash and fingerprint of their
        existing records, so a run that dies before the new records are written redoes them, and raise
        each record's `n_chunks` to cover the new chunks too, so that every chunk id stays known.

        Returns {article_id: chunks the store may now hold} for the articles that had a record; the
        stale chunks of an update are the indices from its new count up to that number.
        """
        if not n_chunks:
            return {}
        with self._writing():
            held = {}
            for article_id, payload in self._records(list(n_chunks), ["article_id", "n_chunks"]).items():
                held[article_id] = max(int(payload.get("n_chunks") or 0), n_chunks[article_id])
                fields = {"content_hash": None, "fingerprint": None, "n_chunks": held[article_id]}
                self._set_record_fields(article_id, fields)
            return held

    def delete_chunks(self, article_id: str, indices: Iterable[int]) -> None:
        """Delete chunks of `article_id` by index (ids computed, nothing scanned)."""
        ids = [chunk_point_id(article_id, index) for index in indices]
        if ids:
            with self._writing():
                self._delete(CHUNKS, ids)

    def delete_article(self, article_id: str) -> bool:
        """Remove an article: its chunks first (by the ids its record's `n_chunks` gives), then its record.

        Killed in between, the record still lists the chunks and the next prune finishes the job.
        Returns False when the article had no record (its stray chunks, if any, go with `sweep_orphans`).
        """
        with self._writing():
            record = self._records([article_id], ["article_id", "n_chunks"]).get(article_id)
            if record is None:
                return False
            count = record.get("n_chunks")
            if count is None:  # a record from an unknown writer: fall back to the indexed article_id
                self._delete_chunks_where(article_id, 0)
            else:
                self._delete(CHUNKS, [chunk_point_id(article_id, index) for index in range(int(count))])
            self._delete(ARTICLES, [article_point_id(article_id)])
            return True

    def update_record(self, article_id: str, fields: dict[str, Any]) -> bool:
        """Set some fields of an existing article record (e.g. a refreshed file fingerprint).

        Returns False (and writes nothing) when the article has no record."""
        with self._writing():
            if not self._records([article_id], ["article_id"]):
                return False
            self._set_record_fields(article_id, fields)
            return True

    def sweep_orphans(self, grace: float | None = None) -> int:
        """Delete chunks whose article has no record, and chunks beyond a record's `n_chunks`.

        Cheap: chunk counts per article come from the `article_id` payload index (a facet), the
        records' counts from a scroll of two small fields; only stray chunks are touched.
        With `grace` seconds (default: `sweep_grace`, 0 for an embedded store, which has one writer),
        strays are deleted only once they were already stray that long ago (first sightings are kept
        in the metadata): on a server another process may be between an article's chunks and its record.
        Returns the number of articles whose stray chunks were deleted.
        """
        with self._reading():
            if not self._exists():
                return 0
            counts = self._chunk_counts()
            records = {
                p["article_id"]: p.get("n_chunks")
                for p in self._scroll_payloads(ARTICLES, ["article_id", "n_chunks"])
                if p.get("article_id")
            }
        stray = [a for a, n in counts.items() if a not in records or n > int(records[a] or 0)]
        grace = self.sweep_grace if grace is None else grace
        if grace > 0:
            stray = self._due(stray, grace)
        if not stray:
            return 0
        with self._writing():
            for article_id in stray:
                if article_id not in records:
                    self._delete_chunks_where(article_id, 0)
                else:
                    self._delete_chunks_where(article_id, int(records[article_id] or 0))
        log.info("swept stray chunks of %d article(s)", len(stray))
        return len(stray)

    def _due(self, stray: list[str], grace: float) -> list[str]:
        """The strays first seen at least `grace` seconds ago; remembers when the others were first seen."""
        with self._write_lock():
            now = time.time()
            seen = {article_id: when for article_id, when in self._read_metadata().get(STRAY_KEY) or []}
            since = {article_id: seen.get(article_id, now) for article_id in stray}
            due = [article_id for article_id in stray if now - since[article_id] >= grace]
            waiting = [[article_id, when] for article_id, when in since.items() if article_id not in due]
            if waiting or seen:
                self._update_metadata({STRAY_KEY: waiting})
            return due

    def finish_run(self) -> int:
        """End of an indexing run: sweep stray chunks, make the writes durable, let the engine index them,
        and bump the generation when anything changed. Returns the generation."""
        swept = self.sweep_orphans()
        with self._write_lock():
            if not self._exists():
                return self._generation_or_zero()
            self._flush()
            if not (self._dirty or swept):
                return self._generation_or_zero()
            self._optimize()
            generation = self._generation_or_zero() + 1
            self._update_metadata({"generation": generation})
            self._flush()
            self._dirty = False
            return generation

    def flush(self) -> None:
        """Make the writes so far durable (a server does this itself)."""
        with self._reading():
            if self._exists():
                self._flush()

    # ------------------------------------------------------------------ reads

    def query(self, queries: Sequence[ChunkQuery]) -> list[list[StoredPoint]]:
        """Run dense and sparse chunk queries as one batch; per query, the chunks best first with their
        payload and the vectors asked for (`sentences`, `title`)."""
        if not queries:
            return []
        with self._reading():
            if not self._exists():
                return [[] for _ in queries]
            return self._query(queries)

    def chunks(
        self,
        filters: SearchFilter | None = None,
        fields: Sequence[str] | None = None,
        vectors: Sequence[str] = (),
        page: int = 256,
    ) -> Iterator[StoredPoint]:
        """Every chunk (matching `filters`), page by page; `fields` selects payload keys (None: all)."""
        yield from self._pages(CHUNKS, filters, fields, None, vectors, page)

    def article_records(
        self, with_text: bool = False, fields: Sequence[str] | None = None, page: int = 256
    ) -> Iterator[StoredPoint]:
        """Every article record (`.payload`), page by page, without `text` and `term_df` unless `with_text`
        (or `fields` names the keys to read)."""
        exclude = None if with_text or fields is not None else list(HEAVY_FIELDS)
        yield from self._pages(ARTICLES, None, fields, exclude, (), page)

    def article_record(self, article_id: str, with_text: bool = True) -> dict[str, Any] | None:
        """One article record's payload (without `text` and `term_df` unless `with_text`), or None."""
        return self.get_records([article_id], with_text=with_text).get(article_id)

    def get_records(
        self, article_ids: Sequence[str], fields: Sequence[str] | None = None, with_text: bool = True
    ) -> dict[str, dict]:
        """{article_id: payload} of the records that exist, fetched by their ids; `fields` selects payload
        keys (None: all, less `text` and `term_df` unless `with_text`)."""
        if not article_ids:
            return {}
        exclude = None if with_text or fields is not None else list(HEAVY_FIELDS)
        with self._reading():
            if not self._exists():
                return {}
            return self._records(list(article_ids), None if fields is None else list(fields), exclude)

    def count_articles(self) -> int:
        with self._reading():
            return self._count(ARTICLES) if self._exists() else 0

    def count_chunks(self) -> int:
        with self._reading():
            return self._count(CHUNKS) if self._exists() else 0

    def generation(self) -> int:
        """The index generation: bumped by every indexing run that changed something (and by `ensure`).

        Cheap enough to poll every few seconds; readers tie their caches to it."""
        with self._reading():
            return self._generation_or_zero()

    def _pages(
        self,
        kind: str,
        filters: SearchFilter | None,
        fields: Sequence[str] | None,
        exclude: Sequence[str] | None,
        vectors: Sequence[str],
        page: int,
    ) -> Iterator[StoredPoint]:
        """Scroll page by page, locking per page (the caller may write between pages)."""
        offset = None
        while True:
            with self._reading():
                if not self._exists():
                    return
                points, offset = self._scroll(kind, filters, fields, exclude, vectors, page, offset)
            yield from points
            if offset is None:
                return

    def _scroll_payloads(self, kind: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Unlocked scroll of a few payload fields (the caller holds the lock)."""
        offset = None
        while True:
            points, offset = self._scroll(kind, None, fields, None, (), 1024, offset)
            for point in points:
                yield point.payload
            if offset is None:
                return

    def _generation_or_zero(self) -> int:
        try:
            return int(self._read_metadata().get("generation") or 0)
        except (TypeError, ValueError):
            return 0

    # ------------------------------------------------------------------ engine primitives (unlocked)

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _exists(self) -> bool: ...

    @abstractmethod
    def _metadata(self) -> dict[str, Any]: ...

    @abstractmethod
    def _create(self, metadata: dict[str, Any], dimension: int) -> None: ...

    @abstractmethod
    def _drop(self) -> None: ...

    @abstractmethod
    def _read_metadata(self) -> dict[str, Any]:
        """The stored metadata, even of a dropped store ({} when there is none)."""

    @abstractmethod
    def _update_metadata(self, fields: dict[str, Any]) -> None:
        """Merge `fields` (top-level keys) into the stored metadata."""

    @abstractmethod
    def _upsert_chunks(self, points: Sequence[ChunkPoint]) -> None: ...

    @abstractmethod
    def _upsert_records(self, payloads: Sequence[dict[str, Any]]) -> None: ...

    @abstractmethod
    def _set_record_fields(self, article_id: str, fields: dict[str, Any]) -> None: ...

    @abstractmethod
    def _delete(self, kind: str, ids: list[str]) -> None: ...

    @abstractmethod
    def _delete_chunks_where(self, article_id: str, from_index: int) -> None:
        """Delete the chunks of `article_id` with chunk_index >= `from_index` (for strays only)."""

    @abstractmethod
    def _records(
        self, article_ids: list[str], fields: list[str] | None, exclude: list[str] | None = None
    ) -> dict[str, dict]: ...

    @abstractmethod
    def _scroll(
        self,
        kind: str,
        filters: SearchFilter | None,
        fields: Sequence[str] | None,
        exclude: Sequence[str] | None,
        vectors: Sequence[str],
        limit: int,
        offset: Any,
    ) -> tuple[list[StoredPoint], Any]: ...

    @abstractmethod
    def _query(self, queries: Sequence[ChunkQuery]) -> list[list[StoredPoint]]: ...

    @abstractmethod
    def _count(self, kind: str) -> int: ...

    @abstractmethod
    def _chunk_counts(self) -> dict[str, int]:
        """{article_id: number of chunks} over every chunk."""

    def _flush(self) -> None:  # noqa: B027 - optional: nothing to do for a server
        """Make writes durable."""

    def _optimize(self) -> None:  # noqa: B027 - optional: a server indexes by itself
        """Let the engine index what was written (Edge builds its HNSW graph here)."""
