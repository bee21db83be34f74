"""Pure scoring helpers: the signals the sentence ranking is built from."""

from __future__ import annotations

import numpy as np

from bot.scoring import (
    FEATURES,
    WEIGHTS,
    SentenceCandidate,
    _window_cos,
    chunk_bm25,
    longest_run,
    question_type,
)
from bot.types import Quote
from indexing.cleaning import DROPPED_LINE_MARK


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


def test_window_cosine_sums_each_sentence_with_its_retrieved_neighbours_only():
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((4, 8)).astype(np.float32)
    question = rng.standard_normal(8).astype(np.float32)
    prevs, nexts = [None, 0, None, 2], [1, None, 3, None]  # rows 1 and 2 are not neighbours of each other
    got = _window_cos(matrix, question, prevs, nexts)
    for row in range(4):
        window = matrix[row] + sum(matrix[n] for n in (prevs[row], nexts[row]) if n is not None)
        assert abs(got[row] - float(window @ question) / float(np.linalg.norm(window))) < 1e-6
    zero = _window_cos(np.zeros((1, 8), dtype=np.float32), question, [None], [None])
    assert zero.tolist() == [0.0]  # a zero vector has cosine 0, not NaN


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
    from indexing.cleaning import DROPPED_LINE_MARK, clean_text

    a = "The glacier lost about 40 metres of its front every year, the team said."
    b = "Researchers measured how fast the Kaldbreen glacier in Svalbard is retreating."
    stored, _ = clean_text(f"{a}\nRELATED: Glaciers are melting faster, scientists say\n{b}")
    dropped_gap = stored[len(a) : stored.index(b)]
    assert dropped_gap == DROPPED_LINE_MARK
    for gap, joined in ((" ", True), ("\n", True), (dropped_gap, False)):
        first, second = _scored(a, 0, 3.0, gap=gap), _scored(b, len(a) + len(gap), 2.9)
        _link(first, second)
        drafts = QuoteSelector({}).select([first, second], 2, question="How fast is the glacier retreating?")
        assert (drafts[0].quote.text == a + gap + b) is joined, drafts[0].quote.text
        assert DROPPED_LINE_MARK not in drafts[0].quote.text


def test_a_sentence_opening_on_a_pronoun_is_quoted_with_the_sentence_naming_its_subject():
    """ "It became the first film to sweep…" alone does not say which film: the sentence before comes along
    (when adjacent), even though it scores far lower; a sentence that does not open on a pronoun stays alone."""
    from bot.components.quote_selector import QuoteSelector

    a = "Everything Everywhere All at Once won best picture at the Academy Awards on Sunday night."
    b = "It became the first film to sweep the five major categories of picture, actor, actress and director."
    question = "Which film swept several major categories at the Oscars?"
    for opening, gap, joined in (("", " ", True), ("", DROPPED_LINE_MARK, False), ("The winner then ", " ", False)):
        text = b if not opening else opening + b[3:]
        first, second = _scored(a, 0, -4.0, gap=gap), _scored(text, len(a) + len(gap), 6.0)
        _link(first, second)
        quote = QuoteSelector({}).select([second, first], 1, question=question)[0].quote
        assert (quote.text == a + gap + text) is joined, quote.text
        assert quote.text.endswith(text)


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


def _quote(text: str, start: int, score: float, article_id: str = "a") -> Quote:
    return Quote(text, article_id, "T", None, None, None, start, start + len(text), score)


