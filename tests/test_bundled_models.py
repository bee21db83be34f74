"""The fine-tuned layers the bot ships (bot/models/): each file is there and holds a few layers, not a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer_check import CHECK_WEIGHTS
from bot.pointer import BUNDLED_WEIGHTS as POINTER_WEIGHTS
from bot.rerank import BUNDLED_WEIGHTS as RERANKER_WEIGHTS


@pytest.mark.parametrize(
    ("weights", "limit"),
    [
        (RERANKER_WEIGHTS, 12_000_000),  # three layers and a head in fp16
        (POINTER_WEIGHTS, 16_000_000),  # four layers and a start/end head
        (CHECK_WEIGHTS, 12_000_000),  # three layers and a head
    ],
)
def test_bundled_weights_ship_with_the_package(weights: Path, limit: int) -> None:
    assert weights.is_file()
    assert weights.stat().st_size < limit  # the bundled embedding model's lower layers are not copied
