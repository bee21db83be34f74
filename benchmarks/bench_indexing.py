"""Indexing speed: the full job against the raw encoder alone, on the 48 SQuAD v1.1 dev articles.

    python benchmarks/bench_indexing.py [--articles DIR] [--json]

Indexes the articles of ../shared/eval/squad-v1.1-dev/articles into a fresh embedded store in a
temporary folder, then times `model.encode` over the same chunk texts in the same process, then
reruns the job on the unchanged input. Prints articles/s, chunks/s, peak RSS and store size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_ARTICLES = REPO.parent / "shared" / "eval" / "squad-v1.1-dev" / "articles"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


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
    from indexing.settings import load_settings
    from indexing.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        settings = load_settings(_env_file=None, qdrant_path=Path(tmp) / "qdrant", articles_dir=args.articles)
        embedder = Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
        embedder.encode(["warm up the model"])
        rss_model = peak_rss_mb()

        summary = run_index(settings, embedder=embedder, show_progress_bar=False)
        index_s = summary.seconds
        rss_index = peak_rss_mb()
        store_mb = folder_mb(settings.qdrant_path)
        if not summary.ok:
            print(summary.format(), file=sys.stderr)
            return 1

        store = Store.open(settings)
        try:
            texts = [
                point.payload["text"]
                for point in store.client.scroll(store.collection, limit=100_000, with_payload=["text"])[0]
            ]
        finally:
            store.close()
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=settings.embedding_batch_size, normalize_embeddings=True)
        encode_s = time.perf_counter() - started

        rerun = run_index(settings, embedder=None, show_progress_bar=False)
        figures = {
            "articles": summary.added,
            "chunks": summary.chunks_written,
            "index_s": round(index_s, 2),
            "raw_encode_chunks_s": round(encode_s, 2),
            "ratio": round(index_s / encode_s, 3),
            "articles_per_s": round(summary.added / index_s, 2),
            "chunks_per_s": round(summary.chunks_written / index_s, 1),
            "raw_chunks_per_s": round(len(texts) / encode_s, 1),
            "peak_rss_mb_model_loaded": round(rss_model),
            "peak_rss_mb_after_index": round(rss_index),
            "store_mb": round(store_mb, 1),
            "rerun_s": round(rerun.seconds, 2),
            "rerun_unchanged": rerun.unchanged,
            "rerun_changed": rerun.added + rerun.updated + rerun.removed,
        }

    print(f"articles: {figures['articles']} from {args.articles}")
    print(f"{'':28}{'index job':>12}{'raw encode':>12}")
    print(f"{'wall time (s)':28}{figures['index_s']:>12}{figures['raw_encode_chunks_s']:>12}")
    print(f"{'chunks/s':28}{figures['chunks_per_s']:>12}{figures['raw_chunks_per_s']:>12}")
    print(f"{'articles/s':28}{figures['articles_per_s']:>12}")
    print(f"ratio index/raw encode: {figures['ratio']} (target <= 1.15)")
    print(
        f"peak RSS: {figures['peak_rss_mb_model_loaded']} MB with the model, {figures['peak_rss_mb_after_index']} MB after indexing"
    )
    print(f"store size on disk: {figures['store_mb']} MB")
    print(
        f"rerun on unchanged input: {figures['rerun_s']} s (target < 3 s), "
        f"{figures['rerun_unchanged']} unchanged, {figures['rerun_changed']} changed"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
