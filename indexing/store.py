"""The Qdrant store: one client per process, the collection layout, and its safety checks.

Layout (see docs/architecture.md):
- `<collection>`: one point per chunk. Named vectors: `dense` (mean of the chunk's sentence
  embeddings), `sentences` (one embedding per sentence, a MAX_SIM multivector), `title`
  (the article title's embedding) and the sparse `bm25` (IDF modifier). The payload carries the
  chunk text, its span and its sentence spans in the cleaned article text, and article metadata.
- `<collection>_articles`: one vector-less point per article holding the cleaned text (quotes are
  verified against it), metadata, the content hash used for incremental runs and per-term sentence
  frequencies for sentence-level BM25. It is written after the article's chunks, so it acts as the
  commit record: a run killed half-way leaves an old or missing record and the next run redoes it.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qdrant_client import QdrantClient, models

from indexing.settings import Settings

log = logging.getLogger(__name__)

DENSE, SENTENCES, TITLE, SPARSE = "dense", "sentences", "title", "bm25"
SCHEMA_VERSION = 1
_NAMESPACE = uuid.UUID("6f1c2b0e-4d7a-4c53-9a55-1f0e6b7d2c11")


class StoreError(RuntimeError):
    """A store problem users can act on (locked folder, wrong model, unreachable server)."""


class StoreLockedError(StoreError):
    """The embedded store folder is held by another process (usually the running bot)."""


class ModelMismatchError(StoreError):
    """The collection was built with another embedding model."""


def chunk_point_id(article_id: str, chunk_index: int) -> str:
    """Deterministic id, so reindexing overwrites rather than duplicates."""
    return str(uuid.uuid5(_NAMESPACE, f"chunk:{article_id}:{chunk_index}"))


def article_point_id(article_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"article:{article_id}"))


def open_client(settings: Settings) -> QdrantClient:
    """Connect to the Qdrant server (`QDRANT_URL`) or open the embedded folder (`QDRANT_PATH`)."""
    if settings.qdrant_url:
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        api_key = api_key or None  # an empty QDRANT_API_KEY means no key
        return QdrantClient(url=settings.qdrant_url, api_key=api_key, timeout=int(settings.qdrant_timeout))
    settings.qdrant_path.mkdir(parents=True, exist_ok=True)
    locked = StoreLockedError(
        f"The embedded Qdrant store at {settings.qdrant_path} is in use by another process "
        "(probably the running bot). Reindex from the bot with /reindex, stop the bot first, "
        "or run a Qdrant server and set QDRANT_URL."
    )
    if _is_locked(settings.qdrant_path):
        raise locked  # before QdrantClient loads every point, which it does before checking the lock
    try:
        client = QdrantClient(path=str(settings.qdrant_path))
    except RuntimeError as error:
        if "already accessed by another instance" in str(error):
            raise locked from None
        raise
    _tune_local(client)
    return client


def _is_locked(path: Path) -> bool:
    """Whether another client holds the embedded folder's lock (checked without waiting)."""
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


def _local_connections(client: QdrantClient) -> dict[str, sqlite3.Connection]:
    """The SQLite connection behind each collection of an embedded client (empty for a server)."""
    collections = getattr(client._client, "collections", None) or {}
    connections = {}
    for name, collection in collections.items():
        connection = getattr(getattr(collection, "storage", None), "storage", None)
        if isinstance(connection, sqlite3.Connection):
            connections[name] = connection
    return connections


def _tune_local(client: QdrantClient) -> None:
    """WAL journal without a sync per point: the embedded store commits every point on its own,
    which costs an fsync each (~20 ms) by default. Still atomic per point; `Store.flush` makes
    writes durable at the points where the writer needs ordering (chunks before article records).
    """
    for connection in _local_connections(client).values():
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as error:  # pragma: no cover - tuning is best effort
            log.debug("could not tune the embedded store: %s", error)


