"""The pointer's reads for quotes 2-3 (`LATER_POINT_K`, `LATER_POINT_WITHIN`, `LATER_POINT_WEIGHT`), off and on,
in one run.

    python benchmarks/bench_later_point.py --stores /tmp/quality2 [--set squad] [--limit N] [--repeats R]

The first quote comes from the head's re-ordering (`POINT_TOP_K`); the later picks also weigh how strongly the
pointer finds an answer in each of the first ten candidates within the quote floor, read in one batch. The ways
take turns on every question in one process (bench_point_head.py's runner), so the machine's noise falls on all
alike; answer-in-top3 is what the reads are for, answer-in-top1 must not move.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_point_head

WAYS = {
    "off": {"later_point_k": 0},  # the default
    "K10 x0.75": {"later_point_k": 10, "later_point_within": 5.0, "later_point_weight": 0.75},
    "K10 x1": {"later_point_k": 10, "later_point_within": 5.0, "later_point_weight": 1.0},  # LATER_POINT_K=10
    "K10 x1.5": {"later_point_k": 10, "later_point_within": 5.0, "later_point_weight": 1.5},
    "K6 x1": {"later_point_k": 6, "later_point_within": 5.0, "later_point_weight": 1.0},
}


def main(argv: list[str] | None = None) -> int:
    return bench_point_head.main(argv, ways=WAYS, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
