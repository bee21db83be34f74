"""An embedding cache for the benchmarks only: rebuilding a store (after a store-format change, or a second
store over the same texts) costs no re-encoding.

Keyed by the model's name and the SHA-1 of the exact text; kept in one SQLite file per model under
`--embed-cache` (default /tmp/quality-embcache). Never used by the bot or the indexing job.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import numpy as np

from indexing.embedding import Embedder

DEFAULT_CACHE = Path("/tmp/quality-embcache")


class CachedEmbedder(Embedder):
    """`Embedder` whose `encode` reads vectors it has seen before from SQLite and encodes only the rest."""

    def __init__(self, model: str, cache_dir: Path = DEFAULT_CACHE, device: str = "cpu", batch_size: int = 64) -> None:
        super().__init__(model, device=device, batch_size=batch_size)
        cache_dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)
        self.db = sqlite3.connect(cache_dir / f"{safe}.sqlite3")
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, v BLOB NOT NULL)")
        self.hits = self.misses = 0

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).digest()

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            for key, blob in self.db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", part):
                found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        todo = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        self.hits += len(texts) - sum(1 for k in keys if k in todo)
        self.misses += len(todo)
        if todo:
            vectors = super().encode(list(todo.values()), progress=progress)
            rows = [(key, vec.astype(np.float32).tobytes()) for key, vec in zip(todo, vectors, strict=True)]
            self.db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
            self.db.commit()
            found.update((key, vec) for key, vec in zip(todo, vectors, strict=True))
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def close(self) -> None:
        self.db.close()
