"""Quotes 2-3 weigh the answer pointer's reads (QuoteSelector `later_point_k`, opt-in): a sentence where the reader
finds the answer comes before one that only restates the topic, the first quote never moves, and sentences past
the quote floor are never read."""

from __future__ import annotations

import numpy as np
from fixtures.support import shared_index

from bot.components.quote_selector import QuoteSelector
from bot.pipeline import QuestionAnswerer
from bot.pointer import BUNDLED, AnswerPointer, RememberedReads, load_pointer
from bot.scoring import SentenceCandidate

QUESTION = "How much did the repairs to the harbour bridge cost?"
FIRST = "The harbour bridge reopened in March 2021 after long repairs to its deck."
TOPIC = "Repairs to harbour bridges are costly."
ANSWER = "The repairs cost 40 million dollars, the city said."
FAR = "The ferry service was withdrawn."


class Counting:
    """The bundled pointer, recording every batch it is asked to read."""

    def __init__(self, inner: AnswerPointer) -> None:
        self.inner = inner
        self.batches: list[list[str]] = []

    def distributions(self, question: str, quotes: list[str], parts: int = 1, first: int | None = None) -> list:
        self.batches.append(list(quotes))
        return self.inner.distributions(question, quotes, parts, first)


def _candidate(n: int, text: str, score: float) -> SentenceCandidate:
    """Candidate `n`, from its own article and with no vector (no per-article or redundancy handicap)."""
    c = SentenceCandidate(f"a{n}", 0, len(text), text, None, None, None, "T", None, None, None, f"h{n}", np.zeros(3))
    c.score = score
    return c


def _quoted(selector: QuoteSelector, scored: list[tuple[str, float]], reads: RememberedReads) -> list[str]:
    ranked = [_candidate(n, t, s) for n, (t, s) in enumerate(scored)]
    return [d.quote.text for d in selector.select(ranked, limit=3, question=QUESTION, reads=reads)]


def test_the_sentence_with_the_answer_comes_before_a_restatement() -> None:
    """Fused order: the first quote, a sentence on the topic without the answer, then the answer 0.8 behind it.
    With the later reads the answer is quote 2; the first quote stays first although it names no cost."""
    pointer = Counting(load_pointer(BUNDLED, precision="int8"))
    scored = [(FIRST, 5.0), (TOPIC, 4.8), (ANSWER, 4.0), (FAR, -1.0)]
    on = QuoteSelector({}, answer_pointer=BUNDLED, later_point_k=10)
    assert _quoted(on, scored, RememberedReads(pointer)) == [FIRST, ANSWER, TOPIC]
    assert FAR not in {q for batch in pointer.batches for q in batch}  # 6 behind: past the floor, never read
    off = QuoteSelector({}, answer_pointer=BUNDLED, later_point_k=0)
    reads = RememberedReads(pointer)
    pointer.batches.clear()
    assert _quoted(off, scored, reads) == [FIRST, TOPIC, ANSWER]  # the fused order
    assert all(batch == [FIRST] for batch in pointer.batches)  # only the first quote's lead is read


def test_the_reads_are_one_batch_and_reuse_the_head() -> None:
    """The head's reads (QuoteSelector.point) are not read again; the rest go to the pointer in one batch."""
    pointer = Counting(load_pointer(BUNDLED, precision="int8"))
    reads = RememberedReads(pointer)
    reads.distributions(QUESTION, [FIRST, TOPIC])  # as the head would have
    on = QuoteSelector({}, answer_pointer=BUNDLED, later_point_k=10)
    _quoted(on, [(FIRST, 5.0), (TOPIC, 4.8), (ANSWER, 4.0)], reads)
    assert pointer.batches == [[FIRST, TOPIC], [ANSWER]]


def test_without_a_question_or_reads_the_fused_order_stays() -> None:
    on = QuoteSelector({}, answer_pointer=BUNDLED, later_point_k=10)
    ranked = [_candidate(n, t, s) for n, (t, s) in enumerate([(FIRST, 5.0), (TOPIC, 4.8), (ANSWER, 4.0)])]
    assert [d.quote.text for d in on.select(ranked, limit=3)] == [FIRST, TOPIC, ANSWER]


