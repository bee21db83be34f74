"""News questions to train on that the news dev set never sees: the RealTime QA questions (2023 on) that
build_news_dev.py did not sample, minus any that share a page or a wording with the dev set.

Build every answerable question once, in a temp folder (the texts are third-party news: never commit them):

    python3 ../shared/eval/news-dev/build_news_dev.py <snapshot git dir> /tmp/news-all --questions 5000

`ranked_sentences` then gives, per clean question, the sentences of its own pages that hold the answer (as
written first) and those that do not, each with the most question terms first. `training_groups` makes the
listwise groups train_reranker.py reads from them (the best answer sentence against six close sentences without
it and two at random); train_answer_pointer.py reads the best one as an answer span and the two closest without
the answer as no-answer examples. The year 2022 is never read (the dev script skips it).
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
from bench_quality import contains_answer

from bot.lexicon import canon
from indexing.prepare import prepare_article
from indexing.sparse import tokenize

DEFAULT_ALL = Path("/tmp/news-all")


def clean_questions(all_dir: Path, dev_dir: Path) -> list[dict]:
    """The questions of `all_dir` the dev set cannot have seen: not sampled, not worded alike, no shared page."""
    dev = news_data.load_questions(dev_dir)
    dev_ids = {q["id"] for q in dev}
    dev_text = {q["question"].strip().lower() for q in dev}
    with (dev_dir / "articles.jsonl").open(encoding="utf-8") as handle:
        dev_pages = {json.loads(line)["id"] for line in handle if line.strip()}
    return [
        q
        for q in news_data.load_questions(all_dir)
        if q["id"] not in dev_ids
        and q["question"].strip().lower() not in dev_text
        and not set(q["article_ids"]) & dev_pages
    ]


def ranked_sentences(
    all_dir: Path = DEFAULT_ALL, dev_dir: Path = news_data.DEFAULT_NEWS, rng: random.Random | None = None
) -> Iterator[tuple[dict, list[str], list[str]]]:
    """Per clean question: the sentences of its pages that hold the answer (as written first, since "SAVE" also
    matches "save for college"; then the most question terms first) and those that do not (most question terms
    first). `rng` breaks ties; the caller may draw from it between questions."""
    questions = clean_questions(all_dir, dev_dir)
    wanted = {aid for q in questions for aid in q["article_ids"]}
    sentences: dict[str, list[str]] = {}
    for article in news_data.load_articles(all_dir) if wanted else []:
        if article.article_id in wanted:
            prepared = prepare_article(article)
            sentences[article.article_id] = [s.slice(prepared.article.text) for s in prepared.sentences]
    rng = rng or random.Random(7)
    for q in questions:
        pool = list(dict.fromkeys(s for aid in q["article_ids"] for s in sentences.get(aid, [])))
        terms = {canon(t) for t in tokenize(q["question"])}

        def shared(text: str, terms: set[str] = terms) -> float:
            return len(terms & {canon(t) for t in tokenize(text)}) + rng.random() * 0.1

        exact = [re.compile(rf"(?<!\w){re.escape(a)}(?!\w)") for a in q["answers"] if a.strip()]

        def answering(text: str, exact: list[re.Pattern] = exact) -> tuple[bool, float]:
            return any(p.search(text) for p in exact), shared(text)

        positives = sorted((s for s in pool if contains_answer(s, q["answers"])), key=answering, reverse=True)
        negatives = sorted((s for s in pool if not contains_answer(s, q["answers"])), key=shared, reverse=True)
        yield q, positives, negatives


def training_groups(
    all_dir: Path = DEFAULT_ALL, dev_dir: Path = news_data.DEFAULT_NEWS, hard: int = 6, easy: int = 2, seed: int = 7
) -> list[dict]:
    """(question, best answer sentence, `hard` + `easy` negatives) for every clean question with both."""
    rng = random.Random(seed)
    groups = []
    for q, positives, negatives in ranked_sentences(all_dir, dev_dir, rng):
        if not positives or len(negatives) < hard:
            continue
        extra = rng.sample(negatives[hard:], min(easy, len(negatives[hard:])))
        groups.append({"question": q["question"], "texts": [positives[0], *negatives[:hard], *extra]})
    rng.shuffle(groups)
    return groups


if __name__ == "__main__":
    built = training_groups()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ALL / "groups.json"
    out.write_text(json.dumps(built, ensure_ascii=False))
    print(f"{len(built)} news training groups in {out}; first: {json.dumps(built[0], ensure_ascii=False)[:400]}")
