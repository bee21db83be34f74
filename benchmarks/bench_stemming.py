"""Stemming cost, pure-Python snowballstemmer (the baseline) against its C backend PyStemmer, in one run.

    python benchmarks/bench_stemming.py [--json]

The sparse (BM25) terms of every chunk and every question are stemmed words (indexing/sparse.py). snowballstemmer
uses PyStemmer when it is installed; both run the same Snowball algorithm, and this script checks that they give the
same stem for every distinct word of the eval articles (so a store indexed with either answers alike), then times
each: all distinct words once, and tokenizing every sentence with a cold cache (what a fresh process pays).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import squad_data
import Stemmer
from snowballstemmer.english_stemmer import EnglishStemmer

from indexing.sparse import _TOKEN, STOPWORDS


def corpus() -> list[str]:
    """The texts of the SQuAD eval articles and, when built on this machine, the news dev pages."""
    texts = [a.text for a in squad_data.load_articles(squad_data.DEFAULT_EVAL)]
    if (news_data.DEFAULT_NEWS / "articles.jsonl").exists():
        texts += [a.text for a in news_data.load_articles(news_data.DEFAULT_NEWS)]
    return texts


def tokenize_all(lines: list[str], stem: Callable[[str], str]) -> float:
    """Seconds to tokenize `lines` the way indexing/sparse.tokenize does, from an empty stem cache."""
    cache: dict[str, str] = {}
    started = time.perf_counter()
    for line in lines:
        for match in _TOKEN.finditer(line):
            word = match.group().lower()
            if word not in STOPWORDS and word not in cache:
                cache[word] = stem(word)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    texts = corpus()
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    words = sorted({m.group().lower() for text in texts for m in re.finditer(_TOKEN, text)})
    backends = {
        "snowballstemmer (pure Python)": EnglishStemmer().stemWord,
        "PyStemmer (C)": Stemmer.Stemmer("english").stemWord,
    }
    stems, report = {}, {"articles": len(texts), "lines": len(lines), "distinct words": len(words)}
    for name, stem in backends.items():
        started = time.perf_counter()
        stems[name] = [stem(w) for w in words]
        report[f"{name}: distinct words, s"] = round(time.perf_counter() - started, 2)
        report[f"{name}: tokenize every line, cold cache, s"] = round(tokenize_all(lines, stem), 2)
    first, second = stems.values()
    report["words stemmed differently"] = sum(a != b for a, b in zip(first, second, strict=True))
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))


if __name__ == "__main__":
    main()
