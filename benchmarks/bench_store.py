"""Store scale benchmark: Qdrant Edge and qdrant-client's local mode side by side on the real layout.

    python benchmarks/bench_store.py --sizes 10000                        # both engines, 10k chunks
    python benchmarks/bench_store.py --sizes 10000,100000,250000 --out /tmp/store-scale
    python benchmarks/bench_store.py --sizes 1000000 --engines edge --out /tmp/store-scale
    python benchmarks/bench_store.py --recall --out /tmp/store-scale   # HNSW vs exact on real embeddings
    python benchmarks/bench_store.py --chart docs/store-scale.png --out /tmp/store-scale

Vectors shaped like real embeddings: every synthetic vector is built from real MiniLM sentence
embeddings read from an indexed store (`--real-store`, default the news dev store): an article's
topic is a real sentence embedding, its sentences are the topic plus real sentence-to-mean
deviations (correlated from one sentence to the next, as a text drifts), so the collection has the
anisotropy, topic clusters and near neighbours of real chunks (random vectors are HNSW's worst case).
Texts are pseudo-words with Zipf frequencies (real BM25 vectors and term counts). Articles are
written through the real writer (`indexing.writer.write_batch`) and the end of the run
(`Store.finish_run`: sweep, flush, HNSW), then each measurement runs in a fresh process:

- build: write time, end-of-run time, disk;
- open on a cold page cache (the store's files evicted) and on a warm one: open time, RSS after
  open, the first hybrid query of the new process;
- warm queries: the retriever's hybrid query (dense top 24 + sparse top 24, `sentences` and `title`
  returned) p50/p95 without and with a 30-day date filter, and the dense top 24's recall against
  exact search;
- writes: a daily batch of 50 new articles (write + end of run) on several days in a row,
  rewriting 200 articles, deleting 200 articles (each with its end of run).

Local mode (pure Python, everything in memory) runs only up to `--local-max-chunks`; bigger sizes
show "—". Each size/engine's figures go to `OUT/scale-<engine>-<chunks>.json`; `--chart` draws them.
`--recall` measures HNSW against exact search on the real store itself with its real questions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

DIM = 384
CHUNK_SENTENCES, OVERLAP = 4, 1
SENTENCES_PER_ARTICLE = 67  # 22 chunks of 4 sentences sharing one
CHUNKS_PER_ARTICLE = (SENTENCES_PER_ARTICLE - OVERLAP) // (CHUNK_SENTENCES - OVERLAP)
VOCABULARY = 60_000
WORDS_PER_SENTENCE = 22
SOURCES = [f"Outlet {n}" for n in range(12)]
ARTICLES_PER_BATCH = 30  # about the job's BATCH_TEXTS of 2,048 texts
# How synthetic vectors are drawn from real ones (fitted to the SQuAD store's chunk statistics: mean
# cosine of unrelated chunks, of chunks of one article, to the nearest chunk and the nearest chunk of
# another article, share of variance in the top principal components; see docs/store.md).
ARTICLES_PER_TOPIC = 8
ARTICLE_SPREAD, SENTENCE_SPREAD, DRIFT, MEAN_WEIGHT = 0.8, 2.0, 0.7, 2.0
QUESTION_SPREAD = 1.3  # a question's cosine to its sentence ~0.6
DAYS_OF_BATCHES = 6
DAILY_ARTICLES = 50
DEFAULT_REAL_STORE = Path("/tmp/store-newsdev")
DEFAULT_QUESTIONS = Path("/tmp/news-dev/questions.jsonl")


# ---------------------------------------------------------------------- measuring


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def disk_mb(path: Path) -> float:
    """Blocks actually used (the WAL's preallocated files are sparse)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


def evict(path: Path) -> None:
    """Drop the store's files from the page cache (as after a reboot), touching no other file."""
    for file in path.rglob("*"):
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def timed_series(run, items: list, budget_s: float, minimum: int = 10) -> list[float]:
    """Run `run(item)` (returns ms) over `items`, stopping after `budget_s` once `minimum` ran."""
    times: list[float] = []
    started = time.perf_counter()
    for item in items:
        times.append(run(item))
        if len(times) >= minimum and time.perf_counter() - started > budget_s:
            break
    return times


# ---------------------------------------------------------------------- synthetic articles


def settings_for(engine: str, folder: Path, collection: str = "bench"):
    from indexing.settings import Settings

    return Settings(_env_file=None, qdrant_path=folder, qdrant_engine=engine, qdrant_collection=collection)


def load_pool(real_store: Path, collection: str, cache: Path) -> np.ndarray:
    """Real sentence embeddings (unique rows) read from an indexed store, cached as .npy."""
    if cache.exists():
        return np.load(cache)
    from indexing.store import SENTENCES, Store

    store = Store.open(settings_for("edge", real_store, collection))
    rows = [np.asarray(p.vectors[SENTENCES], dtype=np.float32) for p in store.chunks(fields=[], vectors=(SENTENCES,))]
    store.close()
    if not rows:
        raise SystemExit(f"no chunks in {real_store} (collection {collection}): index it first")
    pool = np.unique(np.concatenate(rows), axis=0)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, pool)
    return pool


