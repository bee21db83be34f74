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
