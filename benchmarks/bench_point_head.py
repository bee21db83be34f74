"""The answer pointer's re-ordering of the best sentences (`POINT_TOP_K`, `POINT_WITHIN`), off and on, in one run.

    python benchmarks/bench_point_head.py --stores /tmp/quality2 [--set news|squad] [--limit N] [--repeats R]

Runs of a whole benchmark minutes apart differ on this 2-core machine by 20 ms and more at p95, more than the
re-ordering costs. Here the ways share one process and one store and take turns on every question (the order
alternates per question and per repeat), so the machine's noise falls on all of them alike. It prints, per way,
the pipeline's p50 / p95 / mean per question, the paired extra time against the first way (the baseline), and
answer-in-top1 / top3 from the first repeat. The store must exist (bench_quality.py builds it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import squad_data
from bench_pointer_precision import collection
from paired import print_ways, selector_ways, set_parser

# way name -> the quote selector's settings; the first is the baseline
WAYS = {
    "off": {"point_top_k": 0, "point_within": 4.0},
    "K2 W2": {"point_top_k": 2, "point_within": 2.0},
    "K4 W4": {"point_top_k": 4, "point_within": 4.0},
}


def questions(which: str, limit: int) -> list[dict]:
    """The chosen set's first `limit` questions (news) or every tenth up to `limit` (SQuAD: all its articles)."""
    if which == "news":
        return news_data.load_questions(news_data.DEFAULT_NEWS)[:limit]
    return squad_data.load_questions(squad_data.DEFAULT_EVAL)[::10][:limit]


def main(
    argv: list[str] | None = None,
    ways: dict[str, dict[str, Any]] = WAYS,
    doc: str = __doc__,
    arrange: Callable[[str], None] | None = None,
) -> int:
    args = set_parser(doc).parse_args(argv)
    col = collection(args.set, args.stores)
    try:
        report = selector_ways(col, questions(args.set, args.limit), ways, args.repeats, arrange)
    finally:
        col.close()
    print_ways(report, list(ways), args.set)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
