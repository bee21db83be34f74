"""Pure scoring helpers: the signals the sentence ranking is built from."""

from __future__ import annotations

import numpy as np

from bot.scoring import FEATURES, WEIGHTS, SentenceCandidate, chunk_bm25, longest_run, question_type


def candidate(text: str, chunks: tuple[int, ...], start: int = 0) -> SentenceCandidate:
    return SentenceCandidate(
        article_id="a",
        start=start,
        end=start + len(text),
        text=text,
        prev_start=None,
        next_start=None,
        gap_after=None,
        title="T",
        url=None,
        source=None,
        published=None,
        content_hash="h",
        vector=np.zeros(3, dtype=np.float32),
        chunks=chunks,
    )


def test_longest_run_counts_consecutive_terms_in_order():
    assert longest_run(["glacier", "lost", "ice"], ["the", "glacier", "lost", "ice", "fast"]) == 3
    assert longest_run(["ice", "lost", "glacier"], ["glacier", "lost", "ice"]) == 1
    assert longest_run(["a"], []) == 0


def test_chunk_bm25_scores_every_sentence_by_its_best_chunk():
    terms = [["glacier", "melt"], ["seal", "fjord"], ["bridge", "cost"]]
    cands = [candidate("x", (0,)), candidate("y", (0, 1), start=10), candidate("z", (1,), start=20)]
    scores = chunk_bm25(cands, terms, {"glacier": 2.0, "melt": 1.0})
    # chunk 0 holds the question's terms; the sentence shared by both chunks takes the better one
    assert scores[0] == scores[1] == 1.0
    assert scores[2] == 0.0


def test_question_types():
    assert question_type("How many books did the library lend?") == "number"
    assert question_type("When did McKenzie visit Islamabad?") == "date"
    assert question_type("Who is the chief engineer?") == "person"
    assert question_type("Where was the Manned Spacecraft Center located?") == "place"
    assert question_type("Why is the glacier melting?") is None


def test_every_feature_has_a_weight():
    assert set(FEATURES) == set(WEIGHTS)
    assert all(np.isfinite(list(WEIGHTS.values())))


def _scored(text: str, start: int, score: float, gap: str | None = " ", **features) -> SentenceCandidate:
    c = candidate(text, (0,), start=start)
    c.score, c.features = score, {"type_miss": 0.0, "type_match": 0.0, **features}
    c.gap_after = gap
    return c


def _link(first: SentenceCandidate, second: SentenceCandidate) -> None:
    first.next_start, second.prev_start = second.start, first.start


def test_two_sentences_are_never_quoted_together_across_a_dropped_line():
    """The indexer drops boilerplate lines ("RELATED: …") and leaves a blank line where one stood between two
    kept lines: sentences on either side were not next to each other in the page, so never joined into one
    quote. Sentences on consecutive lines were, and may be."""
    from bot.components.quote_selector import QuoteSelector
    from indexing.cleaning import DROPPED_LINE_MARK

    a = "The glacier lost about 40 metres of its front every year, the team said."
    b = "Researchers measured how fast the Kaldbreen glacier in Svalbard is retreating."
    for gap, joined in ((" ", True), ("\n", True), (DROPPED_LINE_MARK, False)):
        first, second = _scored(a, 0, 3.0, gap=gap), _scored(b, len(a) + len(gap), 2.9)
        _link(first, second)
        drafts = QuoteSelector({}).select([first, second], 2, question="How fast is the glacier retreating?")
        assert (drafts[0].quote.text == a + gap + b) is joined, drafts[0].quote.text
        assert DROPPED_LINE_MARK not in drafts[0].quote.text


def test_draft_lead_and_window_are_verbatim_slices():
    from bot.components.quote_selector import QuoteSelector

    filler = " ".join(f"padding{i}" for i in range(70))
    long = (
        f"Officials said on Monday that {filler} the harbour bridge reopened after repairs costing 48 million dollars."
    )
    c = _scored(long, 0, 5.0)
    draft = QuoteSelector({}).select([c], 1, question="How much did the harbour bridge repairs cost?")[0]
    text, (ls, le), (ws, we) = draft.quote.text, draft.lead, draft.quote.window
    assert text == long and ws <= ls < le <= we
    assert "48 million dollars" in text[ws:we] and len(text[ws:we].split()) <= 45


def test_length_never_earns_a_bonus():
    assert WEIGHTS.get("long", 0.0) <= 0.0
