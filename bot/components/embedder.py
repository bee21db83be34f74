"""Question embedding with the same model as the index, sharing the process-wide loaded model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from haystack import component, default_from_dict, default_to_dict

from indexing.embedding import load_model


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with `threads` intra-op threads (0: unchanged). One short question gains nothing from more
    threads, and on a busy 2-core machine they contend badly (measured 500 ms vs 48 ms per question)."""
    if threads <= 0:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if before == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@component
class QuestionEmbedder:
    """Embeds the question (normalised) with `indexing.embedding.load_model`, so indexing and answering
    share one SentenceTransformer per process (the Haystack SentenceTransformersTextEmbedder would load
    a second copy through its own backend cache)."""

    def __init__(self, model: str, device: str = "cpu", threads: int = 1) -> None:
        self.model = model
        self.device = device
        self.threads = threads
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            self._model = load_model(self.model, self.device)

    @component.output_types(embedding=np.ndarray)
    def run(self, text: str) -> dict[str, Any]:
        self.warm_up()
        with torch_threads(self.threads):
            vector = self._model.encode(
                [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return {"embedding": vector[0].astype(np.float32)}

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, model=self.model, device=self.device, threads=self.threads)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionEmbedder:
        return default_from_dict(cls, data)
