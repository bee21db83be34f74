"""A sentence that asks the question (a quiz page's, an FAQ heading) is not quoted as its answer, however closely
it matches the question (bot/scoring.py, the `asks` feature)."""

from __future__ import annotations

import pytest
from fixtures.support import one_article_answerer

from bot.scoring import _ASKS

QUIZ = """Test your knowledge of this week's news with our quiz.

Which animal is facing extinction in Wales due to a deadly virus?

Conservationists said red squirrels in Wales could disappear within a decade because squirrelpox, a deadly virus \
carried by grey squirrels, keeps spreading through their last forests.

Volunteers on Anglesey have trapped grey squirrels for twenty years to keep the island free of the virus.
"""


@pytest.fixture(scope="module")
def quiz(tmp_path_factory, embedder):
    """An answerer over one quiz page whose question is also a sentence of the page."""
    from indexing.models import Article

    article = Article(
        article_id="quiz",
        title="News quiz: squirrels, storms and a royal visit",
        text=QUIZ,
        url="https://news.example/quiz",
        source="Example News",
        published="2023-06-02",
        origin="test",
    )
    qa, store = one_article_answerer(tmp_path_factory.mktemp("asks") / "qdrant", embedder, article)
    yield qa, store
    qa.close()
    store.close()


def test_a_sentence_asking_the_question_is_not_its_answer(quiz) -> None:
    qa, store = quiz
    asked = qa.ask("Which animal is facing extinction in Wales due to a deadly virus?")
    assert not asked.abstained and asked.quotes
    first = asked.quotes[0]
    # the answer leads (the question may come along as its context, as on an FAQ page), never the question alone
    assert "red squirrels" in first.text and not first.text.rstrip().endswith("?")
    stored = store.article_record("quiz")["text"]
    assert stored[first.start : first.end] == first.text  # verbatim at its span


def test_a_question_mark_counts_inside_closing_quotes_and_brackets_only_at_the_end() -> None:
    assert _ASKS.search("Which animal is facing extinction?")
    assert _ASKS.search('He asked: "Why now?"') and _ASKS.search("(Who knew?) ")
    assert not _ASKS.search("Why? Because the virus spread.") and not _ASKS.search("It spread.")
