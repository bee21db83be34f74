"""Quotes 2-3 say something the quotes before them do not (QuoteSelector `redundancy`): the same story retold by
another outlet comes after a sentence with another fact, even when it scores a little higher."""

from __future__ import annotations

import numpy as np
from fixtures.support import shared_index

from bot.components.quote_selector import REDUNDANT_ABOVE, QuoteSelector
from bot.pipeline import QuestionAnswerer
from bot.scoring import SentenceCandidate

FIRST = "The city council approved the new central library on Tuesday after a long debate."
RETOLD = "On Tuesday the city council approved the new central library after a lengthy debate."
OTHER_FACT = "The library will cost 12 million euros and is due to open in the spring of 2027."


def _candidate(n: int, text: str, score: float, vector: np.ndarray) -> SentenceCandidate:
    """Candidate `n`, from its own article (so the per-article handicap plays no part)."""
    c = SentenceCandidate(f"a{n}", 0, len(text), text, None, None, None, "T", None, None, None, f"h{n}", vector)
    c.score = score
    return c


def _candidates(embedder, scored: list[tuple[str, float]]) -> list[SentenceCandidate]:
    """One candidate per sentence, with the bundled model's real sentence vectors."""
    vectors = embedder.encode([text for text, _ in scored])
    return [_candidate(n, t, s, v) for n, ((t, s), v) in enumerate(zip(scored, vectors, strict=True))]


def _quoted(selector: QuoteSelector, ranked: list[SentenceCandidate]) -> list[str]:
    return [d.quote.text for d in selector.select(ranked, limit=3)]


def test_a_retold_sentence_comes_after_one_with_another_fact(embedder) -> None:
    ranked = _candidates(embedder, [(FIRST, 5.0), (RETOLD, 4.8), (OTHER_FACT, 4.0)])
    units = [c.vector / np.linalg.norm(c.vector) for c in ranked]
    assert float(units[0] @ units[1]) > 0.9 > REDUNDANT_ABOVE  # the retelling is close: the setup is not vacuous
    assert float(units[0] @ units[2]) < 0.7
    assert _quoted(QuoteSelector({}), ranked) == [FIRST, OTHER_FACT, RETOLD]
    assert _quoted(QuoteSelector({}, redundancy=0.0), ranked) == [FIRST, RETOLD, OTHER_FACT]  # the fused order


def test_sentences_with_different_facts_keep_their_order(embedder) -> None:
    """Only closeness to a quote already taken costs: the first quote is the best candidate, and candidates
    that say different things keep the fused order."""
    park = "Residents asked the council to keep the park open at night during the summer."
    ranked = _candidates(embedder, [(OTHER_FACT, 5.0), (park, 4.9), (FIRST, 4.8)])
    assert _quoted(QuoteSelector({}), ranked) == [OTHER_FACT, park, FIRST]


def test_candidates_without_vectors_are_quoted_in_the_fused_order() -> None:
    """A zero vector (nothing to compare) is close to nothing: no handicap, and nothing is divided by zero."""
    texts = [FIRST, RETOLD, OTHER_FACT]
    ranked = [_candidate(n, text, 5.0 - n, np.zeros(3)) for n, text in enumerate(texts)]
    assert _quoted(QuoteSelector({}), ranked) == texts
    assert QuoteSelector({}).select([], limit=3) == []


def test_the_settings_reach_the_selector(tmp_path_factory, embedder) -> None:
    """REDUNDANCY / REDUNDANT_ABOVE: the defaults, and 0 (off) for a deployment that wants the fused order."""
    settings, store = shared_index(tmp_path_factory, embedder)
    for update, expected in (({}, (4.0, 0.4)), ({"redundancy": 0.0, "redundant_above": 0.6}, (0.0, 0.6))):
        qa = QuestionAnswerer(settings.model_copy(update=update), store, embedder)
        try:
            chosen = qa.pipeline.get_component("selector")
            assert (chosen.redundancy, chosen.redundant_above) == expected
        finally:
            qa.close()
