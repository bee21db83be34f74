"""The bundled cross-encoder (bot/rerank.py): loads offline, reads question and sentence together, is shared
safely by threads, and re-orders only the head of a ranking."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fixtures.support import shared_index

from bot.components.quote_selector import QuoteSelector
from bot.finetuned import disabled, overlay
from bot.pipeline import QuestionAnswerer, load_pipeline
from bot.rerank import BUNDLED, CrossScorer, load_cross_scorer
from tests.test_scoring import candidate

QUESTION = "How much did the harbour bridge repairs cost?"
RESTATES = "The harbour bridge repairs were discussed at length by the council."
ANSWERS = "The harbour bridge repairs cost 40 million dollars."
OFF_TOPIC = "The glacier started retreating in 1850, at the end of the Little Ice Age."


@pytest.fixture(scope="module")
def scorer() -> CrossScorer:
    return load_cross_scorer(BUNDLED)


def test_the_answering_sentence_outscores_one_that_restates_the_question(scorer: CrossScorer) -> None:
    logits = scorer.scores(QUESTION, [RESTATES, ANSWERS, OFF_TOPIC])
    assert logits.shape == (3,)
    assert logits[1] > logits[0] > logits[2]


def test_the_overlay_changes_the_model(scorer: CrossScorer) -> None:
    """Without the fine-tuned layers the head is untrained: the bundled scores must come from the overlay."""
    bare = CrossScorer.__new__(CrossScorer)
    from transformers import AutoModelForSequenceClassification

    from indexing.settings import bundled_model_path

    model = AutoModelForSequenceClassification.from_pretrained(bundled_model_path(), num_labels=1).eval()
    bare.__dict__.update(scorer.__dict__ | {"model": model})
    assert not np.allclose(bare.scores(QUESTION, [ANSWERS]), scorer.scores(QUESTION, [ANSWERS]), atol=1e-3)


def test_an_overlay_with_foreign_tensors_is_refused(tmp_path, scorer: CrossScorer) -> None:
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "bad.safetensors"
    save_file({"encoder.layer.99.weight": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="tensors the model lacks"):
        overlay(scorer.model, path)


def test_threads_share_one_scorer(scorer: CrossScorer) -> None:
    """Questions are answered from several threads at once: the shared tokenizer must not fail or mix them."""
    texts = [RESTATES, ANSWERS, OFF_TOPIC]
    serial = scorer.scores(QUESTION, texts)
    questions = [QUESTION, "When did the glacier start retreating?"] * 16
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda q: scorer.scores(q, texts), questions))
    for question, result in zip(questions, results, strict=True):
        if question == QUESTION:
            np.testing.assert_allclose(result, serial, atol=1e-4)
    assert np.argmax(results[1]) == 2  # the glacier question's own sentence


@pytest.mark.parametrize("spec", [None, "", "off", "OFF", "none"])
def test_reranker_can_be_turned_off(spec) -> None:
    assert disabled(spec)
    assert QuoteSelector({}, reranker=spec).reranker is None


def test_rerank_reorders_the_head_on_the_fused_scale(scorer: CrossScorer) -> None:
    selector = QuoteSelector({}, reranker=BUNDLED, rerank_top_k=2, cross_weight=10.0)
    restates, answers, tail = (candidate(t, (0,), start=i * 100) for i, t in enumerate((RESTATES, ANSWERS, OFF_TOPIC)))
    for c, score in ((restates, 3.0), (answers, 2.5), (tail, 2.0)):
        c.score = score
    ranked = selector.rerank(QUESTION, [restates, answers, tail])
    assert [c.text for c in ranked] == [ANSWERS, RESTATES, OFF_TOPIC]
    assert "cross" in answers.features and "cross" not in tail.features
    # the head swapped places and scores: floors and merges still compare fused log-odds
    assert [c.score for c in ranked] == [3.0, 2.5, 2.0]


def test_a_clear_winner_is_not_re_scored(scorer: CrossScorer) -> None:
    """Candidates more than `rerank_within` log-odds behind the best stay out of the head (and cost nothing)."""
    selector = QuoteSelector({}, reranker=BUNDLED, rerank_top_k=8, rerank_within=4.0, cross_weight=10.0)
    restates, answers = candidate(RESTATES, (0,)), candidate(ANSWERS, (0,), start=100)
    restates.score, answers.score = 9.0, 2.5
    ranked = selector.rerank(QUESTION, [restates, answers])
    assert ranked == [restates, answers]
    assert "cross" not in restates.features and "cross" not in answers.features


def test_the_pipeline_answers_verbatim_with_the_bundled_reranker(tmp_path_factory, embedder) -> None:
    """RERANKER=bundled end to end: the selector loads it at warm-up, survives the YAML round trip, and the
    re-ordered quotes are still verbatim slices of the stored articles."""
    settings, store = shared_index(tmp_path_factory, embedder)
    qa = QuestionAnswerer(settings.model_copy(update={"reranker": BUNDLED}), store, embedder)
    try:
        selector = qa.pipeline.get_component("selector")
        assert selector.reranker == BUNDLED and selector._cross is not None  # loaded at warm-up, not mid-question
        texts = {r.payload["article_id"]: r.payload["text"] for r in store.article_records(with_text=True)}
        for question, expected in (
            ("Who did the Centcom chief meet?", "Bajwa"),
            ("How much did the bridge repairs cost?", "million"),
        ):
            answer = qa.ask(question)
            assert not answer.abstained and expected in answer.quotes[0].text, answer.quotes
            for quote in answer.quotes + answer.more_quotes:
                assert texts[quote.article_id][quote.start : quote.end] == quote.text
        loaded = load_pipeline(qa.pipeline.dumps(), resources=qa.resources)
        assert loaded.get_component("selector").reranker == BUNDLED
    finally:
        qa.close()
