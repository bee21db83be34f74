"""Does any of the first quotes answer the question at all? A cross-encoder reads each with the question.

The dense and lexical scores say how much a sentence shares with the question, and a question the collection
cannot answer still finds sentences that share its words ("Who won the 2018 World Cup?" meets a sentence about
another cup). The reranker (bot/rerank.py) was trained to tell the answering sentence from the others of the
right article, so it knows which sentence answers, not whether any does. The answer checker is that model
trained further with the negatives an off-collection question meets: the first quotes the pipeline finds for a
SQuAD question in collections that cannot answer it (the other SQuAD half and the news dev collection;
benchmarks/train_answer_check.py, docs/quality.md round 9). Its best and first logits join the answerability
model (bot/scoring.py), which decides whether to decline.

"bundled" ships as 11 MB of fp16 tensors (bot/models/) laid over the bundled embedding model; ANSWER_CHECK may
name another sequence-classification model with one output, though the answerability weights were fitted for
the bundled one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.finetuned import shared
from bot.rerank import CrossScorer

CHECK_WEIGHTS = Path(__file__).resolve().parent / "models" / "minilm-l6-answer-check-top3.safetensors"
CHECKED_QUOTES = 3  # the quotes a reader sees first: the ones that must answer
LOGIT_RANGE = (-5.0, 5.0)  # the checker's logits are kept to this range (observed: -4.3 to 4.6), so they are bounded


def load_answer_checker(spec: str, device: str = "cpu", precision: str = "float32") -> CrossScorer:
    """The process-wide answer checker for `spec` (loaded once, shared by every pipeline and thread).

    The pipeline keeps it float32: with int8 weights it let 0.5-3.4 points more off-collection questions through
    (docs/quality.md, round 12), and declining is what it is for."""
    return shared("answer check", lambda s, d, p: CrossScorer(s, d, CHECK_WEIGHTS, p), spec, device, precision)


def check_features(logits: list[float]) -> dict[str, float]:
    """Answerability evidence from the checker's logits for the first quotes (in order): the best one and the
    first one (the quote shown first), each kept to LOGIT_RANGE."""
    if not logits:
        return {}
    kept = [bounded(z) for z in logits]
    return {"check_best": max(kept), "check_first": kept[0]}


def bounded(logit: float) -> float:
    """`logit` kept to LOGIT_RANGE."""
    return min(max(float(logit), LOGIT_RANGE[0]), LOGIT_RANGE[1])


def read_until_settled(
    score: Callable[[list[str]], list[float]],
    texts: list[str],
    base: float,
    weights: dict[str, float],
    cuts: tuple[float, ...],
) -> dict[str, float]:
    """The checker's evidence, reading the quotes only while they can still change the decision.

    `base` is the answerability model's log-odds without the checker's terms, `weights` its weights and `cuts`
    the decision thresholds in log-odds (abstain, tentative); `score` gives the checker's logits of a batch of
    texts. The checker's terms are bounded (LOGIT_RANGE), so once the lowest and the highest log-odds the unread
    quotes allow fall between the same cuts, the decision is made: most answerable questions need one quote or
    none, which keeps the checker's ~19 ms per quote off the common path. The first quote is read alone; when it
    does not settle the decision the rest almost always must be read (news dev: 11 questions of 12; SQuAD
    questions asked of the news store: 118 of 126), so they are read in one batch (two quotes: 30 ms instead of
    38; docs/quality.md round 12). The returned features are the lower bounds where quotes were left unread (the
    decision they give is the one every reading would give); `check_read` says how many quotes were read."""
    lo, hi = LOGIT_RANGE
    w_best, w_first = weights.get("check_best", 0.0), weights.get("check_first", 0.0)
    read: list[float] = []
    while True:
        best_lo = max(read, default=lo)
        first_lo, first_hi = (read[0], read[0]) if read else (lo, hi)
        z_lo = base + w_best * best_lo + w_first * first_lo  # the weights are >= 0 (fit_quality.py keeps the signs)
        z_hi = base + w_best * hi + w_first * first_hi
        settled = sum(z_lo >= c for c in cuts) == sum(z_hi >= c for c in cuts)
        if settled or len(read) == len(texts):
            break
        batch = texts[len(read) : len(read) + 1] if not read else texts[len(read) :]
        read.extend(bounded(z) for z in score(batch))
    return {"check_best": max(read, default=lo), "check_first": read[0] if read else lo, "check_read": len(read)}
