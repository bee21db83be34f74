"""The question's words no article uses (bot/absent.py): named on declines and flagged answers, names and numbers
on answers, and every word named is in no stored article text (the note is the bot's claim about the articles,
so it is checked against them like a quote)."""

from __future__ import annotations

import json

from bot.absent import absent_line, absent_words, fold
from bot.cli import answer_record, format_answer
from bot.pipeline import QuestionAnswerer
from bot.spelling import term_of
from bot.telegram.render import render_answer
from indexing.sparse import tokenize

WORDS = {"kurilla": 3, "centcom": 2, "chief": 4, "meet": 2, "golden": 1, "bridge": 1, "bajwa": 1, "trip": 1}
DF = {term_of(w): n for w, n in WORDS.items()}


def test_words_no_article_uses_as_written_names_and_numbers_first() -> None:
    assert absent_words("Who did the Centcom chief meet in Karachi?", DF) == ["Karachi"]
    assert absent_words("Who did the Centcom chief meet?", DF) == []
    # names and numbers come before common words; at most three
    assert absent_words("What boiling point did Kurilla's trip to Lahore reach in 2021?", DF) == [
        "Lahore",
        "2021",
        "boiling",
    ]
    assert absent_line(["Lahore", "2021", "boiling"]) == "No indexed article mentions “Lahore”, “2021” or “boiling”."
    assert absent_line(["Karachi"]) == "No indexed article mentions “Karachi”."
    assert absent_line([]) is None


def test_a_name_is_named_whole_and_contractions_and_lists_are_not_words() -> None:
    # "gate" is in no article, so no article holds the bridge's name: the phrase is named, not its one word
    assert absent_words("When was the Golden Gate Bridge opened?", DF, names_only=True) == ["Golden Gate Bridge"]
    assert absent_words("Why didn't Kurilla meet Bajwa?", DF) == []  # "didn" is no word
    assert absent_words("If a=3,6 or 9, did Kurilla meet?", DF) == []  # "3,6" is no number to name
    assert absent_words("Did Kurilla meet 1,500 people?", DF, names_only=True) == ["1,500"]
    # only names and numbers on an answer: "personalised" where the articles write "personalized" is no news
    assert absent_words("Did Kurilla's personalised trip reach Lahore?", DF, names_only=True) == ["Lahore"]
    assert absent_words("Karachi: did Kurilla meet?", DF, names_only=True) == []  # a first word is not a name


def test_a_word_typed_without_diacritics_or_a_names_adjective_counts_as_used() -> None:
    df = DF | {term_of(w): 1 for w in ("gospić", "mongolia", "california", "paris", "canada")}
    folded = {fold(t) for t in df if not t.isascii()}
    assert fold("gospić") == "gospic" and "gospic" in folded
    assert fold("bolesław") == "boleslaw"  # a letter with no combining mark to strip
    assert absent_words("When did Kurilla meet in Gospic?", df, folded=folded) == []
    assert absent_words("When did Kurilla meet in Gospic?", df) == ["Gospic"]  # without the folded terms
    for adjective in ("Mongolian", "Californian", "Parisian", "Canadian"):
        assert absent_words(f"Did Kurilla meet the {adjective} chief?", df, folded=folded) == [], adjective
    assert absent_words("Did Kurilla meet the Texan chief?", df, folded=folded) == ["Texan"]


def stored_terms(qa: QuestionAnswerer) -> set[str]:
    """Every indexed term of every stored article's text and title."""
    records = [r.payload or {} for r in qa.store.article_records(with_text=True)]
    assert records and all(isinstance(p.get("text"), str) for p in records)
    words = " ".join(f"{p.get('title') or ''} {p['text']}" for p in records)
    return {term_of(t) for t in tokenize(words)}


def test_an_answer_to_a_question_about_a_place_no_article_names_says_so(qa) -> None:
    """The articles say whom the Centcom chief met, not that it was in Karachi: the answer quotes the meeting and
    says under it that no article mentions Karachi, in the terminal, in Telegram and in JSON."""
    answer = qa.ask("Who did the Centcom chief meet in Karachi?")
    assert not answer.abstained and not answer.tentative
    assert "Bajwa" in " ".join(q.text for q in answer.quotes)
    assert answer.absent == ["Karachi"]
    assert format_answer(answer).endswith("No indexed article mentions “Karachi”.")
    assert "<i>No indexed article mentions “Karachi”.</i>" in "".join(render_answer(answer))
    assert json.loads(json.dumps(answer_record(1, "q", answer)))["absent"] == ["Karachi"]
    assert qa.ask("Who did the Centcom chief meet?").absent == []


def test_a_decline_names_the_words_no_article_uses_and_each_is_in_no_stored_text(qa) -> None:
    answer = qa.ask("What is the boiling point of ethanol?")
    assert answer.abstained and "ethanol" in answer.absent
    shown = format_answer(answer).splitlines()
    assert shown[1].startswith("No indexed article mentions") and "“ethanol”" in shown[1]
    assert "No indexed article mentions" in render_answer(answer)[0]
    terms = stored_terms(qa)
    for question in ("What is the boiling point of ethanol?", "Who did Kurila meet?", "Who won the 2018 World Cup?"):
        named = qa.ask(question).absent
        assert named, question
        for phrase in named:  # a phrase is absent when one of its words is
            assert any(term_of(t) not in terms for t in tokenize(phrase)), phrase
