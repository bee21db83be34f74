"""Load the news dev set (built locally from the RealTime QA snapshot, see ../shared/eval/news-dev/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from indexing.models import Article
from indexing.readers import jsonl_articles

DEFAULT_NEWS = Path("/tmp/news-dev")


def load_articles(root: Path) -> list[Article]:
    """The collection, read the way `python -m indexing articles.jsonl` reads it."""
    path = root / "articles.jsonl"
    articles, problems = jsonl_articles(path.read_text(encoding="utf-8"), str(path), "news")
    if problems:
        raise SystemExit(f"{path}: {problems[:3]}")
    return sorted(articles, key=lambda a: a.article_id)


def load_questions(root: Path) -> list[dict]:
    """Questions with `answers`, `article_ids` (the pages found for them) and `question_date` (YYYY/MM/DD)."""
    with (root / "questions.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    for row in rows:
        row["question_date"] = (row.get("question_date") or "").replace("/", "-") or None
    return rows
