"""One question's model reads on the cores no other work is using.

A read of several quotes by the answer pointer or a cross-encoder is one padded batch on the question's thread,
with one torch thread: on a busy 2-core machine more intra-op threads contend badly (bot/components/embedder.py).
When the bot answers one question at a time the second core sits idle. `in_parts` splits such a read into parts
of similar length, always the same way for the same quotes, and runs parts on spare cores when `CORES` has
them: no other question or reindex is running. Under load the parts run one after the other on the question's
thread, so a question's answer never depends on how busy the bot is, only its time does (docs/quality.md
round 22).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
HELPER_PREFIX = "read-part"


def machine_cores(quota: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity (not the machine's count), and no more than a container's
    CPU quota (cgroup v2 `cpu.max`, whole cores), where parts side by side would only be throttled."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    allowed = quota_cores(quota)
    return max(1, min(cores, allowed) if allowed else cores)


def quota_cores(path: Path) -> int | None:
    """The whole cores a cgroup v2 `cpu.max` ("<quota> <period>" or "max <period>") allows; None without one."""
    try:
        quota, period = path.read_text(encoding="ascii").split()[:2]
        return None if quota == "max" else max(1, int(float(quota) // float(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None


class CoreBudget:
    """How many of the process's cores are taken: each running question or reindex holds one for its own
    thread, and a read's extra parts hold one each while they run."""

    def __init__(self, cores: int) -> None:
        self.cores = max(1, cores)
        self._taken = 0
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def taken(self) -> int:
        return self._taken

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Hold a core for a question's or a job's own thread while it runs."""
        with self._lock:
            self._taken += 1
        try:
            yield
        finally:
            with self._lock:
                self._taken -= 1

    def spare(self, wanted: int) -> int:
        """Take up to `wanted` idle cores; the caller gives them back with `give_back`. None on a helper thread: a
        part that split its own read would queue the new parts behind itself and wait for ever."""
        if threading.current_thread().name.startswith(HELPER_PREFIX):
            return 0
        with self._lock:
            granted = max(0, min(wanted, self.cores - max(self._taken, 1)))
            self._taken += granted
            return granted

    def give_back(self, cores: int) -> None:
        with self._lock:
            self._taken -= cores

    def submit(self, call: Callable[[], T]) -> Future[T]:
        """Run `call` on the shared helper threads (one per core beyond the first)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max(1, self.cores - 1), thread_name_prefix=HELPER_PREFIX)
            pool = self._pool
        return pool.submit(call)


CORES = CoreBudget(machine_cores())


def parts_of(texts: Sequence[str], parts: int) -> list[list[int]]:
    """The positions of `texts` in at most `parts` parts of similar total length, shortest texts first: each part
    is padded to its own longest text, so sorting wastes less on padding than one batch (docs/quality.md round
    21 measured 13 % less for ten reads in three parts)."""
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    parts = max(1, min(parts, len(texts)))
    cut = [round(k * len(order) / parts) for k in range(parts + 1)]
    return [order[cut[k] : cut[k + 1]] for k in range(parts) if cut[k] < cut[k + 1]]


def in_parts(
    read: Callable[[list[str]], list[T]],
    texts: Sequence[str],
    parts: int,
    first: int | None = None,
    budget: CoreBudget = CORES,
) -> list[T]:
    """`read(texts)`, in `texts`' order, done as `parts_of(texts, parts)` batches; with `first`, the first `first`
    texts and the rest are split apart, so the first ones are read in the same batches whatever follows them
    (with int8 weights a text's read depends a little on its batch). The batches are dealt out to this thread and
    the spare cores `budget` grants; without one they run one after the other here. `parts` 1 and no `first`: one
    read."""
    cut = len(texts) if first is None else max(0, min(first, len(texts)))
    groups = parts_of(texts[:cut], parts) + [[cut + i for i in g] for g in parts_of(texts[cut:], parts)]
    if len(groups) <= 1:
        return read(list(texts)) if texts else []
    granted = budget.spare(len(groups) - 1)
    lanes = [groups[k :: granted + 1] for k in range(granted + 1)]

    def run(lane: list[list[int]]) -> list[list[T]]:
        return [read([texts[i] for i in g]) for g in lane]

    futures: list[Future[list[list[T]]]] = []
    try:
        futures = [budget.submit(lambda lane=lane: run(lane)) for lane in lanes[1:]]
        done = [run(lanes[0])] + [f.result() for f in futures]
    finally:
        wait(futures)  # a batch that failed here must not leave another running on a core given back
        budget.give_back(granted)
    out: list[T | None] = [None] * len(texts)
    for lane, results in zip(lanes, done, strict=True):
        for group, values in zip(lane, results, strict=True):
            for i, value in zip(group, values, strict=True):
                out[i] = value
    return out  # type: ignore[return-value]
