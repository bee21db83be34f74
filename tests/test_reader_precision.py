"""The answer pointer runs with int8 linear layers by default (POINTER_PRECISION, bot/finetuned.py): it must
really be quantized, point where the float32 one does, stay one shared model per precision, and fall back to
float32 with a warning when torch cannot quantize. The reranker and the answer checker stay float32."""

from __future__ import annotations

import logging

import pytest
import torch
from fixtures.support import shared_index
from pydantic import ValidationError

from bot.finetuned import BUNDLED, quantized
from bot.pipeline import build_pipeline, load_pipeline
from bot.pointer import AnswerPointer, load_pointer
from bot.rerank import load_cross_scorer
from indexing.settings import Settings

QUESTION = "How much did the bridge repairs cost?"
ANSWERS = "The repairs to the harbour bridge cost 40 million dollars and took two years."
SHARES_WORDS = "The bridge is a popular spot for photographs of the harbour at sunset."
OFF_TOPIC = "The football club signed a new goalkeeper before the season began."


QUANTIZED = "torch.ao.nn.quantized.dynamic.modules.linear"
FLOAT = "torch.nn.modules.linear"


def _linear_kinds(model: torch.nn.Module) -> set[str]:
    return {type(m).__module__ for m in model.modules() if type(m).__name__ == "Linear"}


def test_int8_is_the_default_and_float32_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().pointer_precision == "int8"
    monkeypatch.setenv("POINTER_PRECISION", " Float32 ")
    assert Settings().pointer_precision == "float32"
    monkeypatch.setenv("POINTER_PRECISION", "")
    assert Settings().pointer_precision == "int8"
    monkeypatch.setenv("POINTER_PRECISION", "int4")
    with pytest.raises(ValidationError):
        Settings()


def test_an_int8_cross_encoder_is_quantized_and_reads_like_the_float32_one() -> None:
    int8 = load_cross_scorer(BUNDLED, precision="int8")
    full = load_cross_scorer(BUNDLED)
    assert int8 is not full and load_cross_scorer(BUNDLED, precision="int8") is int8
    assert _linear_kinds(int8.model) == {QUANTIZED}
    assert _linear_kinds(full.model) == {FLOAT}
    texts = [ANSWERS, SHARES_WORDS, OFF_TOPIC]
    a, b = int8.scores(QUESTION, texts), full.scores(QUESTION, texts)
    assert list(a.argsort()) == list(b.argsort())
    assert abs(a - b).max() < 1.5  # the checker on 200 SQuAD pairs: mean drift 0.33, p95 0.94, max 2.5 logits


def test_the_int8_pointer_points_at_the_same_answer() -> None:
    int8, full = load_pointer(BUNDLED, precision="int8"), load_pointer(BUNDLED)
    assert _linear_kinds(int8.model) == {QUANTIZED}
    s, e = int8.distribution(QUESTION, ANSWERS).best()
    assert (s, e) == full.distribution(QUESTION, ANSWERS).best()
    assert "40 million" in ANSWERS[s:e]


def test_the_pipeline_passes_the_precision_on(tmp_path_factory, embedder) -> None:
    settings, store = shared_index(tmp_path_factory, embedder)
    for precision in ("int8", "float32"):
        pipeline = build_pipeline(settings.model_copy(update={"pointer_precision": precision}), store, embedder)
        selector = pipeline.get_component("selector")
        assert selector.pointer_precision == precision
        loaded = load_pipeline(pipeline.dumps(), resources=selector.resources).get_component("selector")
        assert loaded.pointer_precision == precision
        selector.warm_up()
        assert _linear_kinds(selector._pointer.model) == {QUANTIZED if precision == "int8" else FLOAT}
        assert _linear_kinds(selector._checker.model) == {FLOAT}  # the checker decides declining: float32
    reranking = build_pipeline(settings.model_copy(update={"reranker": BUNDLED}), store, embedder)
    selector = reranking.get_component("selector")
    selector.warm_up()
    assert _linear_kinds(selector._cross.model) == {FLOAT}


def test_a_torch_without_quantization_falls_back_to_float32(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import torch.ao.quantization as tq

    def gone(*args: object, **kwargs: object) -> None:
        raise NotImplementedError("quantized tensors were removed")

    monkeypatch.setattr(tq, "quantize_dynamic", gone)
    with caplog.at_level(logging.WARNING, logger="bot.finetuned"):
        assert quantized(torch.nn.Sequential(torch.nn.Linear(4, 2))) is None
        pointer = AnswerPointer(BUNDLED, precision="int8")  # not the shared one: loaded under the patch
    assert "float32 instead" in caplog.text
    assert _linear_kinds(pointer.model) == {FLOAT}
    s, e = pointer.distribution(QUESTION, ANSWERS).best()
    assert "40 million" in ANSWERS[s:e]
