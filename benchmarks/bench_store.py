"""Store scale benchmark: both embedded engines side by side on the project's real layout.

    python benchmarks/bench_store.py                       # 10,000 chunks, Edge and local mode
    python benchmarks/bench_store.py --chunks 100000 --engines edge
    python benchmarks/bench_store.py --json /tmp/store-bench.json

Builds a store of N chunks per engine through the real write path (`indexing.writer.write_batch`:
chunk points, records, in-progress marks) from synthetic articles: ~22 chunks of 4 sentences each
(one shared), pseudo-word text with Zipf-distributed terms (real BM25 vectors and term counts), and
384-dimension sentence vectors clustered by topic like real embeddings (random vectors are HNSW's
worst case). Then, in a fresh process per engine (as the bot would open it): open time, RSS after
open, the retriever's hybrid query (dense top 24 + sparse top 24, `sentences` and `title` vectors
returned) p50/p95 without and with a 30-day date filter, the first query of the new process, and
deleting 200 articles. Every figure is printed beside the other engine's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

DIM = 384
CHUNK_SENTENCES, OVERLAP = 4, 1
SENTENCES_PER_ARTICLE = 67  # 22 chunks of 4 sentences sharing one
VOCABULARY = 60_000
TOPICS = 200
WORDS_PER_SENTENCE = 22
SOURCES = [f"Outlet {n}" for n in range(12)]
ARTICLES_PER_BATCH = 30  # about the job's BATCH_TEXTS of 2,048 texts


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def disk_mb(path: Path) -> float:
    """Blocks actually used (the WAL's preallocated files are sparse)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


def noise(rng: np.random.Generator, shape: int | tuple[int, int], norm: float) -> np.ndarray:
    """Gaussian noise whose vectors have about this norm."""
    return (rng.standard_normal(shape) * (norm / np.sqrt(DIM))).astype(np.float32)


def pseudo_word(rank: int) -> str:
    letters = "bcdfghjklmnprstvz"
    vowels = "aeiou"
    word = ""
    rank += 1
    while rank:
        rank, rest = divmod(rank, len(letters) * len(vowels))
        word += letters[rest % len(letters)] + vowels[rest // len(letters)]
    return word + "x"  # stems to itself


class Corpus:
    """Synthetic articles, each a pure function of (seed, number): any one can be rebuilt on demand."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        rng = np.random.default_rng(seed)
        centers = rng.standard_normal((TOPICS, DIM)).astype(np.float32)
        self.centers = centers / np.linalg.norm(centers, axis=1, keepdims=True)
        zipf = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
        self.word_p = zipf / zipf.sum()
        self.words = [pseudo_word(i) for i in range(VOCABULARY)]

    def rng(self, number: int, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, number, salt])

    def article(self, number: int, version: int = 0):
        """(PreparedArticle, sentence vectors, title vector) of article `number`."""
        from collections import Counter

        from indexing.chunking import make_chunks
        from indexing.models import Article, PreparedArticle, Span
        from indexing.sparse import tokenize

        rng = self.rng(number, version)
        ids = rng.choice(VOCABULARY, size=(SENTENCES_PER_ARTICLE, WORDS_PER_SENTENCE), p=self.word_p)
        sentences = [" ".join(self.words[i] for i in row).capitalize() + "." for row in ids]
        spans, cursor = [], 0
        for sentence in sentences:
            spans.append(Span(cursor, cursor + len(sentence)))
            cursor += len(sentence) + 1
        text = " ".join(sentences)
        day = int(rng.integers(0, 365))
        published = f"{np.datetime64('2024-01-01') + day}T{int(rng.integers(0, 24)):02d}:00:00"
        article = Article(
            article_id=f"article-{number:07d}",
            title=sentences[0][:80],
            text=text,
            url=f"https://news.example/{number}",
            published=published,
            source=SOURCES[number % len(SOURCES)],
            origin=f"https://news.example/feed#{number}",
        )
        term_df: Counter[str] = Counter()
        for sentence in sentences:
            term_df.update(set(tokenize(sentence)))
        prepared = PreparedArticle(
            article=article,
            content_hash=f"{number}-{version}",
            sentences=spans,
            chunks=make_chunks(text, spans, CHUNK_SENTENCES, OVERLAP),
            term_df=dict(term_df),
        )
        # cosine ~0.8 to the topic, ~0.7 sentence to article: ~0.5 within an article, ~0.3 within a topic
        center = self.centers[number % TOPICS] + noise(rng, DIM, 0.8)
        center /= np.linalg.norm(center)
        vectors = center + noise(rng, (len(spans), DIM), 1.0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        title = vectors[0].copy()
        return prepared, vectors, title

    def query(self, number: int):
        """A question-like query near a sentence of article `number`: dense vector and sparse terms."""
        from indexing.sparse import query_vector

        prepared, vectors, _ = self.article(number)
        rng = self.rng(number, 99)
        row = int(rng.integers(0, len(vectors)))
        dense = vectors[row] + noise(rng, DIM, 0.7)
        dense /= np.linalg.norm(dense)
        words = prepared.sentences[row].slice(prepared.article.text).split()
        picked = " ".join(rng.choice(words, size=min(6, len(words)), replace=False))
        return dense, query_vector(picked)


def settings_for(engine: str, folder: Path):
    from indexing.settings import Settings

    return Settings(_env_file=None, qdrant_path=folder, qdrant_engine=engine, qdrant_collection="bench")


def build(engine: str, folder: Path, articles: int) -> dict:
    """Write `articles` synthetic articles through the real writer, then end the run (HNSW build)."""
    from indexing.store import Store
    from indexing.writer import write_batch

    corpus = Corpus()
    store = Store.open(settings_for(engine, folder))
    store.ensure("synthetic-384", DIM)
    generate = write = 0.0
    chunks = 0
    for start in range(0, articles, ARTICLES_PER_BATCH):
        clock = time.perf_counter()
        made = [corpus.article(n) for n in range(start, min(articles, start + ARTICLES_PER_BATCH))]
        generate += time.perf_counter() - clock
        clock = time.perf_counter()
        chunks += write_batch(store, [m[0] for m in made], [(m[1], m[2]) for m in made])
        write += time.perf_counter() - clock
    clock = time.perf_counter()
    store.finish_run()
    finish = time.perf_counter() - clock
    store.close()
    return {
        "chunks": chunks,
        "articles": articles,
        "write_s": round(write, 2),
        "finish_run_s": round(finish, 2),
        "build_s": round(write + finish, 2),
        "generate_s": round(generate, 2),
        "disk_mb": round(disk_mb(folder), 1),
    }


def serve(engine: str, folder: Path, articles: int, queries: int) -> dict:
    """In a fresh process: open, query (hybrid, as the retriever does), delete 200 articles."""
    from indexing.store import SearchFilter, Store

    corpus = Corpus()
    numbers = np.random.default_rng(3).choice(articles, size=queries, replace=True)
    asked = [corpus.query(int(n)) for n in numbers]  # built before any timing
    windows = []
    for n in numbers:
        day = int(np.random.default_rng(int(n)).integers(0, 335))
        start = np.datetime64("2024-01-01") + day
        windows.append(SearchFilter(date_from=str(start), date_to=str(start + 30)))
    rss_before = rss_mb()
    clock = time.perf_counter()
    store = Store.open(settings_for(engine, folder))
    store.exists()
    open_s = time.perf_counter() - clock
    rss_open = rss_mb()

    def hybrid(dense, sparse, flt=None) -> float:
        from indexing.store import ChunkQuery

        started = time.perf_counter()
        store.query(
            [
                ChunkQuery(limit=24, dense=dense.tolist(), filters=flt),
                ChunkQuery(limit=24, sparse=sparse, filters=flt),
            ]
        )
        return (time.perf_counter() - started) * 1000

    first_ms = hybrid(*asked[0])
    plain = [hybrid(d, s) for d, s in asked]
    dated = [hybrid(d, s, w) for (d, s), w in zip(asked, windows, strict=True)]
    rss_queries = rss_mb()
    doomed = [f"article-{n:07d}" for n in np.random.default_rng(5).choice(articles, size=200, replace=False)]
    clock = time.perf_counter()
    for article_id in doomed:
        store.delete_article(article_id)
    delete_s = time.perf_counter() - clock
    clock = time.perf_counter()
    store.finish_run()
    delete_finish_s = time.perf_counter() - clock
    left = store.count_articles()
    store.close()

    def pct(values: list[float], q: float) -> float:
        return round(float(np.percentile(values, q)), 2)

    return {
        "open_s": round(open_s, 3),
        "rss_before_open_mb": round(rss_before),
        "rss_after_open_mb": round(rss_open),
        "rss_after_queries_mb": round(rss_queries),
        "first_query_ms": round(first_ms, 1),
        "hybrid_p50_ms": pct(plain, 50),
        "hybrid_p95_ms": pct(plain, 95),
        "dated_p50_ms": pct(dated, 50),
        "dated_p95_ms": pct(dated, 95),
        "mean_ms": round(statistics.fmean(plain), 2),
        "delete_200_s": round(delete_s, 2),
        "delete_finish_run_s": round(delete_finish_s, 2),
        "articles_left": left,
    }


def child(step: str, engine: str, folder: Path, articles: int, queries: int) -> dict:
    """Run one step in a fresh interpreter (so open time and memory are a new process's)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), TOKENIZERS_PARALLELISM="false")
    args = [sys.executable, __file__, "--step", step, "--engine", engine, "--folder", str(folder)]
    args += ["--articles", str(articles), "--queries", str(queries)]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{step} on {engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10_000, help="about this many chunks per store")
    parser.add_argument("--engines", default="edge,local", help="comma-separated: edge, local")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workdir", type=Path, help="where the stores go (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--step", choices=["build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--articles", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        do = build if args.step == "build" else serve
        extra = () if args.step == "build" else (args.queries,)
        print(json.dumps(do(args.engine, args.folder, args.articles, *extra)))
        return 0

    chunks_per_article = (SENTENCES_PER_ARTICLE - OVERLAP) // (CHUNK_SENTENCES - OVERLAP)
    articles = max(200, round(args.chunks / chunks_per_article))
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.workdir) as tmp:
        for engine in engines:
            folder = Path(tmp) / engine
            print(f"{engine}: building {articles} articles ...", file=sys.stderr)
            results[engine] = child("build", engine, folder, articles, args.queries)
            print(f"{engine}: opening and querying ...", file=sys.stderr)
            results[engine] |= child("serve", engine, folder, articles, args.queries)
    rows = [
        ("chunks", "chunks", ""),
        ("articles", "articles", ""),
        ("write (real writer)", "write_s", "s"),
        ("end of run (sweep, flush, HNSW)", "finish_run_s", "s"),
        ("disk", "disk_mb", "MB"),
        ("open", "open_s", "s"),
        ("RSS before open (interpreter)", "rss_before_open_mb", "MB"),
        ("RSS after open", "rss_after_open_mb", "MB"),
        ("RSS after the queries", "rss_after_queries_mb", "MB"),
        ("first hybrid query (new process)", "first_query_ms", "ms"),
        ("hybrid query p50", "hybrid_p50_ms", "ms"),
        ("hybrid query p95", "hybrid_p95_ms", "ms"),
        ("30-day filtered p50", "dated_p50_ms", "ms"),
        ("30-day filtered p95", "dated_p95_ms", "ms"),
        ("delete 200 articles", "delete_200_s", "s"),
        ("  then end of run", "delete_finish_run_s", "s"),
    ]
    print(f"\n{'':36}" + "".join(f"{engine:>14}" for engine in engines))
    for label, key, unit in rows:
        cells = "".join(f"{results[e].get(key, '-'):>11} {unit:<2}" for e in engines)
        print(f"{label:36}{cells}")
    print(f"\nload average (1 min): {os.getloadavg()[0]:.1f}; {args.queries} queries per engine")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
