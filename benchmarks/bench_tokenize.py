"""BM25 tokenizing, round 12's `finditer` loop (the baseline) against `indexing.sparse.tokenize` (`findall`).

    python benchmarks/bench_tokenize.py [--json]

Every chunk and every candidate sentence of a question is tokenized (about 180 candidates per news question), so
this is on the answer path. Both ways run over every line of the eval articles with a warm stem cache, taking
turns for three passes, and the script checks that they give the same tokens on every line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stemming import corpus

from indexing.sparse import _TOKEN, STOPWORDS, _stem, tokenize


def tokenize_finditer(text: str) -> list[str]:
    """indexing.sparse.tokenize as it was in round 12: one match object per word."""
    words = (match.group().lower() for match in _TOKEN.finditer(text))
    return [_stem(word) for word in words if word not in STOPWORDS]


def timed(lines: list[str], tok: Callable[[str], list[str]]) -> float:
    started = time.perf_counter()
    for line in lines:
        tok(line)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    lines = [line for text in corpus() for line in text.splitlines() if line.strip()]
    ways = {"finditer (round 12, baseline)": tokenize_finditer, "findall (indexing.sparse.tokenize)": tokenize}
    for line in lines:  # warm the stem cache: both ways share it
        tokenize(line)
    runs: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(3):
        for name, tok in ways.items():
            runs[name].append(timed(lines, tok))
    report: dict = {"lines": len(lines)}
    for name, seconds in runs.items():
        report[f"{name}: every line, s (median of 3)"] = round(statistics.median(seconds), 3)
    report["lines tokenized differently"] = sum(tokenize_finditer(line) != tokenize(line) for line in lines)
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))


if __name__ == "__main__":
    main()
