"""Cross-encoder scores for the best candidate sentences: the question and the sentence read together.

The bi-encoder and the lexical signals judge a sentence by what it shares with the question, so a
sentence that restates the question can outrank the one that answers it, and a question the collection
cannot answer still finds sentences that share its words. A cross-encoder attends across the question and
the sentence and was trained to tell whether the sentence holds the answer.

The bundled reranker ("bundled") is the embedding model's own all-MiniLM-L6-v2 with its top three layers
and a scoring head fine-tuned for that task (QNLI-style: question, answer sentence, hard negatives from the
same article) on the tuning half of the SQuAD v1.1 dev set, then on news-quiz questions the news dev set never
sees (see docs/quality.md, rounds 7 and 10); those weights ship
in `bot/models/` (fp16, CC BY-SA 4.0 like the SQuAD data) and are laid over the bundled
embedding model's lower layers, so nothing is downloaded. `RERANKER` may instead name any Hugging Face
sequence-classification model with one output (a local folder, or a hub name with internet); the fused
weight was fitted for the bundled one. It is off by default: on unseen questions it puts the answer in the first
quote 2-3 points more often, at about twice the latency (docs/quality.md, round 10).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from bot.cores import in_parts
from bot.finetuned import BUNDLED, load_finetuned, shared

BUNDLED_WEIGHTS = Path(__file__).resolve().parent / "models" / "minilm-l6-qnli-top3.safetensors"
MAX_TOKENS = 96  # question + sentence, as trained; longer sentences are cut


class CrossScorer:
    """One loaded cross-encoder: `scores(question, texts)` gives a relevance logit per text."""

    def __init__(
        self, spec: str = BUNDLED, device: str = "cpu", weights: Path = BUNDLED_WEIGHTS, precision: str = "float32"
    ) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        self.spec = spec
        self.tokenizer, self.model = load_finetuned(
            spec, AutoModelForSequenceClassification, weights, device, precision, num_labels=1
        )
        self.device = device
        self._tokenize = threading.Lock()  # a fast tokenizer's truncation state is not thread-safe
        self._torch = torch

    def scores(self, question: str, texts: list[str], parts: int = 1) -> np.ndarray:
        """Relevance logits of `texts` for `question` (higher: more likely to hold the answer); `parts` > 1 reads
        them in that many batches, on spare cores when there are any (bot/cores.py)."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(in_parts(lambda batch: self._batch(question, batch).tolist(), texts, parts), np.float32)

    def _batch(self, question: str, texts: list[str]) -> np.ndarray:
        """One padded batch of `scores`."""
        with self._tokenize:
            batch = self.tokenizer(
                [question] * len(texts),
                texts,
                truncation="only_second",
                max_length=MAX_TOKENS,
                padding=True,
                return_tensors="pt",
            )
        with self._torch.inference_mode():
            logits = self.model(**batch.to(self.device)).logits
        return logits[:, 0].float().cpu().numpy()


def load_cross_scorer(spec: str, device: str = "cpu", precision: str = "float32") -> CrossScorer:
    """The process-wide reranker for `spec` (loaded once, shared by every pipeline and thread). The pipeline keeps
    it float32: with int8 weights it lost most of its news gain (docs/quality.md, round 12)."""
    return shared("reranker", lambda s, d, p: CrossScorer(s, d, BUNDLED_WEIGHTS, p), spec, device, precision)
