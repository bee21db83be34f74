"""The answer checker's reads: one quote at a time (the baseline, rounds 9-11) against the first alone and then
the rest in one batch (bot/answer_check.read_until_settled, round 12), side by side in one run.

    python benchmarks/bench_checker_reads.py --stores /tmp/quality2 [--squad-every 50] [--repeats 2] [--json F]

Asks the news dev questions of the news store, and every `--squad-every`-th SQuAD question of it too (questions
the store cannot answer: the ones the checker reads most), both ways taking turns per question, so machine noise
falls on both alike. Prints how many quotes the checker read per question (why the rest is batched), the
pipeline's p50 / p95 / mean per set and way, and whether every decision and answer is the same both ways (the
batch only reads what one-at-a-time would have read next, or more, never changing the decision). The store must
exist (bench_quality.py builds it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import squad_data
from bench_quality import Collection
from embed_cache import DEFAULT_CACHE, CachedEmbedder
from paired import latency, timed, turns

import bot.components.quote_selector as selector_module
from bot.answer_check import LOGIT_RANGE, bounded, read_until_settled
from indexing.settings import bundled_model_path


def one_at_a_time(score, texts: list[str], base: float, weights: dict[str, float], cuts: tuple[float, ...]) -> dict:
    """The baseline: round 9-11's reading, one quote per checker call until the decision is settled."""
    lo, hi = LOGIT_RANGE
    w_best, w_first = weights.get("check_best", 0.0), weights.get("check_first", 0.0)
    read: list[float] = []
    while True:
        first_lo, first_hi = (read[0], read[0]) if read else (lo, hi)
        z_lo = base + w_best * max(read, default=lo) + w_first * first_lo
        z_hi = base + w_best * hi + w_first * first_hi
        if sum(z_lo >= c for c in cuts) == sum(z_hi >= c for c in cuts) or len(read) == len(texts):
            break
        read.append(bounded(score([texts[len(read)]])[0]))
    return {"check_best": max(read, default=lo), "check_first": read[0] if read else lo, "check_read": len(read)}


WAYS = {"one at a time": one_at_a_time, "first, then the rest together": read_until_settled}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=Path, default=Path("/tmp/quality"), help="bench_quality.py's stores")
    parser.add_argument("--squad-every", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(bundled_model_path(), DEFAULT_CACHE)
    articles = news_data.load_articles(news_data.DEFAULT_NEWS)
    col = Collection("news", args.stores / "news", "news", articles, embedder)
    asked = [
        ("news", " ".join(q["question"].split()), q.get("question_date"))
        for q in news_data.load_questions(news_data.DEFAULT_NEWS)
    ]
    squad = squad_data.load_questions(squad_data.DEFAULT_EVAL)[:: args.squad_every]
    asked += [("squad_on_news", " ".join(q["question"].split()), None) for q in squad]
    times: dict[tuple[str, str], list[float]] = {(w, s): [] for w in WAYS for s in ("news", "squad_on_news")}
    outcomes: dict[str, list] = {w: [] for w in WAYS}
    reads: dict[str, Counter] = {"news": Counter(), "squad_on_news": Counter()}
    try:
        for rep, (which, question, day), way in turns(asked, list(WAYS), args.repeats):
            selector_module.read_until_settled = WAYS[way]
            raw, ms = timed(lambda q=question, d=day: col.qa.run_raw(q, include_outputs_from={"selector"}, as_of=d))
            times[(way, which)].append(ms)
            if rep == 0:
                answer = raw["generator"]["answer"]
                outcomes[way].append((answer.abstained, answer.tentative, answer.answer))
                if way == "one at a time":
                    reads[which][int(raw["selector"]["evidence"].get("check_read", 0))] += 1
    finally:
        selector_module.read_until_settled = read_until_settled
        col.close()
    report: dict = {"quotes_read": {s: dict(sorted(c.items())) for s, c in reads.items()}, "sets": {}}
    for which in ("news", "squad_on_news"):
        print(f"{which}: quotes the checker read one at a time (reads: questions) {report['quotes_read'][which]}")
    print(f"{'':46s}{'p50 ms':>9s}{'p95 ms':>9s}{'mean ms':>9s}")
    for (way, which), values in times.items():
        row = report["sets"].setdefault(which, {})[way] = latency(values)
        print(f"{which + ', ' + way:46s}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['mean_ms']:>9}")
    report["same_outcomes"] = outcomes["one at a time"] == outcomes["first, then the rest together"]
    print(f"same decision and answer for every question: {report['same_outcomes']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
