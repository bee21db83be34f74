"""Indexing from inside the bot (embedded mode: the bot owns the store): /reindex, /add URL, uploads, /remove.

One job at a time, in a daemon thread of its own, on the bot's store and model. One status message shows the
job's progress in words with units ("embedding 512 of 811 sentences"), edited at most every `edit_interval`
seconds (Telegram limits edits); the result is posted as a new message, so the admin is notified. On
shutdown the job is stopped at its next progress step or store call and waited for, boundedly: after
`fence` it can no longer reach the store, so the bot closes the store and exits even if the thread is
still busy elsewhere (a daemon thread does not hold the process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, TelegramError

from bot.cores import CORES
from bot.telegram.jobfence import FencedStore, StoreClosedError
from bot.telegram.net import send_with_retry
from bot.telegram.render import esc, source_line
from bot.types import ArticleRef
from indexing.settings import Settings

log = logging.getLogger(__name__)

JOB_THREAD = "reindex"
STOP_TIMEOUT = 8.0  # seconds a stopping bot waits for a job (container runtimes kill after ~10 s)
MAX_FAILURES_SHOWN = 5

# stage -> (doing, done, unit, units, rest) for the status line
STAGES = {
    "reading": ("reading", "read", "source", "sources", ""),
    "preparing": ("splitting", "split", "article", "articles", " into sentences"),
    "embedding": ("embedding", "embedded", "sentence", "sentences", ""),
    "writing": ("writing", "wrote", "article", "articles", " to the index"),
    "removing": ("removing", "removed", "article", "articles", ""),
}
NEXT_STEP = {"reading": "comparing with the index", "preparing": "embedding their sentences next"}

Progress = Callable[[str, int, int], None]


class ReindexCancelled(Exception):
    """Raised from the progress callback when the bot shuts down during a job."""


def progress_words(stage: str, done: int, total: int) -> str:
    """'embedding 512 of 811 sentences'; a finished stage says what comes next."""
    doing, did, unit, units, rest = STAGES.get(stage, (stage, stage, "item", "items", ""))
    if not total:
        return doing
    if done >= total and stage in NEXT_STEP:
        return f"{did} {total:,} {unit if total == 1 else units}{rest}; {NEXT_STEP[stage]}"
    return f"{doing} {done:,} of {total:,} {unit if total == 1 else units}{rest}"


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
        words = progress_words(self.stage, self.done, self.total) if self.stage != "starting" else "starting"
        return f"⏳ {esc(self.label)}: {esc(words)} ({elapsed:.0f} s)"


# --------------------------------------------------------------------------- summaries


def display_origin(origin: str, articles_dir: Path | None) -> str:
    """An origin as users may see it: URLs as they are, files relative to the articles folder, other paths
    by their name only (never a server path)."""
    origin = str(origin)
    label, bracket, rest = origin.partition(" [")
    suffix = bracket + rest
    if label.startswith(("http://", "https://")):
        return origin
    path = Path(label)
    if articles_dir is not None:
        for root in {Path(articles_dir), Path(articles_dir).resolve()}:
            with contextlib.suppress(ValueError):
                return path.relative_to(root).as_posix() + suffix
    return path.name + suffix if path.is_absolute() else origin


def scrub_paths(text: str, folders: Sequence[Path]) -> str:
    """`text` with the server's folders removed (paths become relative to them)."""
    for folder in folders:
        for form in {str(folder), str(Path(folder).resolve())}:
            if form not in (".", ""):
                text = text.replace(form.rstrip("/") + "/", "").replace(form, "")
    return text