def pseudo_word(rank: int) -> str:
    letters, vowels = "bcdfghjklmnprstvz", "aeiou"
    word = ""
    rank += 1
    while rank:
        rank, rest = divmod(rank, len(letters) * len(vowels))
        word += letters[rest % len(letters)] + vowels[rest // len(letters)]
    return word + "x"  # stems to itself


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


class Corpus:
    """Synthetic articles, each a pure function of (seed, number, version) and the pool of real vectors."""

    def __init__(self, pool: np.ndarray, seed: int = 7) -> None:
        self.seed = seed
        self.pool = pool
        self.mean = pool.mean(axis=0)
        zipf = np.cumsum(1.0 / np.arange(1, VOCABULARY + 1) ** 1.05)
        self.word_cdf = zipf / zipf[-1]
        self.words = [pseudo_word(i) for i in range(VOCABULARY)]
        from indexing.sparse import tokenize

        # Each pseudo-word is its own token, so sentence frequencies come from the word ids directly.
        assert all(tokenize(self.words[i]) == [self.words[i]] for i in (0, 1, 99, VOCABULARY - 1))

    def rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *key])

    def deviation(self, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
        """Real sentence embeddings minus their mean: directions real text varies in."""
        return self.pool[rng.integers(len(self.pool), size=n)] - self.mean

    def sentence_vectors(self, number: int, version: int) -> np.ndarray:
        topic = self.pool[self.rng(number // ARTICLES_PER_TOPIC, 1).integers(len(self.pool))]
        rng = self.rng(number, version, 2)
        center = topic + ARTICLE_SPREAD * self.deviation(rng)
        steps = self.deviation(rng, SENTENCES_PER_ARTICLE)
        drift = np.zeros(DIM, dtype=np.float32)
        rows = np.empty((SENTENCES_PER_ARTICLE, DIM), dtype=np.float32)
        for i in range(SENTENCES_PER_ARTICLE):
            drift = DRIFT * drift + np.sqrt(1 - DRIFT**2) * steps[i]
            rows[i] = center + SENTENCE_SPREAD * drift + MEAN_WEIGHT * self.mean
        return unit(rows)

    def article(self, number: int, version: int = 0):
        """(PreparedArticle, sentence vectors, title vector) of article `number`."""
        from indexing.chunking import make_chunks
        from indexing.models import Article, PreparedArticle, Span

        rng = self.rng(number, version, 3)
        ids = np.searchsorted(self.word_cdf, rng.random((SENTENCES_PER_ARTICLE, WORDS_PER_SENTENCE)))
        ids = np.minimum(ids, VOCABULARY - 1)
        sentences = [" ".join(self.words[i] for i in row).capitalize() + "." for row in ids]
        spans, cursor = [], 0
        for sentence in sentences:
            spans.append(Span(cursor, cursor + len(sentence)))
            cursor += len(sentence) + 1
        text = " ".join(sentences)
        day = int(self.rng(number, 4).integers(0, 365))
        published = f"{np.datetime64('2024-01-01') + day}T{number % 24:02d}:00:00"
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
        for row in ids:
            term_df.update(self.words[i] for i in set(row.tolist()))
        prepared = PreparedArticle(
            article=article,
            content_hash=f"{number}-{version}",
            sentences=spans,
            chunks=make_chunks(text, spans, CHUNK_SENTENCES, OVERLAP),
            term_df=dict(term_df),
        )
        vectors = self.sentence_vectors(number, version)
        return prepared, vectors, vectors[0].copy()

    def question(self, number: int) -> tuple[list[float], tuple[list[int], list[float]]]:
        """A question about a sentence of article `number`: dense vector near it, six of its words."""
        from indexing.sparse import query_vector

        prepared, vectors, _ = self.article(number)
        rng = self.rng(number, 99)
        row = int(rng.integers(0, len(vectors)))
        dense = unit(vectors[row] + QUESTION_SPREAD * self.deviation(rng))
        words = prepared.sentences[row].slice(prepared.article.text).split()
        return dense.tolist(), query_vector(" ".join(rng.choice(words, size=6, replace=False)))


def make_questions(pool: np.ndarray, articles: int, count: int, path: Path) -> None:
    """Questions about random articles, each with a 30-day window around its article's date."""
    corpus = Corpus(pool)
    asked = []
    for number in np.random.default_rng(3).choice(articles, size=count, replace=True):
        dense, sparse = corpus.question(int(number))
        day = int(corpus.rng(int(number), 4).integers(0, 365))
        start = np.datetime64("2024-01-01") + max(0, day - 15)
        asked.append({"dense": dense, "sparse": sparse, "from": str(start), "to": str(start + 29)})
    path.write_text(json.dumps(asked), encoding="utf-8")


# ---------------------------------------------------------------------- steps (each in a fresh process)


def step_build(engine: str, folder: Path, articles: int, pool: np.ndarray) -> dict:
    """Write `articles` synthetic articles through the real writer, then end the run (HNSW)."""
    from indexing.store import Store
    from indexing.writer import write_batch

    corpus = Corpus(pool)
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
    segments = segment_count(store)
    store.close()
    return {
        "chunks": chunks,
        "articles": articles,
        "write_s": round(write, 1),
        "finish_run_s": round(finish, 1),
        "build_s": round(write + finish, 1),
        "generate_s": round(generate, 1),
        "segments": segments,
        "disk_mb": round(disk_mb(folder)),
        "build_peak_rss_mb": round(peak_rss_mb()),
    }


def segment_count(store) -> int | None:
    shards = getattr(store, "_shards", None)  # Edge only: how the optimizer left the chunks
    return shards["chunks"].info().segments_count if shards else None


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hybrid_ms(store, asked: dict, dated: bool, cpu: list[float] | None = None) -> float:
    """The retriever's hybrid query; wall ms (CPU ms of all the process's threads appended to `cpu`)."""
    from indexing.store import ChunkQuery, SearchFilter

    flt = SearchFilter(date_from=asked["from"], date_to=asked["to"]) if dated else None
    sparse = (asked["sparse"][0], asked["sparse"][1])
    started, started_cpu = time.perf_counter(), time.process_time()
    store.query(
        [ChunkQuery(limit=24, dense=asked["dense"], filters=flt), ChunkQuery(limit=24, sparse=sparse, filters=flt)]
    )
    if cpu is not None:
        cpu.append((time.process_time() - started_cpu) * 1000)
    return (time.perf_counter() - started) * 1000


def step_first(engine: str, folder: Path, questions: Path, cold: bool) -> dict:
    """A new process: open (after evicting the store from the page cache when `cold`), first question."""
    from indexing.store import Store

    asked = json.loads(questions.read_text(encoding="utf-8"))
    if cold:
        evict(folder)
    before = rss_mb()
    clock, cpu = time.perf_counter(), time.process_time()
    store = Store.open(settings_for(engine, folder))
    store.exists()
    open_s, open_cpu_s = time.perf_counter() - clock, time.process_time() - cpu
    after = rss_mb()
    first = hybrid_ms(store, asked[0], dated=False)
    second = hybrid_ms(store, asked[1], dated=True)
    store.close()
    return {"open_s": round(open_s, 3), "open_cpu_s": round(open_cpu_s, 3), "rss_before_open_mb": round(before), "rss_after_open_mb": round(after),
            "first_query_ms": round(first, 1), "first_dated_query_ms": round(second, 1)}  # fmt: skip


def step_serve(engine: str, folder: Path, questions: Path, budget_s: float) -> dict:
    """Warm queries (after one pass to warm up), recall of the dense top 24 against exact search."""
    from indexing.store import ChunkQuery, SearchFilter, Store

    asked = json.loads(questions.read_text(encoding="utf-8"))
    store = Store.open(settings_for(engine, folder))
    for item in asked[: min(20, len(asked))]:
        hybrid_ms(store, item, dated=False)
    plain_cpu: list[float] = []
    dated_cpu: list[float] = []
    plain = timed_series(lambda a: hybrid_ms(store, a, False, plain_cpu), asked, budget_s)
    dated = timed_series(lambda a: hybrid_ms(store, a, True, dated_cpu), asked, budget_s)
    out = {
        "hybrid_p50_ms": pct(plain, 50),
        "hybrid_p95_ms": pct(plain, 95),
        "dated_p50_ms": pct(dated, 50),
        "dated_p95_ms": pct(dated, 95),
        "hybrid_cpu_p50_ms": pct(plain_cpu, 50),
        "hybrid_cpu_p95_ms": pct(plain_cpu, 95),
        "dated_cpu_p95_ms": pct(dated_cpu, 95),
        "mean_ms": round(statistics.fmean(plain), 2),
        "queries": len(plain),
        "dated_queries": len(dated),
        "rss_after_queries_mb": round(rss_mb()),
    }
    if engine == "edge":
        for label, dated_too, ef in (
            ("recall", False, None),
            ("dated_recall", True, None),
            ("recall_ef256", False, 256),
        ):
            found = []
            for item in asked[:100]:
                flt = SearchFilter(date_from=item["from"], date_to=item["to"]) if dated_too else None
                hnsw, exact = store.query(
                    [
                        ChunkQuery(limit=24, dense=item["dense"], filters=flt, vectors=(), hnsw_ef=ef),
                        ChunkQuery(limit=24, dense=item["dense"], filters=flt, vectors=(), exact=True),
                    ]
                )
                truth = {p.id for p in exact}
                found.append(len(truth & {p.id for p in hnsw}) / max(1, len(truth)))
            out[label] = round(statistics.fmean(found), 4)
    store.close()
    return out


def step_writes(engine: str, folder: Path, articles: int, pool: np.ndarray) -> dict:
    """Daily batches of new articles, then rewriting and deleting 200 articles, each with its end of run."""
    from indexing.store import Store
    from indexing.writer import write_batch

    corpus = Corpus(pool)
    store = Store.open(settings_for(engine, folder))
    days, days_cpu = [], []
    for day in range(DAYS_OF_BATCHES):
        first = articles + day * DAILY_ARTICLES
        made = [corpus.article(n) for n in range(first, first + DAILY_ARTICLES)]
        clock, cpu = time.perf_counter(), time.process_time()
        write_batch(store, [m[0] for m in made], [(m[1], m[2]) for m in made])
        written = time.perf_counter() - clock
        store.finish_run()
        days.append((round(written, 2), round(time.perf_counter() - clock - written, 2)))
        days_cpu.append(time.process_time() - cpu)
    half = min(200, articles // 2)
    picked = np.random.default_rng(5).choice(articles, size=2 * half, replace=False)
    rewrite, doomed = [int(n) for n in picked[:half]], [f"article-{n:07d}" for n in picked[half:]]
    made = [corpus.article(n, version=1) for n in rewrite]
    clock, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(made), ARTICLES_PER_BATCH):
        batch = made[start : start + ARTICLES_PER_BATCH]
        write_batch(store, [m[0] for m in batch], [(m[1], m[2]) for m in batch])
    update_s = time.perf_counter() - clock
    clock = time.perf_counter()
    store.finish_run()
    update_finish_s = time.perf_counter() - clock
    update_cpu_s = time.process_time() - cpu
    clock = time.perf_counter()
    for article_id in doomed:
        store.delete_article(article_id)
    delete_s = time.perf_counter() - clock
    clock = time.perf_counter()
    store.finish_run()
    delete_finish_s = time.perf_counter() - clock
    out = {
        "daily_write_s": [d[0] for d in days],
        "daily_finish_run_s": [d[1] for d in days],
        "daily_max_s": round(max(sum(d) for d in days), 2),
        "daily_median_s": round(statistics.median(sum(d) for d in days), 2),
        "daily_cpu_max_s": round(max(days_cpu), 2),
        "update_200_cpu_s": round(update_cpu_s, 2),
        "update_200_s": round(update_s, 2),
        "update_200_finish_run_s": round(update_finish_s, 2),
        "delete_200_s": round(delete_s, 2),
        "delete_200_finish_run_s": round(delete_finish_s, 2),
        "segments_after": segment_count(store),
        "articles_left": store.count_articles(),
    }
    store.close()
    return out


def step_recall(real_store: Path, collection: str, questions: Path, limit: int) -> dict:
    """HNSW against exact search on a real store with real questions (dense top 24 and top 10); the
    dated variant searches the 30 days before each question's `question_date` (when it has one)."""
    from indexing.embedding import Embedder
    from indexing.settings import Settings
    from indexing.store import ChunkQuery, SearchFilter, Store

    items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = items[:: max(1, len(items) // limit)][:limit]  # spread over the file
    embedder = Embedder(Settings(_env_file=None).embedding_model)
    vectors = embedder.encode([item["question"] for item in items])
    store = Store.open(settings_for("edge", real_store, collection))
    out: dict = {"store": str(real_store), "chunks": store.count_chunks(), "questions": len(items)}
    out["segments"] = segment_count(store)
    for ef in (None, 32, 64, 128, 256):
        for dated in (False, True):
            at24, at10, hnsw_ms = [], [], []
            for item, vector in zip(items, vectors, strict=True):
                flt = None
                if dated and item.get("question_date"):
                    end = np.datetime64(item["question_date"].replace("/", "-"))
                    flt = SearchFilter(date_from=str(end - 30), date_to=str(end))
                clock = time.perf_counter()
                (hnsw,) = store.query(
                    [ChunkQuery(limit=24, dense=vector.tolist(), filters=flt, vectors=(), hnsw_ef=ef)]
                )
                hnsw_ms.append((time.perf_counter() - clock) * 1000)
                (exact,) = store.query(
                    [ChunkQuery(limit=24, dense=vector.tolist(), filters=flt, vectors=(), exact=True)]
                )
                got, truth = [p.id for p in hnsw], [p.id for p in exact]
                if truth:
                    at24.append(len(set(got) & set(truth)) / len(truth))
                    at10.append(len(set(got[:10]) & set(truth[:10])) / len(truth[:10]))
            key = f"ef{ef or 'default'}{'_dated' if dated else ''}"
            out[key] = {
                "recall_at_24": round(statistics.fmean(at24), 4),
                "recall_at_10": round(statistics.fmean(at10), 4),
                "worst_at_24": round(min(at24), 3),
                "dense_p50_ms": pct(hnsw_ms, 50),
                "n": len(at24),
            }
    store.close()
    return out


# ---------------------------------------------------------------------- driver


def child(args: list[str]) -> dict:
    """Run one step in a fresh interpreter (so open time and memory are a new process's)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_size(engine: str, chunks: int, opts: argparse.Namespace, pool_file: Path) -> dict:
    articles = max(100, round(chunks / CHUNKS_PER_ARTICLE))
    questions = opts.out / f"questions-{articles}.json"
    if not questions.exists():
        make_questions(np.load(pool_file), articles, opts.queries, questions)
    folder = opts.workdir / f"{engine}-{chunks}"
    shutil.rmtree(folder, ignore_errors=True)
    common = ["--engine", engine, "--folder", str(folder), "--pool", str(pool_file)]
    result: dict = {"engine": engine, "target_chunks": chunks}
    log(f"{engine} {chunks:,}: building {articles:,} articles")
    result |= child(["--step", "build", *common, "--articles", str(articles)])
    log(f"{engine} {chunks:,}: built in {result['build_s']} s; opening cold, warm, querying")
    cold = child(["--step", "first", *common, "--questions", str(questions), "--cold"])
    result |= {f"cold_{key}": value for key, value in cold.items()}
    result |= child(["--step", "first", *common, "--questions", str(questions)])
    result |= child(["--step", "serve", *common, "--questions", str(questions), "--budget", str(opts.budget)])
    if not opts.skip_writes:
        log(f"{engine} {chunks:,}: daily batches, updates, deletes")
        result |= child(["--step", "writes", *common, "--articles", str(articles)])
    result["load_avg_1min"] = round(os.getloadavg()[0], 1)
    if not opts.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


ROWS = [
    ("chunks", "chunks", ""),
    ("write (real writer)", "write_s", "s"),
    ("end of run (sweep, flush, HNSW)", "finish_run_s", "s"),
    ("segments (Edge)", "segments", ""),
    ("disk", "disk_mb", "MB"),
    ("open, cold page cache", "cold_open_s", "s"),
    ("open, warm", "open_s", "s"),
    ("  CPU time of the open", "open_cpu_s", "s"),
    ("RSS before open (interpreter)", "rss_before_open_mb", "MB"),
    ("RSS after open", "rss_after_open_mb", "MB"),
    ("RSS after the queries", "rss_after_queries_mb", "MB"),
    ("first query, new process, cold", "cold_first_query_ms", "ms"),
    ("first query, new process, warm", "first_query_ms", "ms"),
    ("hybrid query p50 (warm)", "hybrid_p50_ms", "ms"),
    ("hybrid query p95 (warm)", "hybrid_p95_ms", "ms"),
    ("30-day filtered p50", "dated_p50_ms", "ms"),
    ("30-day filtered p95", "dated_p95_ms", "ms"),
    ("hybrid CPU time p50", "hybrid_cpu_p50_ms", "ms"),
    ("hybrid CPU time p95", "hybrid_cpu_p95_ms", "ms"),
    ("30-day filtered CPU time p95", "dated_cpu_p95_ms", "ms"),
    ("dense recall@24 vs exact", "recall", ""),
    ("  with the date filter", "dated_recall", ""),
    ("  at ef 256", "recall_ef256", ""),
    ("daily 50 articles, median", "daily_median_s", "s"),
    ("daily 50 articles, worst", "daily_max_s", "s"),
    ("  CPU time, worst day", "daily_cpu_max_s", "s"),
    ("rewrite 200 articles", "update_200_s", "s"),
    ("  then end of run", "update_200_finish_run_s", "s"),
    ("  CPU time of both", "update_200_cpu_s", "s"),
    ("delete 200 articles", "delete_200_s", "s"),
    ("  then end of run", "delete_200_finish_run_s", "s"),
]


def print_table(results: list[dict]) -> None:
    columns = [f"{r['engine']} {r['target_chunks'] // 1000}k" for r in results]
    print(f"\n{'':34}" + "".join(f"{c:>14}" for c in columns))
    for label, key, unit in ROWS:
        cells = "".join(f"{_cell(r.get(key)):>11} {unit:<2}" for r in results)
        print(f"{label:34}{cells}")


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def draw_chart(out: Path, chart: Path, local_max: int) -> None:
    """Open time, memory and query latency against collection size, both engines (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [json.loads(p.read_text()) for p in sorted(out.glob("scale-*.json"))]
    panels = [
        ("open (new process, cold cache)", "cold_open_s", "s", None),
        ("RSS after open", "rss_after_open_mb", "MB", None),
        ("hybrid query p95, warm", "hybrid_p95_ms", "ms", 30),
        ("first question of a new process (cold)", "cold_first_query_ms", "ms", 150),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for ax, (title, key, unit, target) in zip(axes.flat, panels, strict=True):
        for engine, style in (("edge", "o-"), ("local", "s--")):
            rows = sorted((r["chunks"], r[key]) for r in results if r["engine"] == engine and r.get(key) is not None)
            if rows:
                label = "Qdrant Edge" if engine == "edge" else "local mode"
                ax.plot(*zip(*rows, strict=True), style, label=label)
        if target:
            ax.axhline(target, color="grey", linestyle=":", linewidth=1, label=f"target at 250k ({target} {unit})")
        ax.axvline(local_max, color="lightgrey", linewidth=0.8)
        ax.axvline(250_000, color="lightgrey", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("chunks")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        "Store scale on 2 shared cores: Qdrant Edge vs qdrant-client local mode\n"
        f"(local mode stops at {local_max:,} chunks; dashed line: 250k chunks, a year of news)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(chart, dpi=110)
    log(f"chart written to {chart}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000", help="comma-separated chunk counts")
    parser.add_argument("--engines", default="edge,local", help="comma-separated: edge, local")
    parser.add_argument("--local-max-chunks", type=int, default=12_000, help="local mode stops past this size")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per query series (at least 10 queries)")
    parser.add_argument("--real-store", type=Path, default=DEFAULT_REAL_STORE, help="QDRANT_PATH of an indexed store")
    parser.add_argument("--real-collection", default="articles")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="for --recall: .jsonl questions")
    parser.add_argument("--recall", action="store_true", help="HNSW vs exact search on the real store")
    parser.add_argument("--max-questions", type=int, default=500, help="for --recall: at most this many")
    parser.add_argument("--out", type=Path, default=Path("/tmp/store-scale"), help="figures (JSON) go here")
    parser.add_argument("--workdir", type=Path, help="where the stores go (default: OUT/stores)")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    parser.add_argument("--skip-writes", action="store_true", help="no daily batches, rewrites or deletes")
    parser.add_argument("--chart", type=Path, help="draw the figures in OUT into this PNG")
    for hidden in ("--step", "--engine", "--folder", "--pool"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--articles", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.step:
        folder = Path(opts.folder)
        if opts.step == "build":
            result = step_build(opts.engine, folder, opts.articles, np.load(opts.pool))
        elif opts.step == "first":
            result = step_first(opts.engine, folder, opts.questions, opts.cold)
        elif opts.step == "serve":
            result = step_serve(opts.engine, folder, opts.questions, opts.budget)
        elif opts.step == "writes":
            result = step_writes(opts.engine, folder, opts.articles, np.load(opts.pool))
        else:
            result = step_recall(folder, opts.real_collection, opts.questions, opts.max_questions)
        print(json.dumps(result))
        return 0

    opts.out.mkdir(parents=True, exist_ok=True)
    opts.workdir = opts.workdir or opts.out / "stores"
    opts.workdir.mkdir(parents=True, exist_ok=True)
    if opts.recall:
        log(f"recall on {opts.real_store}")
        args = ["--step", "recall", "--folder", str(opts.real_store), "--real-collection", opts.real_collection]
        result = child([*args, "--questions", str(opts.questions), "--max-questions", str(opts.max_questions)])
        (opts.out / f"recall-{opts.real_store.name}.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
    sizes = [int(s) for s in opts.sizes.split(",") if s.strip()] if not opts.recall or opts.sizes != "10000" else []
    pool_file = opts.out / "pool.npy"
    if sizes:
        load_pool(opts.real_store, opts.real_collection, pool_file)
    results = []
    for chunks in sizes:
        for engine in [e.strip() for e in opts.engines.split(",") if e.strip()]:
            if engine == "local" and chunks > opts.local_max_chunks:
                log(f"local {chunks:,}: past --local-max-chunks {opts.local_max_chunks:,}: —")
                results.append({"engine": engine, "target_chunks": chunks, "chunks": "—"})
                continue
            result = run_size(engine, chunks, opts, pool_file)
            (opts.out / f"scale-{engine}-{chunks}.json").write_text(json.dumps(result, indent=2))
            results.append(result)
    if results:
        print_table(results)
        print(f"\nload average (1 min): {os.getloadavg()[0]:.1f}; up to {opts.queries} queries per series")
    if opts.chart:
        draw_chart(opts.out, opts.chart, opts.local_max_chunks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
