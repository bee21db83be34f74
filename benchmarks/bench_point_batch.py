"""The head's pointer reads one by one (round 19) and in one padded batch (round 20), in one run.

    python benchmarks/bench_point_batch.py --stores /tmp/quality2 [--set squad] [--limit N] [--repeats R]

The head's re-ordering (QuoteSelector.point) reads up to POINT_TOP_K sentences per question. Read in one batch,
three cost less than three single reads. In int8 the batch shares one activation scale (torch's dynamic
quantization), so a batched read differs a little from a single one: answer-in-top1 / top3 show whether that
moves the order. The ways take turns on every question in one process (bench_point_head.py's runner); wider
heads, batched, are the other ways (round 20 ran the first three and then the four batched ones, docs/quality.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_point_head

from bot.finetuned import BUNDLED
from bot.pointer import AnswerPointer, SpanDistribution, load_pointer


class OneByOne:
    """The shipped pointer, reading each quote of a batch on its own (round 19's reads)."""

    def __init__(self, pointer: AnswerPointer) -> None:
        self.pointer = pointer

    def distribution(self, question: str, quote: str) -> SpanDistribution | None:
        return self.pointer.distribution(question, quote)

    def distributions(self, question: str, quotes: list[str]) -> list[SpanDistribution | None]:
        return [self.pointer.distribution(question, q) for q in quotes]


def main(argv: list[str] | None = None) -> int:
    pointer = load_pointer(BUNDLED, precision="int8")
    ways = {
        "K3 W3 single": {"_pointer": OneByOne(pointer), "point_top_k": 3, "point_within": 3.0},
        "K3 W3 batched": {"_pointer": pointer, "point_top_k": 3, "point_within": 3.0},
        "K4 W2 batched": {"_pointer": pointer, "point_top_k": 4, "point_within": 2.0},
        "K4 W2.5 batched": {"_pointer": pointer, "point_top_k": 4, "point_within": 2.5},  # the default since round 20
        "K4 W3 batched": {"_pointer": pointer, "point_top_k": 4, "point_within": 3.0},
    }
    return bench_point_head.main(argv, ways=ways, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