def format_summary(summary: Any, label: str, settings: Settings | None = None) -> str:
    """'✅ Reindex finished in 3.1 s: 1 added, 0 updated, …' plus the first failures, without server paths."""
    counts = ", ".join(
        f"{getattr(summary, name, 0)} {name}" for name in ("added", "updated", "unchanged", "removed", "failed")
    )
    if getattr(summary, "duplicates", 0):  # read, but their text is already indexed from another source
        counts += f", {summary.duplicates} same text as another article"
    seconds = float(getattr(summary, "seconds", 0.0) or 0.0)
    ok = getattr(summary, "ok", not getattr(summary, "failed", 0))
    lines = [f"{'✅' if ok else '⚠️'} {esc(label)} finished in {seconds:.1f} s: {counts}."]
    articles_dir = Path(settings.articles_dir) if settings else None
    folders = [Path(settings.articles_dir), Path(settings.data_dir)] if settings else []
    failures = list(getattr(summary, "failures", []) or [])
    for failure in failures[:MAX_FAILURES_SHOWN]:
        text = scrub_paths(_failure_text(failure, articles_dir), folders)
        lines.append(f"• {esc(text if len(text) <= 300 else text[:299] + '…')}")
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"… and {len(failures) - MAX_FAILURES_SHOWN} more failures (see the bot's log).")
    return "\n".join(lines)


def _failure_text(failure: Any, articles_dir: Path | None) -> str:
    if isinstance(failure, str):
        return failure
    if isinstance(failure, tuple | list) and len(failure) == 2:
        return f"{display_origin(str(failure[0]), articles_dir)}: {failure[1]}"
    if isinstance(failure, tuple | list):
        return ": ".join(str(part) for part in failure)
    for names in (("source", "error"), ("origin", "error"), ("path", "reason")):
        if all(hasattr(failure, name) for name in names):
            return ": ".join(str(getattr(failure, name)) for name in names)
    return str(failure)


def describe_articles(refs: Sequence[ArticleRef], limit: int = 5) -> list[str]:
    """'• Title (linked), Outlet, 5 Aug 2022 · id x' for each article found (what /add and uploads report)."""
    lines = []
    for ref in refs[:limit]:
        found = source_line(ref, dash=False)
        if not ref.source and not ref.published:
            found += " (no outlet or date found)"
        elif not ref.source:
            found += " (no outlet found)"
        elif not ref.published:
            found += " (no date found)"
        lines.append(f"• {found} · id <code>{esc(ref.article_id)}</code>")
    if len(refs) > limit:
        lines.append(f"… and {len(refs) - limit} more.")
    return lines


# --------------------------------------------------------------------------- jobs


@dataclass
class Job:
    """A job: `run(store, progress)` in the job thread, then `describe(result)` (also there, after the
    pipeline's caches were refreshed) gives the result message's HTML."""

    label: str
    run: Callable[[Any, Progress], Any]
    describe: Callable[[Any], str]


RunIndex = Callable[..., Any]


def _default_run_index(*args: Any, **kwargs: Any) -> Any:
    from indexing.job import run_index

    return run_index(*args, **kwargs)


