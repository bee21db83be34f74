"""Candidate level: does the answer pointer's span mass re-order the best sentences better than the fused score?

Reads a `bench_quality.py --dump` pickle (each question's 40 best candidates with their features and whether
they hold a gold answer). For SQuAD and news questions of both halves it reads the first candidates with the
answer pointer (`SpanDistribution.log_mass`) and prints answer-in-top1 / top3 for each head size, window and
weight, beside the fused order of the same run (the baseline). The pipeline's `POINT_TOP_K` re-orders the same
way (bot/components/quote_selector.py `point`; docs/quality.md round 15).

    python benchmarks/bench_pointer_rank.py /tmp/check/dump_all.pkl --squad 600 --reads 6
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.components.embedder import torch_threads
from bot.pointer import BUNDLED, load_pointer
from bot.scoring import WEIGHTS


def sample(records: list[dict], squad_per_half: int, seed: int = 0) -> list[dict]:
    """Every news question and `squad_per_half` SQuAD questions of each half (answerable sets only)."""
    rng = random.Random(seed)
    out = [r for r in records if r["set"] == "news" and r["top"]]
    for half in ("tuning", "heldout"):
        pool = [r for r in records if r["set"] == "squad" and r["half"] == half and r["top"]]
        out += rng.sample(pool, min(squad_per_half, len(pool)))
    return out


def read_heads(records: list[dict], features: list[str], reads: int, precision: str) -> list[dict]:
    """Each question's first `reads` candidates in fused order: fused score, span mass, holds an answer."""
    pointer = load_pointer(BUNDLED, precision=precision)
    weights = np.array([WEIGHTS.get(f, 0.0) for f in features])
    heads = []
    started = time.perf_counter()
    with torch_threads(1):
        for r in records:
            top = r["top"][:reads]
            dists = [pointer.distribution(r["question"], c["text"]) for c in top]
            heads.append(
                {
                    "set": r["set"],
                    "half": r["half"],
                    "score": np.array([float(r["x"][c["row"]] @ weights) for c in top]),
                    "mass": np.array([d.log_mass if d is not None else -1e3 for d in dists]),
                    "y": [bool(r["y"][c["row"]]) for c in top],
                }
            )
    spent = time.perf_counter() - started
    print(f"{sum(len(h['y']) for h in heads)} reads in {spent:.0f} s", file=sys.stderr)
    return heads


def top_k(heads: list[dict], k: int, within: float, weight: float) -> tuple[float, float, float]:
    """Answer-in-top1 / top3 after re-ordering each head (first `k` within `within` of the best) by score +
    `weight` × span mass, and the mean number of sentences read."""
    top1 = top3 = read = 0
    for h in heads:
        s = h["score"]
        n = sum(1 for i in range(min(k, len(s))) if s[i] >= s[0] - within)
        order = list(range(len(s)))
        if n >= 2:
            order = sorted(range(n), key=lambda i: s[i] + weight * h["mass"][i], reverse=True) + order[n:]
            read += n
        ys = [h["y"][i] for i in order]
        top1 += ys[0]
        top3 += any(ys[:3])
    return top1 / len(heads), top3 / len(heads), read / len(heads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump", type=Path, help="a bench_quality.py --dump pickle")
    parser.add_argument("--squad", type=int, default=600, help="SQuAD questions per half")
    parser.add_argument("--reads", type=int, default=6, help="candidates read per question")
    parser.add_argument("--precision", default="int8", choices=["int8", "float32"])
    args = parser.parse_args(argv)
    with open(args.dump, "rb") as handle:
        data = pickle.load(handle)
    heads = read_heads(sample(data["records"], args.squad), data["features"], args.reads, args.precision)
    groups = {
        (s, h): [x for x in heads if x["set"] == s and x["half"] == h]
        for s in ("squad", "news")
        for h in ("tuning", "heldout")
    }
    print(
        "| head (within W, first K), weight | " + " | ".join(f"{s} {h}" for s, h in groups) + " | reads, SQuAD / news |"
    )
    print("|---" * (len(groups) + 2) + "|")
    configs = [("fused order (baseline)", 1, 0.0, 0.0)] + [
        (f"W {w:g}, K {k}, {wt:g}", k, w, wt) for w in (2.0, 4.0) for k in (2, 3, 4) for wt in (0.3, 0.5, 0.8)
    ]
    for name, k, within, weight in configs:
        cells = [top_k(g, k, within, weight) for g in groups.values()]
        reads = f"{cells[0][2]:.1f} / {cells[2][2]:.1f}"
        print(f"| {name} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b, _ in cells) + f" | {reads} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
