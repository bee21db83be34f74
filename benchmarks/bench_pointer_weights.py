"""Two answer pointers, the bundled one and a baseline's weights (round 8's by default), in one run.

    git show 187ae4f:bot/models/minilm-l6-squad-span-top4.safetensors > /tmp/p8.safetensors
    python benchmarks/bench_pointer_weights.py --stores /tmp/quality2 --baseline /tmp/p8.safetensors [--set squad]

Both are the same network over the same bundled model (int8, as shipped), so the time per read should not move;
what moves is which of the best sentences (the head, POINT_TOP_K) comes first and where the lead is cut
(docs/quality.md round 19). The ways take turns on every question in one process: bench_point_head.py's runner,
with the selector's pointer as the way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_point_head

from bot.finetuned import BUNDLED
from bot.pointer import AnswerPointer, load_pointer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--baseline", type=Path, default=Path("/tmp/p8.safetensors"), help="the other weights")
    args, rest = parser.parse_known_args(argv)
    ways = {
        "baseline": {"_pointer": AnswerPointer(BUNDLED, weights=args.baseline, precision="int8")},
        "bundled": {"_pointer": load_pointer(BUNDLED, precision="int8")},
    }
    return bench_point_head.main(rest, ways=ways, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