@dataclass
class Store:
    """The two collections behind one client."""

    client: QdrantClient
    collection: str

    @property
    def articles_collection(self) -> str:
        return f"{self.collection}_articles"

    @classmethod
    def open(cls, settings: Settings) -> Store:
        return cls(open_client(settings), settings.qdrant_collection)

    def close(self) -> None:
        self.client.close()

    def flush(self, collection: str | None = None) -> None:
        """Make the embedded store's writes durable (a WAL checkpoint); a server does this itself."""
        for name, connection in _local_connections(self.client).items():
            if collection in (None, name):
                connection.execute("PRAGMA wal_checkpoint(FULL)")

    def exists(self) -> bool:
        return self.client.collection_exists(self.collection) and self.client.collection_exists(
            self.articles_collection
        )

    def metadata(self) -> dict:
        """What the collection records about how it was built (model, dimension, schema)."""
        if not self.client.collection_exists(self.collection):
            return {}
        return dict(self.client.get_collection(self.collection).config.metadata or {})

    def check_model(self, model_name: str, dimension: int | None = None) -> None:
        """Refuse an existing collection built with another model (dimension checked when known)."""
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
        """Create the collections on first use; refuse a different model unless `recreate`.

        Returns True when the collections were (re)created.
        """
        if recreate:
            for name in (self.collection, self.articles_collection):
                if self.client.collection_exists(name):
                    self.client.delete_collection(name)
        if self.exists():
            self.check_model(model_name, dimension)
            return False
        metadata = {"model": model_name, "dimension": dimension, "schema": SCHEMA_VERSION}
        if not self.client.collection_exists(self.collection):
            dense = models.VectorParams(size=dimension, distance=models.Distance.COSINE)
            self.client.create_collection(
                self.collection,
                vectors_config={
                    DENSE: dense,
                    TITLE: dense,
                    SENTENCES: models.VectorParams(
                        size=dimension,
                        distance=models.Distance.COSINE,
                        multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                        hnsw_config=models.HnswConfigDiff(m=0),  # read back for rescoring, not searched
                    ),
                },
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                metadata=metadata,
            )
        if not self.client.collection_exists(self.articles_collection):
            self.client.create_collection(self.articles_collection, vectors_config={}, metadata=metadata)
        _tune_local(self.client)
        self._index_payload()
        return True

    def _index_payload(self) -> None:
        """Payload indexes for the filters; the embedded mode ignores them (and says so)."""
        if self.client._client.__class__.__name__ == "QdrantLocal":
            return
        fields = {
            "article_id": models.PayloadSchemaType.KEYWORD,
            "source": models.PayloadSchemaType.KEYWORD,
            "published": models.PayloadSchemaType.DATETIME,
        }
        for collection in (self.collection, self.articles_collection):
            for name, schema in fields.items():
                self.client.create_payload_index(collection, name, field_schema=schema)

    def scroll_all(
        self,
        collection: str,
        with_payload: bool | models.PayloadSelectorInclude | models.PayloadSelectorExclude = True,
        with_vectors: bool | list[str] = False,
        page: int = 256,
    ) -> Iterator[models.Record]:
        """Every point of `collection`, fetched page by page (bounded memory on a server too)."""
        offset = None
        while True:
            records, offset = self.client.scroll(
                collection, limit=page, offset=offset, with_payload=with_payload, with_vectors=with_vectors
            )
            yield from records
            if offset is None:
                break

    def article_records(self, with_text: bool = False) -> Iterator[models.Record]:
        """Every article record (the commit markers), without the heavy fields unless asked."""
        selector = True if with_text else models.PayloadSelectorExclude(exclude=["text", "term_df"])
        return self.scroll_all(self.articles_collection, with_payload=selector)

    def count_articles(self) -> int:
        if not self.exists():
            return 0
        return self.client.count(self.articles_collection, exact=True).count

    def count_chunks(self) -> int:
        if not self.exists():
            return 0
        return self.client.count(self.collection, exact=True).count
