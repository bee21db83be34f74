"""Indexing from inside the bot (embedded mode: the bot owns the store): /reindex, /add URL, uploaded documents.

One job at a time. The job runs in its own thread; one status message is edited with its progress (at most
every `edit_interval` seconds, Telegram limits edits) and finally with the summary. The embedded Qdrant client
is not thread-safe, so questions hold a shared lock while the job's store writes hold it exclusively, one call
at a time: questions keep being answered while the job embeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest

from bot.telegram.net import send_with_retry
from bot.telegram.render import esc
from indexing.settings import Settings

log = logging.getLogger(__name__)

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
}


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

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class LockedClient:
    """A Qdrant client proxy whose writing methods hold the write lock (everything else passes through)."""

    def __init__(self, client: Any, lock: ReadWriteLock) -> None:
        # Own names are unusual so that the client's own attributes (e.g. `_client`) pass through.
        self._rw_target = client
        self._rw_lock = lock

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._rw_target, name)
        if name not in WRITE_METHODS or not callable(attribute):
            return attribute

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._rw_lock.write():
                return attribute(*args, **kwargs)

        return locked


class ReindexCancelled(Exception):
    """Raised from the progress callback when the bot shuts down during a job."""


@dataclass
class JobStatus:
    """What the status message shows."""

    label: str
    stage: str = "starting"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.label = self.label if len(self.label) <= 300 else self.label[:299] + "…"

    def text(self) -> str:
        elapsed = time.monotonic() - self.started
        line = f"⏳ {esc(self.label)}: {esc(self.stage)}"
        if self.total:
            line += f" {self.done}/{self.total}"
        return f"{line} ({elapsed:.0f} s)"


def format_summary(summary: Any, label: str) -> str:
    """'✅ Reindex finished in 3.1 s: 1 added, 0 updated, …' plus the first failures."""
    counts = ", ".join(
        f"{getattr(summary, name, 0)} {name}" for name in ("added", "updated", "unchanged", "removed", "failed")
    )
    seconds = float(getattr(summary, "seconds", 0.0) or 0.0)
    ok = getattr(summary, "ok", not getattr(summary, "failed", 0))
    lines = [f"{'✅' if ok else '⚠️'} {esc(label)} finished in {seconds:.1f} s: {counts}."]
    failures = list(getattr(summary, "failures", []) or [])
    for failure in failures[:5]:
        lines.append(f"• {esc(_failure_text(failure))[:300]}")
    if len(failures) > 5:
        lines.append(f"… and {len(failures) - 5} more failures (see the bot's log).")
    return "\n".join(lines)


def _failure_text(failure: Any) -> str:
    if isinstance(failure, str):
        return failure
    if isinstance(failure, tuple | list):
        return ": ".join(str(part) for part in failure)
    for names in (("source", "error"), ("origin", "error"), ("path", "reason")):
        if all(hasattr(failure, name) for name in names):
            return ": ".join(str(getattr(failure, name)) for name in names)
    return str(failure)


RunIndex = Callable[..., Any]


def _default_run_index(*args: Any, **kwargs: Any) -> Any:
    from indexing.job import run_index

    return run_index(*args, **kwargs)


class Reindexer:
    """Runs indexing jobs one at a time in a dedicated thread, reporting in one edited message."""

    def __init__(
        self,
        settings: Settings,
        store: Any,
        embedder: Any,
        answerer: Any,
        lock: ReadWriteLock,
        *,
        run_index: RunIndex = _default_run_index,
        edit_interval: float = 2.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.answerer = answerer
        self.lock = lock
        self.run_index = run_index
        self.edit_interval = edit_interval
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")
        self._task: asyncio.Task | None = None
        self._cancel = threading.Event()
        self._busy = False
        self.last_summary: Any = None

    @property
    def running(self) -> bool:
        return self._busy

    def _locked_store(self) -> Any:
        # The store locks itself (indexing/store.py): questions read while this job writes.
        return self.store

    async def start(
        self,
        bot: Bot,
        chat_id: int,
        *,
        label: str = "Reindex",
        sources: Sequence[str] | None = None,
        prune: bool = False,
        reply_parameters: ReplyParameters | None = None,
        done_note: str = "",
    ) -> asyncio.Task | None:
        """Start a job reporting in `chat_id`; None when one is already running."""
        if self._busy:
            return None
        self._busy = True  # taken before the first await: a second command cannot slip in
        try:
            status = JobStatus(label)
            message = await send_with_retry(
                bot.send_message, chat_id=chat_id, text=status.text(), reply_parameters=reply_parameters
            )
            self._task = asyncio.create_task(
                self._run(bot, message.chat_id, message.message_id, status, sources, prune, done_note)
            )
        except BaseException:
            self._busy = False
            raise
        self._task.add_done_callback(self._finished)
        return self._task

    def _finished(self, _task: asyncio.Task) -> None:
        self._busy = False

    async def _run(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        status: JobStatus,
        sources: Sequence[str] | None,
        prune: bool,
        done_note: str,
    ) -> Any:
        loop = asyncio.get_running_loop()
        self._cancel.clear()

        def progress(stage: str, done: int, total: int) -> None:
            if self._cancel.is_set():
                raise ReindexCancelled("the bot is shutting down")
            status.stage, status.done, status.total = stage, done, total

        def job() -> Any:
            summary = self.run_index(
                self.settings,
                list(sources) if sources is not None else None,
                store=self._locked_store(),
                embedder=self.embedder,
                prune=prune,
                progress=progress,
                show_progress_bar=False,
            )
            with self.lock.read():
                self.answerer.refresh()
            return summary

        future = loop.run_in_executor(self._executor, job)
        shown = status.text()
        while not future.done():
            await asyncio.wait([future], timeout=self.edit_interval)
            if future.done():
                break
            text = status.text()
            if text != shown:
                shown = text
                await _edit(bot, chat_id, message_id, text)
        try:
            summary = future.result()
        except ReindexCancelled:
            await _edit(bot, chat_id, message_id, f"⏹ {esc(status.label)} stopped: the bot is shutting down.")
            return None
        except Exception as error:
            log.exception("%s failed", status.label)
            await _edit(
                bot,
                chat_id,
                message_id,
                f"❌ {esc(status.label)} failed: {esc(type(error).__name__)}: {esc(str(error)[:3000])}",
            )
            return None
        self.last_summary = summary
        text = format_summary(summary, status.label)
        if done_note and getattr(summary, "ok", True):
            text += "\n" + done_note
        await _edit(bot, chat_id, message_id, text)
        return summary

    async def shutdown(self, timeout: float = 30.0) -> None:
        """Ask a running job to stop at its next progress report and wait for it (bounded)."""
        self._cancel.set()
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _edit(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await send_with_retry(bot.edit_message_text, chat_id=chat_id, message_id=message_id, text=text)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            log.warning("could not update the status message: %s", error)
    except Exception as error:  # progress is best effort; the job goes on
        log.warning("could not update the status message: %s", error)
