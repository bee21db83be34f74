"""Load the SQuAD v1.1 dev set as articles and questions, and index it into a store (used by bench_quality)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from indexing.embedding import Embedder
from indexing.models import Article
from indexing.prepare import prepare_article
from indexing.store import Store
from indexing.writer import index_prepared

DEFAULT_EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "squad-v1.1-dev"


def load_articles(root: Path) -> list[Article]:
    """The 48 articles (title on line 1, then paragraphs separated by blank lines), sorted by id."""
    articles = []
    for path in sorted((root / "articles").glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        articles.append(
            Article(
                article_id=path.stem,
                title=title.strip(),
                text=body.strip(),
                url=f"https://en.wikipedia.org/wiki/{title.strip().replace(' ', '_')}",
                source="Wikipedia",
                published="2016-01-01",
                origin=str(path),
            )
        )
    return articles


def load_questions(root: Path) -> list[dict]:
    with (root / "questions.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def index_articles(store: Store, articles: list[Article], embedder: Embedder) -> float:
    """Index every article (skips when the store already holds them all); returns seconds spent."""
    started = time.perf_counter()
    if store.exists() and store.count_articles() == len(articles):
        return 0.0
    prepared = [prepare_article(article) for article in articles]
    for start in range(0, len(prepared), 8):
        index_prepared(store, prepared[start : start + 8], embedder)
        print(f"indexed {min(start + 8, len(prepared))}/{len(prepared)} articles", file=sys.stderr)
    return time.perf_counter() - started
