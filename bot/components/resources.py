"""Runtime resources shared by the components: one store per location, corpus statistics, article texts.

Components are serialised by their settings only; they reach the live Qdrant client through this
registry, so a pipeline loaded back from YAML reuses the client the process already holds (the
embedded folder can be opened once per process).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

from qdrant_client import models

from bot.lexicon import canon
from indexing.settings import Settings
from indexing.store import Store

log = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[tuple[str, str], Store] = {}


def store_key(settings: Settings) -> tuple[str, str]:
    where = settings.qdrant_url or str(Path(settings.qdrant_path).resolve())
    return where, settings.qdrant_collection


def register_store(settings: Settings, store: Store) -> None:
    """Make `store` the one the components use for these settings."""
    with _lock:
        _stores[store_key(settings)] = store


def unregister_store(store: Store) -> None:
    with _lock:
        for key, value in list(_stores.items()):
            if value is store:
                del _stores[key]
                for cache in (_stats, _texts, _mirrors):
                    cache.pop(id(store), None)


def get_store(settings: Settings) -> Store:
    """The registered store for these settings, opening (and registering) it on first use."""
    key = store_key(settings)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = Store.open(settings)
            _stores[key] = store
        return store


def settings_from_params(params: dict) -> Settings:
    """Settings for a component from its serialised store parameters (no .env, no secrets)."""
    values = {k: v for k, v in params.items() if v is not None}
    return Settings(_env_file=None, **values)


@dataclass
class CorpusStats:
    """Sentence-level document frequencies aggregated over every indexed article."""

    n_sentences: int = 0
    avg_len: float = 12.0
    df: dict[str, int] = field(default_factory=dict)

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n_sentences - df + 0.5) / (df + 0.5))


_stats: dict[int, CorpusStats] = {}
_texts: dict[int, dict[str, str]] = {}
_mirrors: dict[int, object] = {}


def sparse_mirror(store: Store):
    """The in-memory `bm25` mirror of `store` (embedded mode), loaded once."""
    from .sparse_index import SparseMirror

    mirror = _mirrors.get(id(store))
    if mirror is None:
        mirror = _mirrors[id(store)] = SparseMirror.load(store)
    return mirror


def is_embedded(store: Store) -> bool:
    return store.client._client.__class__.__name__ == "QdrantLocal"


def corpus_stats(store: Store) -> CorpusStats:
    """Load once (and cache) the aggregated term_df of `<c>_articles`."""
    cached = _stats.get(id(store))
    if cached is not None:
        return cached
    stats = CorpusStats()
    if store.client.collection_exists(store.articles_collection):
        total_terms = 0
        selector = models.PayloadSelectorInclude(include=["term_df", "n_sentences"])
        for record in store.scroll_all(store.articles_collection, with_payload=selector):
            payload = record.payload or {}
            stats.n_sentences += int(payload.get("n_sentences") or 0)
            for term, count in (payload.get("term_df") or {}).items():
                term = canon(term)
                stats.df[term] = stats.df.get(term, 0) + int(count)
                total_terms += int(count)
        if stats.n_sentences:
            stats.avg_len = max(total_terms / stats.n_sentences, 1.0)
    _stats[id(store)] = stats
    return stats


def article_texts(store: Store, wanted: dict[str, str]) -> dict[str, str]:
    """Stored cleaned texts for {article_id: content_hash}, cached by content hash."""
    cache = _texts.setdefault(id(store), {})
    missing = [article_id for article_id, digest in wanted.items() if digest not in cache]
    if missing:
        from indexing.store import article_point_id

        records = store.client.retrieve(
            store.articles_collection,
            ids=[article_point_id(article_id) for article_id in missing],
            with_payload=models.PayloadSelectorInclude(include=["text", "content_hash", "article_id"]),
            with_vectors=False,
        )
        for record in records:
            payload = record.payload or {}
            if payload.get("content_hash") and payload.get("text") is not None:
                cache[payload["content_hash"]] = payload["text"]
    return {article_id: cache[digest] for article_id, digest in wanted.items() if digest in cache}


def refresh(store: Store | None = None) -> None:
    """Drop cached statistics and texts (after a reindex)."""
    for cache in (_stats, _texts, _mirrors):
        if store is None:
            cache.clear()
        else:
            cache.pop(id(store), None)
