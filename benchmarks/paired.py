"""Two ways of answering, measured in one process and taking turns, so the machine's noise falls on both alike.

Runs of a whole benchmark minutes apart differ on this 2-core machine by more than a few milliseconds (round 12),
so bench_pointer_precision.py and bench_checker_reads.py time the baseline and the change question by question,
alternating which goes first.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def turns(items: Sequence[T], ways: Sequence[str], repeats: int) -> Iterator[tuple[int, T, str]]:
    """(repeat, item, way) for every item and way, `repeats` times; the order of the ways alternates per item
    and per repeat."""
    for rep in range(repeats):
        for i, item in enumerate(items):
            for way in ways if (i + rep) % 2 == 0 else list(ways)[::-1]:
                yield rep, item, way


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """(what `call` returns, its wall time in ms)."""
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def latency(values: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean of `values` (ms), rounded to 0.1."""
    t = np.asarray(values, dtype=float)
    return {
        "p50_ms": round(float(np.percentile(t, 50)), 1),
        "p95_ms": round(float(np.percentile(t, 95)), 1),
        "mean_ms": round(float(t.mean()), 1),
    }


def set_parser(doc: str) -> argparse.ArgumentParser:
    """The command line of a paired benchmark over one of bench_quality.py's stores (news or SQuAD questions)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=Path, default=Path("/tmp/quality"), help="bench_quality.py's stores")
    parser.add_argument("--set", choices=["news", "squad"], default="news")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path)
    return parser