def test_the_settings_reach_the_selector(tmp_path_factory, embedder) -> None:
    """LATER_POINT_K / LATER_POINT_WITHIN / LATER_POINT_WEIGHT: off by default (it costs about 37 ms a news
    question on one thread, docs/quality.md round 21), and on end to end the answer is still verbatim."""
    settings, store = shared_index(tmp_path_factory, embedder)
    texts = {r.payload["article_id"]: r.payload["text"] for r in store.article_records(with_text=True)}
    update = {"later_point_k": 10, "later_point_within": 4.0, "later_point_weight": 1.5}
    for change, expected in (({}, (0, 5.0, 1.0)), (update, (10, 4.0, 1.5))):
        qa = QuestionAnswerer(settings.model_copy(update=change), store, embedder)
        try:
            chosen = qa.pipeline.get_component("selector")
            assert (chosen.later_point_k, chosen.later_point_within, chosen.later_point_weight) == expected
            answer = qa.ask("How much did the bridge repairs cost?")
            assert answer.quotes and "million" in answer.quotes[0].text
            for q in answer.quotes + answer.more_quotes:
                assert texts[q.article_id][q.start : q.end] == q.text
        finally:
            qa.close()


def test_the_checker_reads_the_fused_order_so_the_decision_never_changes(tmp_path_factory, embedder) -> None:
    """The answer checker was calibrated on the quotes of the fused order; reading the new quotes 2-3, which hold
    answer-shaped sentences more often, it let 1-2 points more off-collection questions through (round 21). With
    the later reads on, the bot shows its new third quote (here the bridge's cost, for a question about the
    library) but the checker is handed the same quotes as with them off."""
    settings, store = shared_index(tmp_path_factory, embedder)
    question = "How much will the library cost?"
    shown: dict[int, list[str]] = {}
    checked: dict[int, list[str]] = {}
    for k in (0, 10):
        qa = QuestionAnswerer(settings.model_copy(update={"later_point_k": k}), store, embedder)
        selector = qa.pipeline.get_component("selector")
        check = selector.check

        def spy(question, drafts, base, model, _k=k, _check=check):
            checked[_k] = [d.quote.text for d in drafts[:3]]
            return _check(question, drafts, base, model)

        selector.check = spy
        try:
            shown[k] = [q.text for q in qa.ask(question).quotes]
        finally:
            qa.close()
    assert shown[10] != shown[0] and shown[10][0] == shown[0][0]  # quote 3 differs: the test is not vacuous
    assert checked[10] == checked[0] == shown[0]


class Recording(Counting):
    """Counting, with the `first` of every call."""

    def __init__(self, inner: AnswerPointer) -> None:
        super().__init__(inner)
        self.firsts: list[int | None] = []

    def distributions(self, question: str, quotes: list[str], parts: int = 1, first: int | None = None) -> list:
        self.firsts.append(first)
        return super().distributions(question, quotes, parts, first)


def test_the_head_and_the_later_reads_are_one_call_and_the_head_reads_the_same() -> None:
    """With the later reads on, the head's re-ordering reads the later candidates in its own call, in batches of
    their own (`first`), so both share the spare core, `select` reads nothing more, and the head's masses (which
    pick the first quote) are the same as with the later reads off."""
    scored = [(FIRST, 5.0), (TOPIC, 4.8), (ANSWER, 2.0), (FAR, -1.0)]
    masses = {}
    for k in (0, 10):
        pointer = Recording(load_pointer(BUNDLED, precision="int8"))
        reads = RememberedReads(pointer, parts=2)
        selector = QuoteSelector({}, answer_pointer=BUNDLED, later_point_k=k)
        head = selector.point(QUESTION, [_candidate(n, t, s) for n, (t, s) in enumerate(scored)], reads)
        masses[k] = {c.text: c.features["span"] for c in head if "span" in c.features}
        if k:
            assert pointer.batches == [[FIRST, TOPIC, ANSWER]] and pointer.firsts == [2]  # FAR: past the floor
            selector.select(head, 3, question=QUESTION, reads=reads)
            assert all(batch == [] or set(batch) <= {FIRST} for batch in pointer.batches[1:])
        else:
            assert pointer.batches == [[FIRST, TOPIC]]
    assert masses[0] == masses[10] and set(masses[0]) == {FIRST, TOPIC}
