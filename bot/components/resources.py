"""What the answer components share at run time: one store and the caches derived from it.

A `StoreResources` belongs to a pipeline: `build_pipeline` (or `load_pipeline`) makes one and hands
it to every component that reads the store, and the pipeline's owner (`QuestionAnswerer`) closes it.
The caches follow the store's index generation, which every indexing run bumps: the generation is
checked at most every `check_interval` seconds (cheap: a number in memory for Edge, one request to
a server), so a bot reading a server that a separate indexer writes to sees new articles within
seconds. Each cache is loaded once under a lock, so concurrent questions after a refresh wait for
one load instead of each doing their own, and article texts are kept in a bounded LRU.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bot.absent import fold
from bot.lexicon import canon
from indexing.settings import Settings
from indexing.store import Store

log = logging.getLogger(__name__)

CHECK_INTERVAL = 2.0  # seconds between generation checks
TEXT_CACHE_CHARS = 32_000_000  # article texts kept, in characters (the LRU's bound)


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
    _folded: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def folded(self) -> frozenset[str]:
        """The terms that hold diacritics, without them ("gospić" → "gospic"): a question typed without them
        still finds the word used (bot/absent.py). Built on first use, once per load."""
        if self._folded is None:
            self._folded = frozenset(fold(t) for t in self.df if not t.isascii())
        return self._folded

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n_sentences - df + 0.5) / (df + 0.5))

    @classmethod
    def load(cls, store: Store) -> CorpusStats:
        """Aggregate the records' `term_df` (one scroll of two fields)."""
        stats = cls()
        total_terms = 0
        for record in store.article_records(fields=["term_df", "n_sentences"], page=512):
            payload = record.payload
            stats.n_sentences += int(payload.get("n_sentences") or 0)
            for term, count in (payload.get("term_df") or {}).items():
                term = canon(term)
                stats.df[term] = stats.df.get(term, 0) + int(count)
                total_terms += int(count)
        if stats.n_sentences:
            stats.avg_len = max(total_terms / stats.n_sentences, 1.0)
        return stats


class TextCache:
    """Cleaned article texts by content hash, least recently used first out, bounded in characters."""

    def __init__(self, max_chars: int = TEXT_CACHE_CHARS) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[str, str] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, digest: str) -> str | None:
        with self._lock:
            text = self._items.get(digest)
            if text is not None:
                self._items.move_to_end(digest)
            return text

    def put(self, digest: str, text: str) -> None:
        with self._lock:
            if digest in self._items:
                self._items.move_to_end(digest)
                return
            self._items[digest] = text
            self._chars += len(text)
            while self._chars > self.max_chars and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._chars -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._items)


class StoreResources:
    """One store and its caches, tied to the store's generation (see the module docstring).

    Give it an open `store` (it is then not closed here), or `settings` to open one on first use.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        store: Store | None = None,
        *,
        check_interval: float = CHECK_INTERVAL,
        text_cache_chars: int = TEXT_CACHE_CHARS,
    ) -> None:
        if settings is None and store is None:
            raise ValueError("StoreResources needs settings or a store")
        self._settings = settings
        self._store = store
        self._owns_store = store is None
        self.check_interval = check_interval
        self.texts = TextCache(text_cache_chars)
        self._stats: CorpusStats | None = None
        self._generation: int | None = None
        self._checked = 0.0
        self._open_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.loads = 0  # corpus statistics loads so far (tests check that concurrent questions share one)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> StoreResources:
        """Resources for a component's serialised `store_params` (QDRANT_API_KEY from the environment)."""
        import os

        params = dict(params)
        if params.get("qdrant_url") and os.environ.get("QDRANT_API_KEY"):
            params["qdrant_api_key"] = os.environ["QDRANT_API_KEY"]
        return cls(settings_from_params(params))

    @property
    def store(self) -> Store:
        """The store, opened on first use when these resources own it."""
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    assert self._settings is not None
                    self._store = Store.open(self._settings)
        return self._store

    def follow(self) -> None:
        """Drop the caches when the store's generation moved (checked at most every `check_interval` s).

        Only one thread checks at a time; the others go on with the current caches meanwhile.
        """
        now = time.monotonic()
        if now - self._checked < self.check_interval or not self._check_lock.acquire(blocking=False):
            return
        try:
            generation = self.store.generation()
            self._checked = time.monotonic()
            if generation != self._generation:
                if self._generation is not None:
                    log.info("index generation %s -> %s: reloading caches", self._generation, generation)
                self._drop_caches()
                self._generation = generation
        finally:
            self._check_lock.release()

    def corpus_stats(self) -> CorpusStats:
        """The aggregated sentence-level term frequencies, loaded once per generation."""
        self.follow()
        stats = self._stats
        if stats is not None:
            return stats
        with self._stats_lock:
            if self._stats is None:
                self._stats = CorpusStats.load(self.store)
                self.loads += 1
            return self._stats

    def article_texts(self, wanted: dict[str, str]) -> dict[str, str]:
        """Stored cleaned texts for {article_id: content_hash}; only texts with that hash are returned."""
        self.follow()
        found: dict[str, str] = {}
        missing = []
        for article_id, digest in wanted.items():
            text = self.texts.get(digest) if digest else None
            if text is None:
                missing.append(article_id)
            else:
                found[article_id] = text
        if missing:
            records = self.store.get_records(missing, fields=["text", "content_hash"])
            for article_id, payload in records.items():
                digest, text = payload.get("content_hash"), payload.get("text")
                if digest and text is not None:
                    self.texts.put(digest, text)
                    if wanted.get(article_id) == digest:
                        found[article_id] = text
        return found

    def refresh(self) -> None:
        """Drop the caches now (after a reindex in this process)."""
        self._drop_caches()
        self._checked = 0.0

    def _drop_caches(self) -> None:
        with self._stats_lock:
            self._stats = None
        self.texts.clear()

    def close(self) -> None:
        """Drop the caches and close the store if these resources opened it."""
        self._drop_caches()
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None
