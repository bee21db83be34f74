"""Misspelled question words (bot/spelling.py): a word that is neither English nor used by the collection is read
as its word one edit away, and a declined question suggests that reading when it is answered, never answering it
in place of the question asked."""

from __future__ import annotations

from fixtures.support import shared_index

from bot.pipeline import QuestionAnswerer
from bot.spelling import one_edit, respell, respelled_word, same_case, term_of
from bot.telegram.render import render_answer

WORDS = {"kurilla": 3, "bajwa": 2, "pakistan": 9, "bridge": 7, "bride": 1, "plato": 4, "particle": 2}
DF = {term_of(w): n for w, n in WORDS.items()}


def test_one_edit_holds_each_kind_of_edit_and_not_the_word() -> None:
    edits = one_edit("kurila")
    assert {"kurilla", "kuril", "kuirla", "kurika"} <= edits
    assert "kurila" not in edits
    assert not {"ukrila", "urila", "murila"} & edits  # the first letter is kept
    assert "kurrilla" not in edits  # two edits away


def test_a_word_the_collection_never_uses_is_read_as_its_nearest_word_in_its_case() -> None:
    assert respell("Who did Kurila meet in Pakistn?", DF) == (
        "Who did Kurilla meet in Pakistan?",
        [("Kurila", "Kurilla"), ("Pakistn", "Pakistan")],
    )
    assert respell("What did KURILA say?", DF)[0] == "What did KURILLA say?"
    assert respell("What is Kurila's rank?", DF)[0] == "What is Kurilla's rank?"  # a possessive is still a name
    assert same_case("BAJWA", "bajwa") == "BAJWA" and same_case("bajw", "bajwa") == "bajwa"


def test_english_words_short_words_numbers_and_far_words_stay_as_written() -> None:
    assert respelled_word("bride", DF) is None  # the collection uses it: not a typo of "bridge"
    assert respelled_word("Pluto", DF) is None  # English, though the collection only has Plato: still Pluto
    assert respell("Who is Bajwe?", DF) == ("Who is Bajwe?", [])  # five letters: too many neighbours
    assert respell("What happened in 20188?", DF) == ("What happened in 20188?", [])
    assert respell("Who won the Eurovision contest?", DF) == ("Who won the Eurovision contest?", [])
    assert respell("Bridfe couldn't cross", DF) == ("Bridge couldn't cross", [("Bridfe", "Bridge")])


def test_a_lower_case_word_is_read_only_as_an_english_word() -> None:
    """One edit from "partical" lies "particl", the collection's stem of "particle": a term that is its own stem
    like a name ("kurilla"), but no word to read a lower-case word as."""
    assert respelled_word("partical", {term_of("particle"): 2}) is None
    assert respelled_word("Kurila", DF) == "Kurilla"
    assert respelled_word("kurila", DF) is None  # lower case: not read as a name


def test_ties_go_to_the_more_frequent_word() -> None:
    assert respelled_word("briddge", DF) == "bridge"
    assert respelled_word("brige", DF) == "bridge"  # "bride" and "bridge" are both one edit away: 7 uses beat 1


def test_a_declined_question_with_a_misspelled_name_suggests_the_respelled_one(qa) -> None:
    """Written as "Kurila", the name is in no article and the question is declined, as it must be: the bot cannot
    know it is a typo. Respelled, it is answered, so the decline suggests it."""
    answer = qa.ask("Who did Kurila meet with?")
    assert answer.abstained and not answer.quotes
    assert answer.did_you_mean == "Who did Kurilla meet with?"
    blocks = render_answer(answer)
    assert "Did you mean “Who did Kurilla meet with?”? Ask that to see its answer." in blocks[0]
    again = qa.ask(answer.did_you_mean)
    assert not again.abstained and "met with COAS General Qamar Javed Bajwa" in again.quotes[0].text


def test_no_suggestion_when_answered_or_when_the_respelled_question_is_not_answered_either(qa) -> None:
    answered = qa.ask("Who did Centcom chief Michael Kurilla meet with?")
    assert not answered.abstained and answered.did_you_mean is None
    assert "Did you mean" not in render_answer(answered)[0]
    # "Kurila" respelled, but the articles do not say who won a cup: declined both ways, nothing suggested
    declined = qa.ask("Which football cup did Kurila win?")
    assert declined.abstained and declined.did_you_mean is None


def test_respelling_can_be_turned_off(tmp_path_factory, embedder) -> None:
    settings, store = shared_index(tmp_path_factory, embedder)
    with QuestionAnswerer(settings.model_copy(update={"respell": False}), store, embedder) as off:
        answer = off.ask("Who did Kurila meet with?")
    assert answer.abstained and answer.did_you_mean is None
