"""The bundled answer pointer (bot/pointer.py): loads offline, points the lead at the clause that answers,
never makes the lead anything but a verbatim slice cut at clause boundaries, and is shared safely by threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fixtures.support import shared_index

from bot.answer_text import lead_span, pieces, pointed_span
from bot.components.quote_selector import QuoteSelector
from bot.finetuned import disabled
from bot.pipeline import QuestionAnswerer
from bot.pointer import BUNDLED, AnswerPointer, RememberedReads, SpanDistribution, load_pointer
from bot.scoring import SentenceCandidate

SENTENCE = (
    "The harbour bridge reopened in March 2021, after repairs that cost 40 million dollars, "
    "and the ferry service that had replaced it was withdrawn."
)


@pytest.fixture(scope="module", params=["float32", "int8"])
def pointer(request: pytest.FixtureRequest) -> AnswerPointer:
    """The bundled pointer in both precisions (POINTER_PRECISION): each must lead as the tests below say."""
    return load_pointer(BUNDLED, precision=request.param)


def test_the_distribution_covers_the_quote(pointer: AnswerPointer) -> None:
    dist = pointer.distribution("How much did the repairs cost?", SENTENCE)
    assert dist is not None
    assert dist.joint.sum() == pytest.approx(1.0)
    assert np.all(np.tril(dist.joint, -1) == 0)  # an answer never ends before it starts
    assert all(0 <= a < b <= len(SENTENCE) for a, b in dist.offsets)
    a, b = dist.best()
    assert "40 million" in SENTENCE[a:b]


@pytest.mark.parametrize(
    ("question", "kept", "dropped"),
    [
        ("How much did the repairs cost?", "40 million dollars", "ferry"),
        ("When did the harbour bridge reopen?", "March 2021", "ferry"),
    ],
)
def test_the_lead_is_the_clause_that_answers(pointer: AnswerPointer, question: str, kept: str, dropped: str) -> None:
    a, b = lead_span(question, SENTENCE, pointer=pointer)
    lead = SENTENCE[a:b]
    assert kept in lead and dropped not in lead, lead
    assert (a, b) != (0, len(SENTENCE))  # shorter than the quote: it points at the answer


def test_an_unsure_pointer_keeps_the_answer_in_the_lead(pointer: AnswerPointer) -> None:
    """The small reader is torn over what was withdrawn (the repairs or the ferry): the lead widens until it
    holds both rather than cut the answer off."""
    a, b = lead_span("What was withdrawn when the bridge reopened?", SENTENCE, pointer=pointer)
    assert "the ferry service" in SENTENCE[a:b]


def test_the_pointed_lead_is_cut_only_at_piece_boundaries(pointer: AnswerPointer) -> None:
    parts = pieces(SENTENCE, 0, len(SENTENCE))
    starts, ends = {a for a, _ in parts}, {b for _, b in parts}
    for question in ("Who paid for the repairs?", "What happened to the ferry?", "Why?", "bridge"):
        a, b = lead_span(question, SENTENCE, pointer=pointer)
        assert a in starts and b in ends


def test_the_mass_widens_the_lead() -> None:
    """A pointer torn between two pieces: a low mass keeps the likelier one, a high mass both."""
    text = "Alpha beta gamma, delta epsilon zeta, eta theta iota"
    parts = pieces(text, 0, len(text))
    offsets = np.array([(0, 5), (18, 23), (38, 41)])
    joint = np.diag([0.6, 0.35, 0.05])
    dist = SpanDistribution(offsets=offsets, joint=joint)
    assert pointed_span(parts, dist, 0.5) == parts[0]
    assert pointed_span(parts, dist, 0.9) == (parts[0][0], parts[1][1])
    assert pointed_span(parts, dist, 0.99) == (0, len(text))


def test_threads_share_one_pointer(pointer: AnswerPointer) -> None:
    questions = ["How much did the repairs cost?", "When did the harbour bridge reopen?"] * 12
    serial = {q: lead_span(q, SENTENCE, pointer=pointer) for q in set(questions)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda q: lead_span(q, SENTENCE, pointer=pointer), questions))
    assert results == [serial[q] for q in questions]


@pytest.mark.parametrize("spec", [None, "", "off", "OFF", "none"])
def test_the_pointer_can_be_turned_off(spec) -> None:
    assert disabled(spec)
    assert QuoteSelector({}, answer_pointer=spec).answer_pointer is None


def test_the_pipeline_leads_with_the_pointed_clause(tmp_path_factory, embedder) -> None:
    """ANSWER_POINTER=bundled (the default) end to end: loaded at warm-up, the lead a verbatim slice of the
    first quote, which is itself a verbatim slice of the stored article."""
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings.model_copy(update={"answer_pointer": BUNDLED}), store, embedder)
    try:
        assert qa.pipeline.get_component("selector")._pointer is not None
        texts = {r.payload["article_id"]: r.payload["text"] for r in store.article_records(with_text=True)}
        answer = qa.ask("How much did the bridge repairs cost?")
        first = answer.quotes[0]
        assert texts[first.article_id][first.start : first.end] == first.text
        assert answer.lead is not None and first.text[answer.lead[0] : answer.lead[1]] == answer.answer
        assert "million" in answer.answer
    finally:
        qa.close()


HARBOUR = [
    "The harbour bridge reopened in March 2021 after long repairs to its deck.",
    "The repairs cost 40 million dollars, the city said.",
    "Repairs to harbour bridges are costly.",
]


def test_the_span_mass_is_highest_in_the_sentence_that_holds_the_answer(pointer: AnswerPointer) -> None:
    masses = [pointer.distribution("How much did the repairs to the harbour bridge cost?", t).log_mass for t in HARBOUR]
    assert all(np.isfinite(masses))
    assert masses[1] > max(masses[0], masses[2]) + 3  # log-odds: the reader finds the answer there, not elsewhere


def test_the_answer_odds_say_whether_a_quote_answers_at_all(pointer: AnswerPointer) -> None:
    """Span mass against [CLS] (learnt from round 19's no-answer examples): positive where the quote answers,
    negative where it only shares the topic or is about something else, whatever the question."""
    assert pointer.distribution("How much did the repairs to the harbour bridge cost?", HARBOUR[1]).answer_odds > 4
    assert pointer.distribution("How much did the repairs to the harbour bridge cost?", HARBOUR[2]).answer_odds < -2
    assert all(pointer.distribution("Who was the first emperor of Rome?", t).answer_odds < -2 for t in HARBOUR)


def test_a_batch_of_reads_is_the_reads_one_by_one(pointer: AnswerPointer) -> None:
    """`distributions` reads the head in one padded pass. In float32 it is the single reads exactly (padding is
    masked); in int8 the batch shares one activation scale, so the masses move a little (round 20 measured the
    order it gives: docs/quality.md) and the [CLS] logit more, but the answer is where it was."""
    question = "How much did the repairs to the harbour bridge cost?"
    single = [pointer.distribution(question, t) for t in HARBOUR]
    batched = pointer.distributions(question, HARBOUR)
    int8 = _quantized(pointer)
    for one, both in zip(single, batched, strict=True):
        assert np.array_equal(one.offsets, both.offsets)
        assert abs(one.log_mass - both.log_mass) < (1.5 if int8 else 1e-3)
        assert int8 or (abs(one.no_answer - both.no_answer) < 1e-3 and one.best() == both.best())
    assert batched[1].log_mass > max(batched[0].log_mass, batched[2].log_mass) + 3
    a, b = batched[1].best()
    assert "40 million" in HARBOUR[1][a:b]
    assert pointer.distributions(question, []) == []


def _quantized(pointer: AnswerPointer) -> bool:
    """Does the pointer run with int8 linear layers (POINTER_PRECISION=int8)?"""
    return any("quantized" in type(m).__module__ for m in pointer.model.modules())


def test_remembered_reads_batch_the_unread_quotes_and_read_each_once() -> None:
    """The head's reads go to the pointer as one batch; the lead's read of a quote the head read is free."""
    batches: list[list[str]] = []

    class Counting:
        def __init__(self, inner: AnswerPointer) -> None:
            self.inner = inner

        def distributions(self, question: str, quotes: list[str], parts: int = 1, first: int | None = None) -> list:
            batches.append(list(quotes))
            return self.inner.distributions(question, quotes, parts, first)

    question = "How much did the repairs to the harbour bridge cost?"
    reads = RememberedReads(Counting(load_pointer(BUNDLED, precision="int8")))
    head = reads.distributions(question, [HARBOUR[0], HARBOUR[1], HARBOUR[0]])
    assert head[0] is head[2] and batches == [[HARBOUR[0], HARBOUR[1]]]
    assert reads.distribution(question, HARBOUR[1]) is head[1] and len(batches) == 1
    reads.distributions(question, HARBOUR)
    assert batches[1] == [HARBOUR[2]]


def _candidate(text: str, score: float) -> SentenceCandidate:
    c = SentenceCandidate("a1", 0, len(text), text, None, None, None, "T", None, None, None, "h", np.zeros(3))
    c.score = score
    return c


def test_the_pointer_reorders_the_head_on_the_fused_scale() -> None:
    """The restating sentence ranks first by the fused score; the pointer moves the sentence that holds the
    answer up, the head keeps its fused scores in the new order, and a candidate outside the head stays."""
    question = "How much did the repairs to the harbour bridge cost?"
    selector = QuoteSelector({}, answer_pointer=BUNDLED, point_top_k=3)
    ranked = [_candidate(HARBOUR[0], 3.0), _candidate(HARBOUR[1], 2.6), _candidate(HARBOUR[2], 2.5)]
    tail = _candidate("The ferry service was withdrawn.", -9.0)  # over POINT_WITHIN behind: not read
    out = selector.point(question, [*ranked, tail])
    assert out[0].text == HARBOUR[1] and out[-1] is tail
    assert [c.score for c in out] == [3.0, 2.6, 2.5, -9.0]
    assert all("span" in c.features for c in out[:3]) and "span" not in tail.features
    reads = RememberedReads(load_pointer(BUNDLED, precision="int8"))
    first = reads.distribution(question, HARBOUR[1])
    assert reads.distribution(question, HARBOUR[1]) is first  # the lead of the first quote reuses the head's read
    off = QuoteSelector({}, answer_pointer=BUNDLED, point_top_k=0)
    again = [_candidate(t, s) for t, s in zip(HARBOUR, (3.0, 2.6, 2.5), strict=True)]
    assert [c.text for c in off.point(question, again)] == HARBOUR
    no_pointer = QuoteSelector({}, answer_pointer="off", point_top_k=3)
    assert [c.text for c in no_pointer.point(question, again)] == HARBOUR


def test_the_pipeline_with_the_pointer_reordering_answers_verbatim(tmp_path_factory, embedder) -> None:
    """POINT_TOP_K=4 end to end: the head was read (its span masses are in the features), and the answer is
    still a verbatim quote of the stored article with a verbatim lead."""
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings.model_copy(update={"point_top_k": 4}), store, embedder)
    try:
        assert qa.pipeline.get_component("selector").point_top_k == 4
        texts = {r.payload["article_id"]: r.payload["text"] for r in store.article_records(with_text=True)}
        raw = qa.run_raw("How much did the bridge repairs cost?", include_outputs_from={"retriever"})
        answer = raw["generator"]["answer"]
        first = answer.quotes[0]
        assert texts[first.article_id][first.start : first.end] == first.text and "million" in first.text
        assert answer.lead is not None and first.text[answer.lead[0] : answer.lead[1]] == answer.answer
        assert any("span" in c.features for c in raw["retriever"]["pool"].candidates)
    finally:
        qa.close()


def test_by_default_the_pointer_reorders_the_best_four_within_two_and_a_half_log_odds(
    tmp_path_factory, embedder
) -> None:
    """The default (round 20, the head read in one batch; three within 3 in round 19, two within 2 in rounds
    17-18): the best four sentences within 2.5 log-odds of the first are read, and the one holding the answer
    comes first; a fifth sentence is never read."""
    question = "How much did the repairs to the harbour bridge cost?"
    selector = QuoteSelector({}, answer_pointer=BUNDLED)
    fourth = _candidate("The ferry service was withdrawn.", 1.2)
    tail = _candidate("The bridge was painted green.", 1.1)
    ranked = [_candidate(HARBOUR[0], 3.0), _candidate(HARBOUR[1], 1.5), _candidate(HARBOUR[2], 1.4), fourth, tail]
    out = selector.point(question, ranked)
    assert out[0].text == HARBOUR[1] and [c.score for c in out] == [3.0, 1.5, 1.4, 1.2, 1.1]
    assert all("span" in c.features for c in out[:4]) and out[4] is tail and "span" not in tail.features
    behind = [_candidate(HARBOUR[0], 3.0), _candidate(HARBOUR[1], 0.4)]  # 2.6 log-odds behind: a clear winner
    assert [c.text for c in selector.point(question, behind)] == HARBOUR[:2]
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings, store, embedder)
    try:
        chosen = qa.pipeline.get_component("selector")
        assert (chosen.point_top_k, chosen.point_within) == (4, 2.5)
    finally:
        qa.close()


LEAGUE = [
    "The league will play a regular-season game in Peru next season for the first time, it announced on Wednesday.",
    "A National Rugby League game will be played in Lima next season, organisers said.",
]


def test_a_sentence_that_names_no_answer_loses_to_the_one_that_does() -> None:
    """The pointer has learned sentences without an answer (round 19: no-answer examples, news questions among
    them). The first sentence restates a "which league" question without naming one; the one that names it comes
    first though 1.5 log-odds behind (round 8's pointer, trained on answer sentences alone, kept the restatement)."""
    question = "Which pro sports league announced it will play a game in Peru next season?"
    pointer = load_pointer(BUNDLED, precision="int8")
    masses = [pointer.distribution(question, t).log_mass for t in LEAGUE]
    assert masses[1] > masses[0] + 3
    selector = QuoteSelector({}, answer_pointer=BUNDLED)
    out = selector.point(question, [_candidate(LEAGUE[0], 3.0), _candidate(LEAGUE[1], 1.5)])
    assert [c.text for c in out] == LEAGUE[::-1] and [c.score for c in out] == [3.0, 1.5]
