"""A question's reads in one batch or in two parts on the spare core (`READ_PARTS`), with and without the later
reads (`LATER_POINT_K`), in one run.

    python benchmarks/bench_read_parts.py --stores /tmp/quality2 [--set squad] [--limit N] [--repeats R]
    python benchmarks/bench_read_parts.py --stores /tmp/quality2 --streams 2 [--block 20]

One stream (the default): the ways take turns on every question in one process (bench_point_head.py's runner), so
the machine's noise falls on all alike. A busy way ("... busy", and "later r21", round 21's later reads) runs
with no spare core, as when another question or a reindex is running, so its parts run one after the other on
the question's thread: its answers must be the same as the idle way's, only its time may differ.

`--streams 2`: a busy group. Two threads ask at once, each its half of the questions, through the pipeline (so
each holds a core and neither finds one spare); the ways take turns in blocks of `--block` questions per
stream. It prints per way the latency per question and the questions answered per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_point_head
from bench_pointer_precision import collection
from paired import latency, set_parser

from bot.cores import CORES, machine_cores

WAYS = {
    "one batch": {"read_parts": 1, "later_point_k": 0},  # round 21's default
    "parts": {"read_parts": 2, "later_point_k": 0},  # READ_PARTS=2, the default
    "parts busy": {"read_parts": 2, "later_point_k": 0},
    "later r21": {"read_parts": 1, "later_point_k": 10},  # busy: round 21's LATER_POINT_K=10, batch after batch
    "later 2 batch": {"read_parts": 1, "later_point_k": 10},  # the head's batch and the rest's side by side
    "later parts": {"read_parts": 2, "later_point_k": 10},
    "later busy": {"read_parts": 2, "later_point_k": 10},
}
BUSY = {"parts busy", "later r21", "later busy"}


def arrange(way: str) -> None:
    """A busy way has no spare core."""
    CORES.cores = 1 if way in BUSY else machine_cores()


def streams(args: argparse.Namespace) -> int:
    """Two threads asking at once, the ways taking turns in blocks."""
    ways = {k: v for k, v in WAYS.items() if k not in BUSY}  # two questions at once: no way finds a spare core
    col = collection(args.set, args.stores)
    asked = bench_point_head.questions(args.set, args.limit)
    selector = col.qa.pipeline.get_component("selector")
    selector.warm_up()
    times: dict[str, list[float]] = {w: [] for w in ways}
    walls: dict[str, float] = dict.fromkeys(ways, 0.0)
    try:
        for start in range(0, len(asked), 2 * args.block):
            block = asked[start : start + 2 * args.block]
            for way in ways if (start // (2 * args.block)) % 2 == 0 else list(ways)[::-1]:
                for name, value in ways[way].items():
                    setattr(selector, name, value)
                lanes = [block[0::2], block[1::2]]
                began = time.perf_counter()

                def ask(lane: list[dict], way: str = way) -> None:
                    for q in lane:
                        t0 = time.perf_counter()
                        col.qa.run_raw(" ".join(q["question"].split()), as_of=q.get("question_date"))
                        times[way].append((time.perf_counter() - t0) * 1000)

                threads = [threading.Thread(target=ask, args=(lane,)) for lane in lanes]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                walls[way] += time.perf_counter() - began
    finally:
        col.close()
    report: dict[str, Any] = {w: latency(times[w]) | {"per_s": round(len(times[w]) / walls[w], 2)} for w in ways}
    print(f"{args.set}: {len(asked)} questions in two streams, blocks of {args.block} per stream, the ways in turns")
    print(f"{'':16s}" + "".join(f"{w:>16s}" for w in ways))
    for key in ("p50_ms", "p95_ms", "mean_ms", "per_s"):
        print(f"{key:16s}" + "".join(f"{report[w][key]:>16}" for w in ways))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--streams", type=int, choices=[1, 2], default=1)
    parser.add_argument("--block", type=int, default=20)
    known, rest = parser.parse_known_args(argv)
    if known.streams == 1:
        return bench_point_head.main(rest, ways=WAYS, doc=__doc__, arrange=arrange)
    args = set_parser(__doc__).parse_args(rest)
    args.block = known.block
    return streams(args)


if __name__ == "__main__":
    raise SystemExit(main())
