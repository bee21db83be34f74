"""Write a slice of the news dev set: every `--every`-th question and the next one, with only their own pages.

For comparisons that cannot afford the whole collection (all-mpnet-base-v2 encodes the 1,709 pages in about
2 hours on 2 cores; a 50-question slice of 449 pages in about 23 minutes). The slice keeps the set's halves:
its even lines are tuning questions, its odd lines held-out ones. Retrieval over fewer pages is easier, so
compare models on the same slice only, never with the whole set's figures.

    python benchmarks/news_slice.py --out /tmp/news-sub            # 50 questions
    python benchmarks/bench_quality.py --news /tmp/news-sub --stores /tmp/sub-mini --sets news --no-baselines
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from news_data import DEFAULT_NEWS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--news", type=Path, default=DEFAULT_NEWS, help="the built news dev set")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--every", type=int, default=8)
    args = parser.parse_args(argv)
    lines = (args.news / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    chosen = [q for i, q in enumerate(questions) if i % args.every in (0, 1)]
    pages = {page for q in chosen for page in q["article_ids"]}
    args.out.mkdir(parents=True, exist_ok=True)
    kept = 0
    source_path, out_path = args.news / "articles.jsonl", args.out / "articles.jsonl"
    with source_path.open(encoding="utf-8") as source, out_path.open("w", encoding="utf-8") as out:
        for line in source:
            if line.strip() and json.loads(line).get("id") in pages:
                out.write(line)
                kept += 1
    with (args.out / "questions.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(q) + "\n" for q in chosen)
    print(f"{len(chosen)} questions, {kept} of their {len(pages)} pages written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
