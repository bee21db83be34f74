"""Numbered names (bot/numbered.py): a question about "Super Bowl 50" is declined, not answered from coverage of
Super Bowl LVII, and the reply says which name the closest article never mentions."""

from __future__ import annotations

import json

import pytest
from fixtures.support import one_article_answerer

from bot.cli import answer_record, format_answer
from bot.numbered import asked_years, mentions, numbered_names, unmatched
from bot.telegram.inline import _not_found
from bot.telegram.render import render_answer


def test_numbered_names_are_read_as_written_and_dates_lists_and_possessives_are_not() -> None:
    assert numbered_names("What color pants did the Broncos wear in Super Bowl 50?") == ["Super Bowl 50"]
    assert numbered_names("Who won Super Bowl XLIX and Super Bowl XLIX?") == ["Super Bowl XLIX"]
    assert numbered_names("Is the iPhone 14 out, and when did Apollo 11 land?") == ["iPhone 14", "Apollo 11"]
    assert numbered_names("Britain’s King Charles III was diagnosed with what?") == ["King Charles III"]
    for question in (
        "Who opened the building on October 9, 2004?",  # a date
        "When were Luther's 95 Theses translated?",  # a possessive's count
        "Besides 1,3 and 7, what other digit?",  # a list
        "What is Psalm 31:5?",  # a verse
        "What record has Denver 0-4?",  # a score
        "In 2015 who won?",  # a year is a date (bot/dates.py)
        "Did I say so?",
    ):
        assert numbered_names(question) == [], question


def test_a_mention_matches_the_number_in_either_spelling_and_never_another_member() -> None:
    assert mentions("Super Bowl L was played in 2016.", "Super Bowl 50")
    assert mentions("before Superbowl 50.", "Super Bowl 50") and mentions("at Super Bowl 50.", "Superbowl 50")
    assert mentions("World War I began", "World War 1") and mentions("the MHC class I receptor", "MHC Class 1")
    assert mentions("Bolesław II of Masovia", "Boleslaw II")
    assert mentions("allied in World War I", "WW I") and mentions("after WWII ended", "World War 2")
    assert not mentions("World War II", "World War 1")
    assert mentions("Elway's defeats in Super Bowls XXI and XXIV", "Super Bowl XXIV")
    assert mentions("losing in Super Bowl XII, XXII, XXIV, and XLVIII", "Super Bowl XLVIII")
    assert mentions("along Interstate 15 and Interstate 215", "Interstates 15")
    assert mentions("King Charles III’s cancer", "King Charles III")
    assert not mentions("the Apollo 11 mission", "Apollo 1")
    assert not mentions("Super Bowl LVII", "Super Bowl 50") and not mentions("Super Bowl 500", "Super Bowl 50")
    assert unmatched("Who won Super Bowl 50 after Apollo 11?", "Apollo 11 and Super Bowl LVII") == ["Super Bowl 50"]


def test_a_single_year_must_be_in_the_article_or_its_date() -> None:
    assert asked_years("What party won the 2015 UK election?") == ["2015"]
    assert asked_years("Who won on October 9, 2004?") == ["2004"]
    for question in ("What changed from 1995 to 2000?", "Who led in the 1990s?", "Who won the 2015-16 title?"):
        assert asked_years(question) == [], question  # a range, a decade: written in too many ways to check
    assert asked_years("Did 1,950 people or $2000 come?") == []  # amounts, not years
    assert unmatched("Who won the 2015 election?", "The Conservatives won in 2010.") == ["2015"]
    assert unmatched("Who won the 2015 election?", "The Conservatives won.", published="2015-05-08") == []
    assert unmatched("Who won the 2015 election?", "In 2015 the Conservatives won.") == []
    assert unmatched("Who won the 2015 election?", "It cost 20150 pounds.") == ["2015"]


LVII = """The Kansas City Chiefs beat the Philadelphia Eagles 38-35 in Super Bowl LVII in Glendale, Arizona.

The Chiefs wore white uniforms with red pants, red numerals and yellow trim. The Eagles wore green uniforms with \
white pants.

Patrick Mahomes was named the game's most valuable player after throwing three touchdown passes.
"""


@pytest.fixture(scope="module")
def super_bowl(tmp_path_factory, embedder):
    """An answerer over one article about Super Bowl LVII."""
    from indexing.models import Article

    article = Article(
        article_id="lvii",
        title="Chiefs top Eagles in Super Bowl LVII",
        text=LVII,
        url="https://news.example/super-bowl-lvii",
        source="Example News",
        published="2023-02-13",
        origin="test",
    )
    qa, store = one_article_answerer(tmp_path_factory.mktemp("numbered") / "qdrant", embedder, article)
    yield qa
    qa.close()
    store.close()


def test_a_question_about_another_member_of_the_series_is_declined_and_says_why(super_bowl) -> None:
    asked = super_bowl.ask("What color pants did the Chiefs wear in Super Bowl LVII?")
    assert not asked.abstained and not asked.unmatched
    assert "red pants" in asked.quotes[0].text
    # the same question about Super Bowl 50 finds the same sentence, and the article never mentions that game
    other = super_bowl.ask("What color pants did the Chiefs wear in Super Bowl 50?")
    assert other.abstained and not other.quotes
    assert other.unmatched == ["Super Bowl 50"]
    note = "The closest article never mentions “Super Bowl 50”."
    assert note in format_answer(other)
    assert note in "\n".join(render_answer(other))
    assert json.loads(json.dumps(answer_record("1", other.question, other)))["unmatched"] == ["Super Bowl 50"]
    # a year works the same way: the article (published in 2023) never mentions 2019
    earlier = super_bowl.ask("Who did the Chiefs beat in the 2019 Super Bowl?")
    assert earlier.abstained and earlier.unmatched == ["2019"]
    assert "No indexed article mentions “2019”." in format_answer(earlier)  # said once, the stronger way
    assert "The closest article never mentions “2019”." not in format_answer(earlier)
    assert not super_bowl.ask("Who did the Chiefs beat in the 2023 Super Bowl?").unmatched  # its published year
    assert _not_found(other.absent, other.unmatched) == "Not found — no answer about “Super Bowl 50”"  # inline mode
    assert any(ref.article_id == "lvii" for ref in other.closest)  # the decline still names the closest article


def test_a_later_quote_from_an_article_about_another_member_is_not_shown() -> None:
    """Quotes 2-3 and "More quotes" come from articles that mention the numbered name too: a Super Bowl 50 answer
    is not followed by a sentence about Super Bowl LVII, however well it scores."""
    from bot.components.composer import AnswerComposer
    from bot.types import Quote

    def quote(text: str, article_id: str, score: float) -> Quote:
        return Quote(text, article_id, f"Article {article_id}", None, None, None, 0, len(text), score)

    first = quote("The Broncos wore white jerseys with white pants.", "sb50", 20.0)
    same = quote("Denver beat Carolina 24-10.", "sb50", 19.5)
    other = quote("The Chiefs wore white uniforms with red pants.", "lvii", 19.8)
    articles = {"sb50": "Super Bowl 50 was played in 2016. " + first.text + " " + same.text, "lvii": LVII}
    composer = AnswerComposer(abstain_threshold=0.0)
    question = "What color pants did the Broncos wear in Super Bowl 50?"
    answer = composer.run(question, [first, other, same], [], 1.0, [], articles=articles)["answer"]
    assert not answer.abstained and answer.quotes == [first, same]
    # the same quotes for a question without a numbered name are all kept
    plain = composer.run("What color pants did they wear?", [first, other, same], [], 1.0, [], articles=articles)
    assert plain["answer"].quotes == [first, other, same]
