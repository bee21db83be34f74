"""An indexing job's view of the store, closed to it once the bot stops the job.

The store locks itself per call (indexing/store.py), so questions read while a job writes, and no lock is
held across an LLM call. What the bot adds is a fence: on shutdown the job is stopped at its next progress
step, but its thread may still be busy elsewhere (embedding, or reading a slow page). Through this proxy
every store call, and every page of an iterator it returned, first checks the stop flag; `fence` waits for
the call in flight. After it, the job cannot touch the store again, so the bot can close the store and exit
(the job's thread is a daemon) and an interrupted article is redone by the next run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class StoreClosedError(RuntimeError):
    """A job touched the store after the bot stopped it (it is shutting down)."""


class FencedStore:
    """A proxy of `store` for one job: calls are refused once `stopped` is set; `fence` waits for the one in
    flight (the job is one thread, so there is at most one)."""

    def __init__(self, store: Any, stopped: threading.Event) -> None:
        # Own names are unusual so that the store's attributes pass through.
        self._fence_store = store
        self._fence_stopped = stopped
        self._fence_cond = threading.Condition()
        self._fence_active = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._fence_store, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._fence_call():
                result = attribute(*args, **kwargs)
            return self._fence_pages(result) if isinstance(result, Iterator) else result

        return call

    @contextlib.contextmanager
    def _fence_call(self) -> Iterator[None]:
        with self._fence_cond:
            if self._fence_stopped.is_set():
                raise StoreClosedError("the bot is shutting down")
            self._fence_active += 1
        try:
            yield
        finally:
            with self._fence_cond:
                self._fence_active -= 1
                self._fence_cond.notify_all()

    def _fence_pages(self, pages: Iterator[Any]) -> Iterator[Any]:
        while True:
            with self._fence_call():
                try:
                    item = next(pages)
                except StopIteration:
                    return
            yield item

    def fence(self, timeout: float) -> bool:
        """Wait (at most `timeout` s) until no call is in flight; with `stopped` set, none can start after.
        False when a call was still running at the deadline."""
        with self._fence_cond:
            return self._fence_cond.wait_for(lambda: self._fence_active == 0, timeout)
