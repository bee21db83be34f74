"""The answer pointer in float32 (the baseline) and int8 (POINTER_PRECISION's default), side by side in one run.

    python benchmarks/bench_pointer_precision.py --stores /tmp/quality2 [--set news|squad] [--limit N] [--json F]

Both pointers are loaded into one process and take turns on every question of one benchmark store (the order
alternates per question and per repeat), so machine noise falls on both alike. It prints, for each precision:
the whole pipeline's p50 / p95 / mean per question, one pointer read's median, how often the lead (the bold part
of the first quote) is the same slice, and the paired per-question saving. Lead quality against gold answers is
measured by `fit_lead.py --pointer --precision P` (sentences) and `bench_quality.py` (the pipeline); this script
measures time and agreement. The store must exist (bench_quality.py builds it).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import numpy as np
import squad_data
from bench_quality import Collection
from embed_cache import DEFAULT_CACHE, CachedEmbedder
from paired import latency, set_parser, timed, turns

from bot.pointer import BUNDLED, AnswerPointer
from indexing.settings import bundled_model_path

PRECISIONS = ("float32", "int8")


def questions(which: str, limit: int) -> list[tuple[str, str | None]]:
    """(question, question date) of the chosen set, the first `limit`."""
    rows = (
        news_data.load_questions(news_data.DEFAULT_NEWS)
        if which == "news"
        else squad_data.load_questions(squad_data.DEFAULT_EVAL)
    )
    return [(" ".join(q["question"].split()), q.get("question_date")) for q in rows[:limit]]


def collection(which: str, stores: Path) -> Collection:
    embedder = CachedEmbedder(bundled_model_path(), DEFAULT_CACHE)
    if which == "news":
        return Collection("news", stores / "news", "news", news_data.load_articles(news_data.DEFAULT_NEWS), embedder)
    return Collection("squad", stores / "squad", "squad", squad_data.load_articles(squad_data.DEFAULT_EVAL), embedder)


def run(col: Collection, asked: list[tuple[str, str | None]], repeats: int) -> dict:
    """Per precision: pipeline latencies, pointer read times and leads, the pointers taking turns."""
    selector = col.qa.pipeline.get_component("selector")
    selector.warm_up()
    pointers = {p: AnswerPointer(BUNDLED, precision=p) for p in PRECISIONS}
    reads: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for p, pointer in pointers.items():  # time one read directly, wrapped
        read = pointer.distribution

        def read_timed(question: str, quote: str, _read=read, _p=p):
            started = time.perf_counter()
            try:
                return _read(question, quote)
            finally:
                reads[_p].append((time.perf_counter() - started) * 1000)

        pointer.distribution = read_timed
    total: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    leads: dict[str, list[str | None]] = {p: [] for p in PRECISIONS}
    for rep, (question, day), p in turns(asked, PRECISIONS, repeats):
        selector._pointer = pointers[p]
        raw, ms = timed(lambda q=question, d=day: col.qa.run_raw(q, include_outputs_from={"selector"}, as_of=d))
        total[p].append(ms)
        if rep == 0:
            answer = raw["generator"]["answer"]
            leads[p].append(None if answer.abstained else answer.answer)
    out = {}
    for p in PRECISIONS:
        out[p] = latency(total[p]) | {
            "read_median_ms": round(float(np.median(reads[p])), 1) if reads[p] else None,
            "reads": len(reads[p]),
        }
    answered = [(a, b) for a, b in zip(leads["float32"], leads["int8"], strict=True) if a is not None]
    saved = np.array(total["float32"]) - np.array(total["int8"])
    out["same_lead"] = round(sum(a == b for a, b in answered) / max(1, len(answered)), 3)
    out["paired_saving_ms"] = {"mean": round(float(saved.mean()), 1), "median": round(float(np.median(saved)), 1)}
    out["questions"], out["repeats"] = len(asked), repeats
    return out


def main(argv: list[str] | None = None) -> int:
    args = set_parser(__doc__).parse_args(argv)
    col = collection(args.set, args.stores)
    try:
        report = run(col, questions(args.set, args.limit), args.repeats)
    finally:
        col.close()
    print(f"{args.set}: {report['questions']} questions x {report['repeats']}, pointers taking turns")
    print(f"{'':24s}{'float32 (baseline)':>20s}{'int8':>12s}")
    for key, label in (("p50_ms", "pipeline p50 ms"), ("p95_ms", "pipeline p95 ms"), ("mean_ms", "pipeline mean ms")):
        print(f"{label:24s}{report['float32'][key]:>20}{report['int8'][key]:>12}")
    print(f"{'one pointer read ms':24s}{report['float32']['read_median_ms']:>20}{report['int8']['read_median_ms']:>12}")
    saving = report["paired_saving_ms"]
    print(f"paired saving per question: mean {saving['mean']} ms, median {saving['median']} ms")
    print(f"same lead on answered questions: {report['same_lead']:.1%}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
