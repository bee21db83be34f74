"""Unicode hygiene end to end: decomposed and composed spellings ("Zu\u0308rich", "Zürich") are one word,
in articles (cleaning) and in questions (QuestionAnswerer.validate_text)."""

from __future__ import annotations

import unicodedata

from bot.pipeline import QuestionAnswerer
from indexing.cleaning import clean_text
from indexing.job import run_index

DECOMPOSED = "Zu\u0308rich"
COMPOSED = "Z\u00fcrich"


def test_questions_and_articles_are_nfc():
    assert DECOMPOSED != COMPOSED and unicodedata.normalize("NFC", DECOMPOSED) == COMPOSED
    assert QuestionAnswerer.validate_text(f"Where is {DECOMPOSED}?", 100) == f"Where is {COMPOSED}?"
    assert clean_text(f"The {DECOMPOSED} tram.")[0] == f"The {COMPOSED} tram."


def test_decomposed_and_composed_spellings_match_end_to_end(make_settings, embedder):
    settings = make_settings()
    settings.articles_dir.mkdir(parents=True)
    (settings.articles_dir / "tram.txt").write_text(
        f"Tram strike\n\nThe Oerlikon tram depot in {DECOMPOSED} closed on Monday after a strike by drivers. "
        "The depot handles forty trams.\n",
        encoding="utf-8",
    )
    (settings.articles_dir / "ferry.txt").write_text(
        "Ferry line\n\nThe Kastrup ferry line to Malmo reopened on Friday. It carries 900 cars a day.\n",
        encoding="utf-8",
    )
    assert run_index(settings, embedder=embedder, show_progress_bar=False).added == 2
    with QuestionAnswerer(settings, embedder=embedder) as qa:
        stored = next(
            r.payload["text"] for r in qa.store.article_records(with_text=True) if r.payload["article_id"] == "tram"
        )
        assert COMPOSED in stored and DECOMPOSED not in stored
        answers = [qa.ask(f"Which depot in {spelling} closed?") for spelling in (DECOMPOSED, COMPOSED)]
    for answer in answers:
        assert not answer.abstained and COMPOSED in answer.quotes[0].text
    assert [q.text for q in answers[0].quotes] == [q.text for q in answers[1].quotes]
    assert answers[0].question == answers[1].question