class Reindexer:
    """Runs jobs one at a time in a daemon thread, reporting in one status message and one result message."""

    def __init__(
        self,
        settings: Settings,
        store: Any,
        embedder: Any,
        answerer: Any,
        *,
        run_index: RunIndex = _default_run_index,
        edit_interval: float = 2.0,
        on_refresh: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.answerer = answerer
        self.run_index = run_index
        self.edit_interval = edit_interval
        self.on_refresh = on_refresh
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._job_store: FencedStore | None = None
        self._busy = False
        self.last_result: Any = None

    @property
    def running(self) -> bool:
        return self._busy

    def index_job(
        self,
        label: str,
        sources: Sequence[str] | None = None,
        *,
        prune: bool = False,
        describe: Callable[[Any], str] | None = None,
    ) -> Job:
        """A run of the indexing job over `sources` (default: the articles folder)."""

        def run(store: Any, progress: Progress) -> Any:
            return self.run_index(
                self.settings,
                list(sources) if sources is not None else None,
                store=store,
                embedder=self.embedder,
                prune=prune,
                progress=progress,
                show_progress_bar=False,
            )

        return Job(label, run, describe or (lambda summary: format_summary(summary, label, self.settings)))

    async def start(self, bot: Bot, chat_id: int, job: Job, *, reply_to: int | None = None) -> asyncio.Task | None:
        """Start `job`, reporting in `chat_id` (replying to `reply_to`); None when one is already running."""
        if self._busy or self._stopped.is_set():
            return None
        self._busy = True  # taken before the first await: a second command cannot slip in
        try:
            status = JobStatus(job.label)
            message = await send_with_retry(
                bot.send_message, chat_id=chat_id, text=status.text(), reply_parameters=_reply(reply_to)
            )
            self._task = asyncio.create_task(self._run(bot, chat_id, message.message_id, status, job, reply_to))
        except BaseException:
            self._busy = False
            raise
        self._task.add_done_callback(self._finished)
        return self._task

    def _finished(self, _task: asyncio.Task) -> None:
        self._busy = False

    def _work(self, job: Job, status: JobStatus) -> str:
        """The job thread: run, refresh the pipeline's caches, describe the result."""

        def progress(stage: str, done: int, total: int) -> None:
            if self._stopped.is_set():
                raise ReindexCancelled("the bot is shutting down")
            status.stage, status.done, status.total = stage, done, total

        self._job_store = FencedStore(self.store, self._stopped)
        with CORES.busy():  # a reindex holds a core: questions asked meanwhile read on their own threads
            result = job.run(self._job_store, progress)
        self.last_result = result
        self.refresh()
        return job.describe(result)

    def refresh(self) -> None:
        """Drop the pipeline's and the bot's cached views of the index (after a job changed it)."""
        self.answerer.refresh()
        if self.on_refresh is not None:
            self.on_refresh()

    async def _run(
        self, bot: Bot, chat_id: int, message_id: int, status: JobStatus, job: Job, reply_to: int | None
    ) -> None:
        future = self._in_thread(lambda: self._work(job, status))
        shown = status.text()
        while not future.done():
            await asyncio.wait([future], timeout=self.edit_interval)
            text = status.text()
            if not future.done() and text != shown:
                shown = text
                await _edit(bot, chat_id, message_id, text)
        try:
            result_text = future.result()
        except (ReindexCancelled, StoreClosedError):
            await _edit(bot, chat_id, message_id, f"⏹ {esc(status.label)} stopped: the bot is shutting down.")
            return
        except Exception as error:
            log.exception("%s failed", status.label)
            folders = [Path(self.settings.articles_dir), Path(self.settings.data_dir)]
            reason = scrub_paths(f"{type(error).__name__}: {error}", folders)[:3000]
            result_text = f"❌ {esc(status.label)} failed: {esc(reason)}"
        with contextlib.suppress(TelegramError):  # the result replaces the status message
            await bot.delete_message(chat_id=chat_id, message_id=message_id)
        try:
            await send_with_retry(
                bot.send_message, chat_id=chat_id, text=result_text, reply_parameters=_reply(reply_to)
            )
        except TelegramError as error:
            log.warning("could not post the result of %s: %s", status.label, error)

    def _in_thread(self, func: Callable[[], Any]) -> asyncio.Future:
        """Run `func` in a daemon thread; its result as a future of the running loop."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(outcome: Callable[[], None]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(outcome)

        def target() -> None:
            try:
                result = func()
            except BaseException as error:  # handed to the waiting coroutine
                settle(lambda failure=error: future.done() or future.set_exception(failure))
            else:
                settle(lambda: future.done() or future.set_result(result))

        self._thread = threading.Thread(target=target, name=JOB_THREAD, daemon=True)
        self._thread.start()
        return future

    async def shutdown(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop a running job at its next progress step or store call, wait for it (at most `timeout` s), and
        fence the store so the job cannot reach it afterwards."""
        self._stopped.set()
        deadline = time.monotonic() + timeout
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
        if self._job_store is not None:
            remaining = max(0.5, deadline - time.monotonic())
            if not await asyncio.to_thread(self._job_store.fence, remaining):
                log.warning("a store call of the indexing job was still running at shutdown")
        if self._thread is not None and self._thread.is_alive():
            log.warning("the indexing job's thread is still busy; it can no longer reach the store")


def job_threads_alive() -> bool:
    """Whether a job's thread is still running (after a stop: busy outside the store, e.g. in the model)."""
    return any(thread.name == JOB_THREAD and thread.is_alive() for thread in threading.enumerate())


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


async def _edit(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await send_with_retry(bot.edit_message_text, chat_id=chat_id, message_id=message_id, text=text)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            log.warning("could not update the status message: %s", error)
    except Exception as error:  # progress is best effort; the job goes on
        log.warning("could not update the status message: %s", error)
