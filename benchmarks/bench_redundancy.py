"""Quotes 2-3 that say something new (the quote selector's `redundancy`), off and on, in one run.

    python benchmarks/bench_redundancy.py --stores /tmp/quality2 [--set news|squad] [--limit N] [--repeats R]

A candidate whose sentence vector is closer than `redundant_above` (cosine) to a quote already taken loses
`redundancy` log-odds per unit of cosine above it (docs/quality.md round 18). The ways take turns on every
question in one process, as in bench_point_head.py; it prints per way the p50 / p95 / mean per question, the
paired extra time against off, and answer-in-top1 / top3.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_point_head

from bot.components.quote_selector import REDUNDANCY, REDUNDANT_ABOVE

WAYS = {
    "off": {"redundancy": 0.0},
    f"{REDUNDANCY:g} over {REDUNDANT_ABOVE:g}": {"redundancy": REDUNDANCY, "redundant_above": REDUNDANT_ABOVE},
}

if __name__ == "__main__":
    raise SystemExit(bench_point_head.main(ways=WAYS, doc=__doc__))
