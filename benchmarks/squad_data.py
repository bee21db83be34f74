"""Load the SQuAD v1.1 dev set as articles and questions, and index a collection into a store (benchmarks)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from indexing.embedding import Embedder
from indexing.models import Article
from indexing.prepare import EmptyArticleError, prepare_article
from indexing.store import Store
from indexing.writer import embed_articles, write_batch


def _shared() -> Path:
    """`shared/` beside the checkout (the main clone at /work/main, or a worktree at /work/wt/<name>)."""
    here = Path(__file__).resolve().parent.parent
    for base in (here.parent, here.parent.parent):
        if (base / "shared" / "eval").is_dir():
            return base / "shared"
    return here.parent / "shared"


DEFAULT_EVAL = _shared() / "eval" / "squad-v1.1-dev"


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


def index_articles(store: Store, articles: list[Article], embedder: Embedder, batch: int = 24) -> float:
    """Index the articles the store does not hold yet (so an interrupted build resumes); returns seconds spent.

    Writes in batches (`write_batch`: one stale-chunk delete per batch, which the embedded store runs as a
    scan over every point).
    """
    started = time.perf_counter()
    store.ensure(embedder.name, embedder.dimension)
    have = {(r.payload or {}).get("article_id") for r in store.article_records()}
    todo = [a for a in articles if a.article_id not in have]
    if not todo:
        return 0.0
    for start in range(0, len(todo), batch):
        prepared = []
        for article in todo[start : start + batch]:
            try:
                prepared.append(prepare_article(article))
            except EmptyArticleError:
                print(f"skipped {article.article_id}: empty after cleaning", file=sys.stderr)
        write_batch(store, prepared, embed_articles(prepared, embedder))
        print(f"indexed {min(start + batch, len(todo))}/{len(todo)} articles", file=sys.stderr, flush=True)
    return time.perf_counter() - started
