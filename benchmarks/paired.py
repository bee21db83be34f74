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


def selector_ways(
    col: Any,
    asked: list[dict],
    ways: dict[str, dict[str, Any]],
    repeats: int,
    arrange: Callable[[str], None] | None = None,
) -> dict:
    """Per way (quote selector attributes to set, the first way the baseline; an attribute a way does not name
    keeps the selector's own value): pipeline latencies, the paired extra time against the baseline, and
    answer-in-top1 / top3 from the first repeat, the ways taking turns question by question on one store
    (`col`: a bench_quality.Collection; `arrange(way)`, when given, sets up the rest of a way before its turn)."""
    from bench_quality import contains_answer

    selector = col.qa.pipeline.get_component("selector")
    selector.warm_up()
    # an attribute one way sets and another does not is the selector's own value in the other: without the reset
    # it would keep the value of whichever way ran just before (the turns alternate)
    names = {name for settings in ways.values() for name in settings}
    own = {name: getattr(selector, name) for name in names}
    total: dict[str, list[float]] = {w: [] for w in ways}
    hits: dict[str, list[tuple[bool, bool]]] = {w: [] for w in ways}
    for rep, q, way in turns(asked, list(ways), repeats):
        for name in names:
            setattr(selector, name, ways[way].get(name, own[name]))
        if arrange is not None:
            arrange(way)
        text, day = " ".join(q["question"].split()), q.get("question_date")
        raw, ms = timed(lambda t=text, d=day: col.qa.run_raw(t, as_of=d))
        total[way].append(ms)
        if rep == 0:
            found = [contains_answer(x.text, q["answers"]) for x in raw["generator"]["answer"].quotes[:3]]
            hits[way].append((bool(found) and found[0], any(found)))
    base = next(iter(ways))
    out: dict = {}
    for way in ways:
        extra = np.array(total[way]) - np.array(total[base])
        out[way] = latency(total[way]) | {
            "top1": round(float(np.mean([h[0] for h in hits[way]])), 3),
            "top3": round(float(np.mean([h[1] for h in hits[way]])), 3),
            "extra_mean_ms": round(float(extra.mean()), 1),
            "extra_p95_ms": round(float(np.percentile(extra, 95)), 1),
        }
    out["questions"], out["repeats"] = len(asked), repeats
    return out


def print_ways(report: dict, ways: Sequence[str], title: str) -> None:
    """`selector_ways`' report as a table, one column per way."""
    print(f"{title}: {report['questions']} questions x {report['repeats']}, the ways taking turns")
    print(f"{'':22s}" + "".join(f"{w:>14s}" for w in ways))
    base = ways[0]
    for key, label in (
        ("p50_ms", "p50 ms"),
        ("p95_ms", "p95 ms"),
        ("mean_ms", "mean ms"),
        ("extra_mean_ms", f"extra vs {base}, mean"),
        ("extra_p95_ms", f"extra vs {base}, p95"),
        ("top1", "answer-in-top1"),
        ("top3", "answer-in-top3"),
    ):
        print(f"{label:22s}" + "".join(f"{report[w][key]:>14}" for w in ways))
