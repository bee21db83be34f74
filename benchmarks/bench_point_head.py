"""The answer pointer's re-ordering of the best sentences (`POINT_TOP_K`, `POINT_WITHIN`), off and on, in one run.

    python benchmarks/bench_point_head.py --stores /tmp/quality2 [--set news|squad] [--limit N] [--repeats R]

Runs of a whole benchmark minutes apart differ on this 2-core machine by 20 ms and more at p95, more than the
re-ordering costs. Here the ways share one process and one store and take turns on every question (the order
alternates per question and per repeat), so the machine's noise falls on all of them alike. It prints, per way,
the pipeline's p50 / p95 / mean per question, the paired extra time against the first way (the baseline), and
answer-in-top1 from the first repeat. The store must exist (bench_quality.py builds it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import numpy as np
import squad_data
from bench_pointer_precision import collection
from bench_quality import contains_answer
from paired import latency, set_parser, timed, turns

# way name -> (point_top_k, point_within); the first is the baseline
WAYS = {"off": (0, 4.0), "K2 W2": (2, 2.0), "K4 W4": (4, 4.0)}


def questions(which: str, limit: int) -> list[dict]:
    """The chosen set's first `limit` questions (news) or every tenth up to `limit` (SQuAD: all its articles)."""
    if which == "news":
        return news_data.load_questions(news_data.DEFAULT_NEWS)[:limit]
    return squad_data.load_questions(squad_data.DEFAULT_EVAL)[::10][:limit]


def run(col, asked: list[dict], ways: dict[str, tuple[int, float]], repeats: int) -> dict:
    """Per way: pipeline latencies and top1, the ways taking turns question by question."""
    selector = col.qa.pipeline.get_component("selector")
    selector.warm_up()
    total: dict[str, list[float]] = {w: [] for w in ways}
    hits: dict[str, list[bool]] = {w: [] for w in ways}
    for rep, q, way in turns(asked, list(ways), repeats):
        selector.point_top_k, selector.point_within = ways[way]
        text, day = " ".join(q["question"].split()), q.get("question_date")
        raw, ms = timed(lambda t=text, d=day: col.qa.run_raw(t, as_of=d))
        total[way].append(ms)
        if rep == 0:
            quotes = raw["generator"]["answer"].quotes
            hits[way].append(bool(quotes) and contains_answer(quotes[0].text, q["answers"]))
    base = next(iter(ways))
    out = {}
    for way in ways:
        extra = np.array(total[way]) - np.array(total[base])
        out[way] = latency(total[way]) | {
            "top1": round(float(np.mean(hits[way])), 3),
            "extra_mean_ms": round(float(extra.mean()), 1),
            "extra_p95_ms": round(float(np.percentile(extra, 95)), 1),
        }
    out["questions"], out["repeats"] = len(asked), repeats
    return out


def main(argv: list[str] | None = None) -> int:
    args = set_parser(__doc__).parse_args(argv)
    col = collection(args.set, args.stores)
    try:
        report = run(col, questions(args.set, args.limit), WAYS, args.repeats)
    finally:
        col.close()
    print(f"{args.set}: {report['questions']} questions x {report['repeats']}, the ways taking turns")
    print(f"{'':22s}" + "".join(f"{w:>14s}" for w in WAYS))
    for key, label in (
        ("p50_ms", "p50 ms"),
        ("p95_ms", "p95 ms"),
        ("mean_ms", "mean ms"),
        ("extra_mean_ms", "extra vs off, mean"),
        ("extra_p95_ms", "extra vs off, p95"),
        ("top1", "answer-in-top1"),
    ):
        print(f"{label:22s}" + "".join(f"{report[w][key]:>14}" for w in WAYS))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
