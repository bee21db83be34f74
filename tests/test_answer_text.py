"""The lead and the shown window: contiguous verbatim excerpts of a quote, cut only where that is safe."""

from __future__ import annotations

import pytest

from bot.answer_text import clauses, extractive_answer, is_contentless, lead_span, window_span


def test_lead_is_a_verbatim_excerpt_holding_the_answer():
    quote = (
        "After a long evening in the old town hall, delayed twice by the storm, and with the public gallery "
        "full, councillors voted 27 to 4 in favour of the library budget plan."
    )
    lead = extractive_answer("How many councillors voted for the library budget plan?", quote)
    assert lead in quote and "27 to 4" in lead and len(lead) < len(quote)
    assert lead == lead.strip(" ,;:") or lead.endswith(".")


def test_lead_never_recapitalises_or_adds_punctuation():
    quote = "prices rose sharply in 2022, and the central bank raised rates four times to curb inflation"
    lead = extractive_answer("How many times did the central bank raise rates to curb inflation?", quote)
    assert lead in quote and not lead.endswith(".") and lead[0].islower()


def test_lead_does_not_cut_a_date():
    quote = "Hulu has offered full-length episodes of ABC's programming since July 6, 2009, as part of a deal."
    assert all("July 6" not in quote[a:b] or "2009" in quote[a:b] for a, b in clauses(quote, 0, len(quote)))


def test_lead_keeps_the_whole_sentence_when_no_clause_stands_out():
    quote = "The program was named after the Greek god of light, music, and poetry by Abe Silverstein."
    assert extractive_answer("Who named the program?", quote) == quote


def test_lead_does_not_cut_inside_brackets_or_quotation_marks():
    quote = "He said “we will rebuild; it will take years” before leaving the harbour in 2021."
    assert clauses(quote, 0, len(quote)) == [(0, len(quote))]


def test_lead_picks_the_chosen_sentence_of_a_two_sentence_quote():
    text = "The bridge closed in April. Chief engineer Marta Lindqvist said the cables were replaced."
    sentences = [(0, 27), (28, len(text))]
    assert text[slice(*lead_span("Who is the chief engineer?", text, sentences, 1))].startswith("Chief engineer")


def test_window_of_a_long_sentence_holds_the_question_terms_and_the_lead():
    filler = " ".join(f"word{i}" for i in range(80))
    text = f"{filler} the glacier lost 40 metres of ice every year {filler}"
    window = window_span("How much ice did the glacier lose?", text)
    assert window is not None
    shown = text[window[0] : window[1]]
    assert "glacier lost 40 metres of ice" in shown and len(shown.split()) <= 42
    assert text[window[0] - 1] == " " and text[window[1]] == " "  # whole words only
    assert window_span("Anything?", "A short sentence.") is None


def test_window_does_not_split_a_name():
    words = ["x"] * 70
    words[30:33] = ["Marta", "Lindqvist", "said"]
    text = " ".join(words)
    window = window_span("What did Lindqvist say?", text, words=5)
    assert "Marta Lindqvist" in text[window[0] : window[1]]


@pytest.mark.parametrize("text", ["?", "🙂", "tell me more", "Tell me more, please!", "hi", "ok thanks", "..."])
def test_contentless_messages(text):
    assert is_contentless(text)


@pytest.mark.parametrize("text", ["Who won?", "bridge", "What did Marta say?", "2021"])
def test_messages_with_content(text):
    assert not is_contentless(text)
