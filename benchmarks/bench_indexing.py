"""Indexing speed: the full job against the raw encoder alone, on the 48 SQuAD v1.1 dev articles.

    python benchmarks/bench_indexing.py [--articles DIR] [--json]

Indexes the articles of ../shared/eval/squad-v1.1-dev/articles into a fresh embedded store in a
temporary folder and times `model.encode` over the same chunk texts in the same process, once
before and once after the job (the mean is the reference, so load from other processes on a
shared machine hits both sides), then reruns the job on the unchanged input. Prints wall and CPU
time, articles/s, chunks/s, the job's stages, peak RSS and store size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_ARTICLES = REPO.parent / "shared" / "eval" / "squad-v1.1-dev" / "articles"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """Highest resident memory while a block runs (sampled from /proc every 50 ms), in MB."""

    def __enter__(self) -> RssSampler:
        self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss() -> float:
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            return peak_rss_mb()
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def folder_mb(path: Path) -> float:
    """Disk blocks used (Qdrant Edge preallocates its write-ahead log and storage as sparse files)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    if not args.articles.is_dir():
        print(f"articles folder not found: {args.articles}", file=sys.stderr)
        return 2

    from indexing.embedding import Embedder
    from indexing.job import run_index
    from indexing.prepare import prepare_article
    from indexing.settings import load_settings
    from indexing.sources import expand_sources, parse_file, read_bytes

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        settings = load_settings(_env_file=None, qdrant_path=Path(tmp) / "qdrant", articles_dir=args.articles)
        embedder = Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
        embedder.encode(["warm up the model"])
        rss_model = peak_rss_mb()

        # The chunk texts the job will produce, for the raw encoder (prepared outside any timing).
        docs, _, _ = expand_sources([str(args.articles)], settings)
        texts = [
            chunk.text
            for doc in docs
            for article in parse_file(doc, read_bytes(doc, settings.max_file_bytes))[0]
            for chunk in prepare_article(article, settings.chunk_sentences, settings.chunk_overlap).chunks
        ]

        raw_rss = []

        def raw_encode() -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            with RssSampler() as rss:
                embedder.model.encode(texts, batch_size=settings.embedding_batch_size, normalize_embeddings=True)
            raw_rss.append(rss.peak)
            return time.perf_counter() - wall, time.process_time() - cpu

        # raw, job, raw: the machine may be shared, so the job is compared with the mean of the two
        raw_before = raw_encode()
        cpu = time.process_time()
        with RssSampler() as index_rss:
            summary = run_index(settings, embedder=embedder, show_progress_bar=False)
        index_cpu = time.process_time() - cpu
        raw_after = raw_encode()
        store_mb = folder_mb(settings.qdrant_path)
        if not summary.ok or summary.chunks_written != len(texts):
            print(summary.format(), file=sys.stderr)
            return 1
        rerun = run_index(settings, show_progress_bar=False)  # opens the store again, as a new process would
        env = dict(os.environ, QDRANT_PATH=str(settings.qdrant_path), ARTICLES_DIR=str(args.articles))
        started = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "indexing", "--quiet"], cwd=REPO, env=env, capture_output=True)
        rerun_cli_s = time.perf_counter() - started
        if cli.returncode != 0 or f"unchanged {summary.added}".encode() not in cli.stdout:
            print(cli.stdout.decode(), cli.stderr.decode(), file=sys.stderr)

    raw_wall = (raw_before[0] + raw_after[0]) / 2
    raw_cpu = (raw_before[1] + raw_after[1]) / 2
    figures = {
        "articles": summary.added,
        "chunks": summary.chunks_written,
        "index_s": round(summary.seconds, 1),
        "raw_encode_s": round(raw_wall, 1),
        "raw_encode_runs_s": [round(raw_before[0], 1), round(raw_after[0], 1)],
        "ratio_wall": round(summary.seconds / raw_wall, 3),
        "index_cpu_s": round(index_cpu, 1),
        "raw_encode_cpu_s": round(raw_cpu, 1),
        "ratio_cpu": round(index_cpu / raw_cpu, 3),
        "stages_s": {stage: round(seconds, 1) for stage, seconds in summary.stage_seconds.items()},
        "articles_per_s": round(summary.added / summary.seconds, 2),
        "chunks_per_s": round(summary.chunks_written / summary.seconds, 1),
        "raw_chunks_per_s": round(len(texts) / raw_wall, 1),
        "rss_mb_model_loaded": round(rss_model),
        "peak_rss_mb_index": round(index_rss.peak),
        "peak_rss_mb_raw_encode": round(max(raw_rss)),
        "store_mb": round(store_mb, 1),
        "rerun_s": round(rerun.seconds, 2),
        "rerun_unchanged": rerun.unchanged,
        "rerun_cli_s": round(rerun_cli_s, 2),
        "rerun_changed": rerun.added + rerun.updated + rerun.removed,
        "load_average_1min": round(os.getloadavg()[0], 1),
    }

    print(f"{figures['articles']} articles, {figures['chunks']} chunks from {args.articles}")
    print(f"{'':24}{'index job':>12}{'raw encode':>12}{'ratio':>8}")
    print(f"{'wall time (s)':24}{figures['index_s']:>12}{figures['raw_encode_s']:>12}{figures['ratio_wall']:>8}")
    print(f"{'CPU time (s)':24}{figures['index_cpu_s']:>12}{figures['raw_encode_cpu_s']:>12}{figures['ratio_cpu']:>8}")
    print(f"{'chunks/s':24}{figures['chunks_per_s']:>12}{figures['raw_chunks_per_s']:>12}")
    print(f"{'articles/s':24}{figures['articles_per_s']:>12}")
    print(f"raw encode runs before/after the job: {figures['raw_encode_runs_s']} s; target ratio <= 1.15")
    print("job stages (s): " + ", ".join(f"{k} {v}" for k, v in figures["stages_s"].items()))
    print(
        f"peak RSS (MB): {figures['peak_rss_mb_index']} during the job, {figures['peak_rss_mb_raw_encode']} during "
        f"raw encode, {figures['rss_mb_model_loaded']} with the model loaded"
    )
    print(f"store size on disk: {figures['store_mb']} MB")
    print(
        f"rerun on unchanged input: {figures['rerun_s']} s (target < 3 s), "
        f"{figures['rerun_unchanged']} unchanged, {figures['rerun_changed']} changed; "
        f"`python -m indexing` rerun including interpreter start-up: {figures['rerun_cli_s']} s"
    )
    print(f"1-minute load average at the end: {figures['load_average_1min']} on {os.cpu_count()} cores")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
