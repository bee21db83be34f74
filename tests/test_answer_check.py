"""The bundled answer checker (bot/answer_check.py): loads offline, tells a quote that answers from one that
only shares the question's words, feeds the decline decision with its own calibrated thresholds, and can be
turned off (the scores-only model and its thresholds come back)."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from fixtures.support import shared_index

from bot.answer_check import LOGIT_RANGE, check_features, load_answer_checker, read_until_settled
from bot.components.quote_selector import QuoteSelector
from bot.finetuned import BUNDLED
from bot.pipeline import QuestionAnswerer, composer_for
from bot.rerank import CrossScorer
from bot.scoring import CHECKED, SCORES_ONLY

QUESTION = "How much did the bridge repairs cost?"
ANSWERS = "The repairs to the harbour bridge cost 40 million dollars and took two years."
SHARES_WORDS = "The bridge is a popular spot for photographs of the harbour at sunset."
OFF_TOPIC = "The football club signed a new goalkeeper before the season began."


@pytest.fixture(scope="module")
def checker() -> CrossScorer:
    return load_answer_checker(BUNDLED)


def test_the_answering_quote_scores_above_one_that_only_shares_words(checker: CrossScorer) -> None:
    answers, shares, off = checker.scores(QUESTION, [ANSWERS, SHARES_WORDS, OFF_TOPIC])
    assert answers > shares > off or answers > max(shares, off) + 2.0
    assert check_features([float(shares), float(answers)]) == {
        "check_best": float(answers),
        "check_first": float(shares),
    }
    assert check_features([-40.0, 40.0]) == {"check_best": LOGIT_RANGE[1], "check_first": LOGIT_RANGE[0]}


def test_threads_share_one_checker(checker: CrossScorer) -> None:
    assert load_answer_checker(BUNDLED) is checker
    texts = [ANSWERS, SHARES_WORDS, OFF_TOPIC]
    serial = checker.scores(QUESTION, texts).tolist()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: checker.scores(QUESTION, texts).tolist(), range(16)))
    assert all(r == pytest.approx(serial, abs=1e-5) for r in results)


def test_the_checked_model_weighs_the_checker() -> None:
    assert CHECKED.weights["check_best"] > 0 or CHECKED.weights["check_first"] > 0
    assert "check_best" not in SCORES_ONLY.weights
    assert check_features([]) == {}


def _decision(features: dict[str, float], cuts: tuple[float, ...], shift: float) -> int:
    """0 declined, 1 tentative, 2 answered: how many cuts the log-odds (plus `shift`) reach."""
    return sum(CHECKED.logit(features) + shift >= c for c in cuts)


def test_reading_stops_only_when_the_rest_cannot_change_the_decision() -> None:
    """Every combination of base evidence and logits: reading until settled gives the decision that reading all
    three quotes gives, and reads fewer quotes when the evidence is clear either way: the first alone, then, if
    that does not settle it, the other two in one batch."""
    cuts = tuple(math.log(p / (1 - p)) for p in (CHECKED.abstain, CHECKED.tentative))
    base_of = {"maxconf": 1.0}
    base0 = CHECKED.logit(base_of, skip=("check_best", "check_first"))
    reads = []
    for shift, logits in itertools.product(
        (-6.0, -3.5, -2.5, -1.5, 0.0, 3.0), itertools.product((-4.0, 0.5, 4.0), repeat=3)
    ):
        texts = ["a", "b", "c"]
        batches: list[list[str]] = []

        def score(batch: list[str], logits=logits, batches=batches) -> list[float]:
            batches.append(batch)
            return [logits["abc".index(text)] for text in batch]

        got = read_until_settled(score, texts, base0 + shift, CHECKED.weights, cuts)
        everything = {**base_of, **check_features(list(logits))}
        assert _decision({**base_of, **got}, cuts, shift) == _decision(everything, cuts, shift)
        assert batches in ([], [["a"]], [["a"], ["b", "c"]])
        assert got["check_read"] == sum(map(len, batches))
        reads.append(got["check_read"])
    assert min(reads) == 0 and max(reads) == 3 and 1 in reads


@pytest.mark.parametrize("spec", [None, "", "off", "OFF", "none"])
def test_the_checker_can_be_turned_off(spec, tmp_path) -> None:
    assert QuoteSelector({}, answer_check=spec).answer_check is None


def test_thresholds_follow_the_model_unless_set(tmp_path) -> None:
    from fixtures.support import make_test_settings

    on = make_test_settings(tmp_path / "q", answer_check=BUNDLED)
    off = on.model_copy(update={"answer_check": "off"})
    assert (composer_for(on).threshold, composer_for(on).tentative_below) == (CHECKED.abstain, CHECKED.tentative)
    assert (composer_for(off).threshold, composer_for(off).tentative_below) == (
        SCORES_ONLY.abstain,
        SCORES_ONLY.tentative,
    )
    mine = on.model_copy(update={"abstain_threshold": 0.5, "tentative_threshold": 0.7})
    assert (composer_for(mine).threshold, composer_for(mine).tentative_below) == (0.5, 0.7)


@pytest.mark.parametrize("spec", [BUNDLED, "off"])
def test_the_pipeline_answers_and_declines(tmp_path_factory, embedder, spec: str) -> None:
    """End to end on the fixture collection, checker on and off: a question the articles answer is answered
    with a verbatim quote; one they do not answer is declined, still naming the closest articles."""
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings.model_copy(update={"answer_check": spec}), store, embedder)
    try:
        raw = qa.run_raw("Who did the Centcom chief meet?", include_outputs_from={"selector"})
        evidence = raw["selector"]["evidence"]
        assert ("check_read" in evidence) == (spec == BUNDLED)
        answer = raw["generator"]["answer"]
        assert not answer.abstained and "Bajwa" in answer.quotes[0].text
        texts = {r.payload["article_id"]: r.payload["text"] for r in store.article_records(with_text=True)}
        first = answer.quotes[0]
        assert texts[first.article_id][first.start : first.end] == first.text
        declined = qa.ask("Who won the 2018 football World Cup?")
        assert declined.abstained and declined.closest
    finally:
        qa.close()