def test_the_first_quotes_neighbour_clears_a_wider_floor_and_moves_up():
    """When the first quote restates the question ("This led to protests…"), the sentence beside it often holds
    the answer yet scores more than the floor below it. It is the first quote's context, not an unrelated
    sentence: it gets the wider neighbour floor, and moves up into the first three when a quote before it is
    cut. Unrelated weak quotes are still cut."""
    from bot.components.composer import AnswerComposer
    from bot.scoring import DEFAULT_NEIGHBOUR_FLOOR, DEFAULT_QUOTE_FLOOR

    first = _quote("This led to protests and open discrediting of the commission.", 100, 30.0)
    weak = [_quote(f"An unrelated sentence number {i}.", 500 + 50 * i, 30.0 - DEFAULT_QUOTE_FLOOR - 1) for i in (1, 2)]
    beside = _quote("The commission kept counting the votes.", 60, 30.0 - DEFAULT_NEIGHBOUR_FLOOR + 0.5)
    far = _quote("Votes from the stronghold arrived later.", 300, 30.0 - DEFAULT_NEIGHBOUR_FLOOR - 0.5)
    composer = AnswerComposer(abstain_threshold=0.0)
    answer = composer.run(
        "What led to protests?",
        quotes=[first, *weak],
        more_quotes=[beside, far],
        confidence=1.0,
        closest=[],
        adjacent=[False, False, False, True, False],
    )["answer"]
    assert answer.quotes == [first, beside] and answer.more_quotes == []
    without = composer.run("What led to protests?", [first, *weak], [beside], 1.0, [])["answer"]
    assert without.quotes == [first] and without.more_quotes == []


def test_weak_evidence_is_answered_tentatively_between_the_two_thresholds():
    """Under the abstain threshold the bot declines; between it and the tentative threshold it shows the quotes as
    the closest passages (`tentative`); above, as an answer. The defaults are ordered that way."""
    from bot.components.composer import AnswerComposer
    from bot.scoring import DEFAULT_ABSTAIN_THRESHOLD, DEFAULT_TENTATIVE_THRESHOLD

    assert 0 < DEFAULT_ABSTAIN_THRESHOLD < DEFAULT_TENTATIVE_THRESHOLD < 1
    first = _quote("The bridge reopened on Tuesday after repairs.", 0, 10.0)
    composer = AnswerComposer()
    middle = (DEFAULT_ABSTAIN_THRESHOLD + DEFAULT_TENTATIVE_THRESHOLD) / 2
    for confidence, abstained, tentative in ((0.01, True, False), (middle, False, True), (0.9, False, False)):
        answer = composer.run("When did the bridge reopen?", [first], [], confidence, [])["answer"]
        assert (answer.abstained, answer.tentative) == (abstained, tentative), confidence
    assert AnswerComposer(tentative_threshold=0.0).run("q", [first], [], middle, [])["answer"].tentative is False


def test_an_answer_from_before_the_time_asked_about_is_tentative_and_says_why():
    """ "This week" answered from a two-month-old article: shown, but flagged as dated, however confident."""
    from bot.components.composer import AnswerComposer
    from bot.dates import question_dates

    question = "Which bridge reopened this week?"
    dates = question_dates(question, "2023-03-12")
    for published, dated in (("2023-01-10", True), ("2023-03-10", False), (None, False)):
        first = _quote("The harbour bridge reopened on Tuesday after repairs.", 0, 10.0)
        first.published = published
        answer = AnswerComposer().run(question, [first], [], 0.9, [], dates=dates)["answer"]
        assert (answer.dated, answer.tentative) == (dated, dated), published


def test_next_to_means_side_by_side_with_no_dropped_line_between():
    from bot.components.quote_verifier import next_to
    from indexing.cleaning import DROPPED_LINE_MARK

    a, b, c = "The bridge reopened.", "Repairs cost 48 million dollars.", "Traffic resumed."
    text = a + " " + b + DROPPED_LINE_MARK + c + "\n" + a
    texts = {"x": text, "y": text}
    qa, qb = _quote(a, 0, 1.0, "x"), _quote(b, len(a) + 1, 1.0, "x")
    qc = _quote(c, text.index(c), 1.0, "x")
    qa2 = _quote(a, text.rindex(a), 1.0, "x")
    assert next_to(texts, qa, qb) and next_to(texts, qb, qa)
    assert next_to(texts, qc, qa2)  # consecutive lines
    assert not next_to(texts, qb, qc)  # a line was dropped between them
    assert not next_to(texts, qa, qc) and not next_to(texts, qa, qa)
    assert not next_to(texts, qa, _quote(b, len(a) + 1, 1.0, "y"))  # another article
