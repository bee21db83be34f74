"""The bot-side guard around the embedded Qdrant client, until the store is thread-safe itself.

The embedded client is not safe for a write running beside other calls, so every call through the bot's
store takes a shared lock (reads) or an exclusive one (writes), *per call*: a question holds the lock only
while it reads the store, never while the LLM writes its answer, and a reindex waits for store calls only.

An indexing job reaches the store through its own proxy that also checks a cancel flag inside the lock:
once the bot has stopped a job and taken the write lock once (`fence`), the job cannot touch the store
again, even if its thread is still busy (embedding, fetching), so the store can be closed under it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

WRITE_METHODS = {
    "upsert",
    "delete",
    "delete_collection",
    "create_collection",
    "recreate_collection",
    "create_payload_index",
    "update_collection",
    "set_payload",
    "overwrite_payload",
    "delete_payload",
    "clear_payload",
    "delete_vectors",
    "update_vectors",
    "batch_update_points",
    "upload_points",
    "upload_collection",
    "close",
}


class StoreClosedError(RuntimeError):
    """A job touched the store after the bot stopped it (it is shutting down)."""


class ReadWriteLock:
    """Many readers or one writer; a waiting writer blocks new readers (no starvation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    def acquire_write(self, timeout: float | None = None) -> bool:
        """Take the lock exclusively; False when `timeout` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                self._writer = True
                return True
            finally:
                self._writers_waiting -= 1
                self._cond.notify_all()

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()


class LockedClient:
    """A Qdrant client proxy: each call holds the read lock, or the write lock for writing methods; with a
    `stopped` event, a call after the event is set raises StoreClosedError (checked inside the lock)."""

    def __init__(self, client: Any, lock: ReadWriteLock, stopped: threading.Event | None = None) -> None:
        # Own names are unusual so that the client's own attributes (e.g. `_client`) pass through.
        self._rw_target = client
        self._rw_lock = lock
        self._rw_stopped = stopped

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._rw_target, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute
        hold = self._rw_lock.write if name in WRITE_METHODS else self._rw_lock.read

        def locked(*args: Any, **kwargs: Any) -> Any:
            with hold():
                if self._rw_stopped is not None and self._rw_stopped.is_set():
                    raise StoreClosedError("the bot is shutting down")
                return attribute(*args, **kwargs)

        return locked


def raw_client(client: Any) -> Any:
    """The client under any LockedClient layers."""
    while isinstance(client, LockedClient):
        client = client._rw_target
    return client


def guard_store(store: Any) -> ReadWriteLock:
    """Make every call on `store.client` take the store lock (once per store); returns that lock."""
    client = store.client
    if isinstance(client, LockedClient):
        return client._rw_lock
    lock = ReadWriteLock()
    store.client = LockedClient(client, lock)
    return lock


def job_store(store: Any, stopped: threading.Event) -> Any:
    """A copy of `store` for an indexing job: same client and lock, refused once `stopped` is set."""
    lock = guard_store(store)
    return replace(store, client=LockedClient(raw_client(store.client), lock, stopped))


def fence(store: Any, timeout: float) -> bool:
    """Wait (at most `timeout` s) for the store call in flight to end; with the job's `stopped` event set,
    no job call can start after this. False when a call was still running at the deadline."""
    lock = guard_store(store)
    if not lock.acquire_write(timeout):
        return False
    lock.release_write()
    return True
