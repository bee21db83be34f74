"""Reading misspelled question words (bot/spelling.py): how often it fires on real questions, what it changes,
and what it costs per question beside the tokenizing every question gets anyway (the baseline).

    python benchmarks/bench_respell.py [--examples 15] [--json F]

Each question set meets the vocabulary of the collection it is asked of (sentence-level document frequencies,
as the store aggregates them): SQuAD questions and the written unanswerable ones the SQuAD articles, the news
dev questions (when built on this machine) the news pages. Whether it pays is bench_quality.py's to say, run
with RESPELL=false and RESPELL=true (docs/quality.md, round 14).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import squad_data
from bench_quality import UNANSWERABLE

from bot.lexicon import canon
from bot.spelling import respell
from indexing.prepare import prepare_article
from indexing.sparse import tokenize


def sentence_df(articles: list) -> Counter:
    """Sentence-level document frequency of every term: each prepared article's `term_df` (what the indexer
    stores), summed by group term the way the pipeline's corpus statistics are."""
    df: Counter = Counter()
    for article in articles:
        for term, count in prepare_article(article).term_df.items():
            df[canon(term)] += count
    return df


def timed(questions: list[str], run) -> tuple[list[float], list]:
    """Milliseconds per question of `run(question)`, and what it returned."""
    times, outputs = [], []
    for question in questions:
        started = time.perf_counter()
        outputs.append(run(question))
        times.append((time.perf_counter() - started) * 1000)
    return times, outputs


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    return f"mean {statistics.fmean(times):.3f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.3f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=15, help="changed questions to print per set")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    squad_df = sentence_df(squad_data.load_articles(squad_data.DEFAULT_EVAL))
    sets = {
        "squad": ([q["question"] for q in squad_data.load_questions(squad_data.DEFAULT_EVAL)], squad_df),
        "unanswerable": (
            [t.strip() for t in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if t.strip()],
            squad_df,
        ),
    }
    if (news_data.DEFAULT_NEWS / "articles.jsonl").exists():
        news_df = sentence_df(news_data.load_articles(news_data.DEFAULT_NEWS))
        sets["news"] = ([q["question"] for q in news_data.load_questions(news_data.DEFAULT_NEWS)], news_df)
    results = {}
    for name, (questions, df) in sets.items():
        questions = [" ".join(q.split()) for q in questions]
        for q in questions:  # warm the stem cache the way a running bot has it
            tokenize(q)
        base, _ = timed(questions, tokenize)
        spent, read = timed(questions, lambda q, df=df: respell(q, df))
        changed = [(q, text, pairs) for q, (text, pairs) in zip(questions, read, strict=True) if pairs]
        results[name] = {
            "questions": len(questions),
            "changed": len(changed),
            "tokenize_ms_mean": statistics.fmean(base),
            "respell_ms_mean": statistics.fmean(spent),
            "respell_ms_p95": sorted(spent)[int(0.95 * (len(spent) - 1))],
            "examples": [{"written": w, "read": r} for q, r, pairs in changed for w, r in pairs][: args.examples],
        }
        print(
            f"{name}: {len(questions)} questions, {len(changed)} read otherwise ({len(changed) / len(questions):.1%})"
        )
        print(f"  tokenize (baseline): {summary(base)}   respell: {summary(spent)}")
        for q, _read, pairs in changed[: args.examples]:
            print("  " + ", ".join(f"{w} -> {r}" for w, r in pairs) + f"   | {q}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
