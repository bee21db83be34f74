"""The list of indexed articles the bot shows (/start, /sources, /remove, uploads), cached per index refresh.

Reading every article record on each /sources would cost a scroll of the whole collection per command; the
list (light fields only) is loaded once and dropped when the bot's own jobs change the index, or when the
store's index generation moved (another process indexed: the scheduled indexer with a Qdrant server),
checked at most every `check_interval` seconds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from bot.absent import fold as fold_diacritics
from bot.types import ArticleRef


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching titles ("Zürich" ~ "zurich"; bot.absent.fold)."""
    return fold_diacritics(text.casefold())


def article_token(article_id: str) -> str:
    """A short stable token for an article id (callback data is limited to 64 bytes; ids are not)."""
    return hashlib.sha1(article_id.encode()).hexdigest()[:12]


class ArticleCatalog:
    """Cached `load()` (the answerer's `articles()`), newest first; thread-safe."""

    def __init__(
        self,
        load: Callable[[], list[ArticleRef]],
        generation: Callable[[], int] | None = None,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._generation = generation
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._articles: list[ArticleRef] | None = None
        self._loaded_generation: int | None = None
        self._checked_at = 0.0
        self.loads = 0  # how many times the store was read (for tests and logs)

    def get(self) -> list[ArticleRef]:
        """Every indexed article, newest first (blocking on the first call after a change)."""
        with self._lock:
            now = self._clock()
            if self._articles is not None and self._generation and now - self._checked_at >= self.check_interval:
                self._checked_at = now
                if self._generation() != self._loaded_generation:
                    self._articles = None
            if self._articles is None:
                self._loaded_generation = self._generation() if self._generation else None
                self._articles = list(self._load())
                self._checked_at = now
                self.loads += 1
            return self._articles

    def invalidate(self) -> None:
        with self._lock:
            self._articles = None

    def search(self, words: str) -> list[ArticleRef]:
        """Articles whose title holds every word of `words` (case and accents ignored), newest first."""
        wanted = fold(words).split()
        return [ref for ref in self.get() if all(word in fold(ref.title or "") for word in wanted)]

    def find(self, article_id: str) -> ArticleRef | None:
        return next((ref for ref in self.get() if ref.article_id == article_id), None)

    def by_token(self, token: str) -> ArticleRef | None:
        return next((ref for ref in self.get() if article_token(ref.article_id) == token), None)

    def by_origin(self, origin: str) -> list[ArticleRef]:
        """The articles read from `origin` (a file path or URL), also those whose text it repeats."""
        return [ref for ref in self.get() if ref.origin == origin or origin in ref.also_from]
