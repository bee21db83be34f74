"""Which part of a quote answers the question: a small extractive reader's start/end probabilities.

The lead (bot/answer_text.py) is cut from the first quote at clause boundaries. Question-term overlap alone
cannot tell which clause holds the answer often enough to cut with confidence (the answer is usually the
words the question does not share), so most leads used to be the whole sentence. The answer pointer reads
question and quote together and gives, for every token of the quote, the probability that the answer starts
or ends there; the lead then holds the clauses that contain the answer with the chosen probability.

The bundled pointer ("bundled") is all-MiniLM-L6-v2 with its top four layers and a start/end head fine-tuned
on the tuning half of the SQuAD v1.1 dev set (benchmarks/train_answer_pointer.py; CC BY-SA 4.0 like that data),
then one epoch more that adds sentences without the answer (labelled [CLS]: its span mass on them falls, which
the head's re-ordering compares) and news questions the news dev set never sees (docs/quality.md round 19),
laid over the bundled embedding model (bot/finetuned.py). It never writes text: every lead is still a
verbatim slice of the quote. `ANSWER_POINTER` may name another extractive-QA model (a folder, or a hub name
with internet), or "off" for the lexical piece model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.cores import in_parts
from bot.finetuned import BUNDLED, load_finetuned, shared

BUNDLED_WEIGHTS = Path(__file__).resolve().parent / "models" / "minilm-l6-squad-span-top4.safetensors"
MAX_TOKENS = 160  # question + quote; the tail of a longer quote gets no probability
MAX_ANSWER_TOKENS = 40


@dataclass(frozen=True)
class SpanDistribution:
    """The reader's view of one quote: each token's character span in the quote and the probability of each
    (start token, end token) pair being the answer (`joint[s, e]`, zero unless s <= e)."""

    offsets: np.ndarray  # (tokens, 2) character offsets in the quote
    joint: np.ndarray  # (tokens, tokens), sums to 1
    # log of the summed exp(start + end logit) over the allowed spans before normalising: how strongly the reader
    # finds an answer in this quote, comparable between the quotes of one question (docs/quality.md round 15)
    log_mass: float = 0.0
    # the [CLS] token's start + end logit: the reader's "no answer here", which it learnt in round 19
    no_answer: float = 0.0

    @property
    def answer_odds(self) -> float:
        """Log-odds that the quote holds an answer at all (span mass against [CLS]): unlike `log_mass`, comparable
        between questions. Measured as evidence for declining and not used: on news it does not separate answered
        questions from others (docs/quality.md round 20)."""
        return self.log_mass - self.no_answer

    def best(self) -> tuple[int, int]:
        """Character offsets of the likeliest answer span."""
        s, e = np.unravel_index(int(np.argmax(self.joint)), self.joint.shape)
        return int(self.offsets[s][0]), int(self.offsets[e][1])


class AnswerPointer:
    """One loaded extractive reader: `distribution(question, quote)` gives a SpanDistribution over the quote."""

    def __init__(
        self, spec: str = BUNDLED, device: str = "cpu", weights: Path = BUNDLED_WEIGHTS, precision: str = "float32"
    ) -> None:
        """`precision` "int8" quantizes the linear layers (bot/finetuned.py)."""
        import torch
        from transformers import AutoModelForQuestionAnswering

        self.spec = spec
        self.tokenizer, self.model = load_finetuned(spec, AutoModelForQuestionAnswering, weights, device, precision)
        self.device = device
        self._tokenize = threading.Lock()  # a fast tokenizer's truncation state is not thread-safe
        self._torch = torch

    def distribution(self, question: str, quote: str) -> SpanDistribution | None:
        """Start/end probabilities over the quote's tokens (None when the quote has no token)."""
        return self.distributions(question, [quote])[0]

    def distributions(
        self, question: str, quotes: list[str], parts: int = 1, first: int | None = None
    ) -> list[SpanDistribution | None]:
        """`distribution` of each quote, read in padded batches: the head's re-ordering reads up to four quotes
        per question (and the later reads up to ten), and one pass costs less than one per quote (docs/quality.md
        round 20). `parts` > 1 splits the quotes into that many batches of similar length, `first` keeps the
        first quotes' batches apart from the rest's, and the batches run on spare cores when there are any
        (bot/cores.py `in_parts`)."""
        return in_parts(lambda batch: self._batch(question, batch), quotes, parts, first)

    def _batch(self, question: str, quotes: list[str]) -> list[SpanDistribution | None]:
        """One padded batch of `distributions`."""
        if not quotes:
            return []
        with self._tokenize:
            batch = self.tokenizer(
                [question] * len(quotes),
                quotes,
                truncation="only_second",
                max_length=MAX_TOKENS,
                padding=True,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
        offsets = batch.pop("offset_mapping").numpy()
        contexts = [
            np.array([i for i, s in enumerate(batch.sequence_ids(row)) if s == 1], dtype=np.int64)
            for row in range(len(quotes))
        ]
        with self._torch.inference_mode():
            out = self.model(**batch.to(self.device))
        starts, ends = out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()
        return [
            _spans(starts[row], ends[row], offsets[row], context) if len(context) else None
            for row, context in enumerate(contexts)
        ]


def _spans(start: np.ndarray, end: np.ndarray, offsets: np.ndarray, context: np.ndarray) -> SpanDistribution:
    """One quote's SpanDistribution from its row of start / end logits (`context`: the quote's token positions;
    position 0 is [CLS])."""
    scores = np.where(_band(len(context)), start[context][:, None] + end[context][None, :], -np.inf)
    top = float(scores.max())
    joint = np.exp(scores - top)
    total = float(joint.sum())
    return SpanDistribution(
        offsets=offsets[context],
        joint=joint / total,
        log_mass=top + float(np.log(total)),
        no_answer=float(start[0] + end[0]),
    )


class RememberedReads:
    """One question's reads of the answer pointer, each quote read once: the head's re-ordering
    (QuoteSelector.point) reads the best sentences, and the lead of the first quote, mostly one of them, reuses
    that read. Made per question, so threads never share one."""

    def __init__(self, pointer: AnswerPointer, parts: int = 1) -> None:
        self.pointer = pointer
        self.parts = parts  # AnswerPointer.distributions' parts
        self._seen: dict[tuple[str, str], SpanDistribution | None] = {}

    def distribution(self, question: str, quote: str) -> SpanDistribution | None:
        return self.distributions(question, [quote])[0]

    def distributions(
        self, question: str, quotes: list[str], then: list[str] | None = None
    ) -> list[SpanDistribution | None]:
        """Each quote's read, the ones not read yet in one call; `then` are read in the same call, in batches of
        their own (so the quotes' reads are the same with or without them), and remembered for later."""
        unread = list(dict.fromkeys(q for q in quotes if (question, q) not in self._seen))
        more = [q for q in dict.fromkeys(then or []) if (question, q) not in self._seen and q not in unread]
        if unread or more:
            dists = self.pointer.distributions(question, unread + more, self.parts, first=len(unread))
            for quote, dist in zip(unread + more, dists, strict=True):
                self._seen[(question, quote)] = dist
        return [self._seen[(question, q)] for q in quotes]


def _band(n: int) -> np.ndarray:
    """The (start, end) token pairs of an allowed answer: end not before start, at most MAX_ANSWER_TOKENS long."""
    return np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), MAX_ANSWER_TOKENS)


def load_pointer(spec: str, device: str = "cpu", precision: str = "float32") -> AnswerPointer:
    """The process-wide answer pointer for `spec` (loaded once, shared by every pipeline and thread)."""
    return shared("answer pointer", lambda s, d, p: AnswerPointer(s, d, BUNDLED_WEIGHTS, p), spec, device, precision)
