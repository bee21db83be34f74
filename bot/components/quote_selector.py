"""Scores every candidate sentence, fuses the signals and picks diverse quotes (best first)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from haystack import component, default_from_dict, default_to_dict

from bot.answer_check import CHECKED_QUOTES, load_answer_checker, read_until_settled
from bot.answer_text import LONG_WORDS, lead_span, window_span
from bot.components.embedder import torch_threads
from bot.dates import QuestionDates, question_dates
from bot.finetuned import disabled
from bot.pointer import AnswerPointer, RememberedReads, load_pointer
from bot.rerank import load_cross_scorer
from bot.scoring import (
    CHECK_TERMS,
    CHECKED,
    CROSS_WEIGHT,
    SCORES_ONLY,
    WEIGHTS,
    AnswerabilityModel,
    CandidatePool,
    QuoteDraft,
    SentenceCandidate,
    adjacent_gap,
    answerability,
    answerability_features,
    compute_features,
    fuse,
    normalise_text,
)
from bot.types import ArticleRef, Quote

from ._store_params import StoreUser

SHORT_WORDS = 6  # a sentence shorter than this is quoted together with a neighbour
# A sentence opening on a pronoun ("It became the first film to…") names its subject in the sentence before: quoted
# alone it cannot be understood (or checked), so the previous sentence comes along when adjacent.
_REFERS_BACK = re.compile(r"^(It|He|She|They|This|These|Those|His|Her|Their|Its)\b")
MAX_PAIR_WORDS = 50
# The answer pointer's re-ordering of the head (`QuoteSelector.point`): the first POINT_TOP_K candidates within
# POINT_WITHIN log-odds of the best, each moved by POINT_WEIGHT × its span mass. The weight was chosen on the
# tuning halves of SQuAD and the news dev set (docs/quality.md round 15). Since round 19 the pointer has also
# learned sentences without the answer, so its mass on them falls and a wider head pays. Since round 20 the head is
# read in one call, which makes four within 2.5 log-odds cost about what three within 3 read one by one did
# (four within 3 is over the 150 ms p95 budget; settings POINT_TOP_K / POINT_WITHIN; docs/quality.md round 20);
# since round 22 that call is two batches, side by side on the spare core (READ_PARTS).
POINT_TOP_K = 4
POINT_WITHIN = 2.5
POINT_WEIGHT = 0.5
# A later quote that says again what an earlier one said (the same story retold by another outlet, the same fact
# in other words) shows the reader nothing new: a candidate whose sentence vector is closer than REDUNDANT_ABOVE
# (cosine) to the sentence an earlier quote was chosen for loses REDUNDANCY log-odds per unit of cosine above it
# (maximal marginal relevance; counting both sentences of a two-sentence quote did no better). Chosen on the
# tuning halves of SQuAD and the news dev set (docs/quality.md round 18).
REDUNDANCY = 4.0
REDUNDANT_ABOVE = 0.4
# Quotes 2-3 are where a reader looks when the first quote does not answer. The pointer also reads the first
# LATER_POINT_K candidates within LATER_POINT_WITHIN log-odds of the best (the quote floor: further behind, the
# composer drops them anyway), with the head's reads, and each later pick gains LATER_POINT_WEIGHT × its span
# mass, so a sentence where the reader finds an answer comes before one that only retells the story. The first
# quote is unchanged. The numbers were chosen on the tuning halves of SQuAD and the news dev set; off by default:
# about six more reads cost +37 ms a news question on one thread, +31 ms in parts (news top3 0.575 -> 0.61 with
# 10; docs/quality.md rounds 21-22).
LATER_POINT_K = 0
LATER_POINT_WITHIN = 5.0
LATER_POINT_WEIGHT = 1.0
# A read of several sentences (the head, the later reads, the checker's quotes 2-3) is split into READ_PARTS
# batches of similar length, run on the spare core when no other question or reindex is running (bot/cores.py).
READ_PARTS = 2
LEAD_DRAFTS = 3  # drafts that get a lead (the first verified one is used; the composer has a fallback)


def _head(ranked: list[SentenceCandidate], top_k: int, within: float) -> list[SentenceCandidate]:
    """The first `top_k` of `ranked` (best first) within `within` log-odds of the best: the candidates a re-ordering
    reads (further behind they gained nothing on the tuning halves, and a clear winner costs no read)."""
    best = ranked[0].score
    return [c for c in ranked[:top_k] if c.score >= best - within]


def _reordered(
    ranked: list[SentenceCandidate], head: list[SentenceCandidate], key: Callable[[SentenceCandidate], float]
) -> list[SentenceCandidate]:
    """`ranked` with its `head` re-ordered by `key` (best first). The head takes over its own fused scores in the
    new order: quote floors, merges and the tail's distance to the head stay on the fused scale they were
    calibrated on."""
    slots = [c.score for c in head]  # best first
    head = sorted(head, key=key, reverse=True)
    for c, score in zip(head, slots, strict=True):
        c.score = score
    return head + ranked[len(slots) :]


@component
class QuoteSelector(StoreUser):
    """Ranks candidate sentences and returns quote drafts: never the same sentence text twice,
    preferring other articles for later quotes (`diversity` is the score handicap per quote already
    taken from the same article) and sentences that say something the quotes taken so far do not
    (`redundancy` log-odds per unit of cosine over `redundant_above` to the closest of them)."""

    def __init__(
        self,
        store_params: dict[str, Any],
        weights: dict[str, float] | None = None,
        diversity: float = 0.1,
        merge_close: float = 2.5,
        merge_margin: float = 5.0,
        reranker: str | None = None,
        rerank_top_k: int = 8,
        rerank_within: float = 4.0,
        cross_weight: float = CROSS_WEIGHT,
        answer_pointer: str | None = None,
        answer_check: str | None = None,
        decide_at: tuple[float, float] | None = None,
        device: str = "cpu",
        threads: int = 1,
        pointer_precision: str = "int8",
        point_top_k: int = POINT_TOP_K,
        point_within: float = POINT_WITHIN,
        point_weight: float = POINT_WEIGHT,
        redundancy: float = REDUNDANCY,
        redundant_above: float = REDUNDANT_ABOVE,
        later_point_k: int = LATER_POINT_K,
        later_point_within: float = LATER_POINT_WITHIN,
        later_point_weight: float = LATER_POINT_WEIGHT,
        read_parts: int = READ_PARTS,
    ) -> None:
        self.store_params = dict(store_params)
        self.weights = dict(weights or WEIGHTS)
        self.diversity = diversity
        self.merge_close = merge_close
        self.merge_margin = merge_margin
        self.reranker = None if disabled(reranker) else reranker
        self.rerank_top_k = rerank_top_k
        self.rerank_within = rerank_within
        self.cross_weight = cross_weight
        self.answer_pointer = None if disabled(answer_pointer) else answer_pointer
        self.answer_check = None if disabled(answer_check) else answer_check
        self.decide_at = tuple(decide_at) if decide_at else None  # (abstain, tentative): the composer's thresholds
        self.device = device
        self.threads = threads
        self.pointer_precision = pointer_precision
        self.point_top_k = point_top_k
        self.point_within = point_within
        self.point_weight = point_weight
        self.redundancy = redundancy
        self.redundant_above = redundant_above
        self.later_point_k = later_point_k
        self.later_point_within = later_point_within
        self.later_point_weight = later_point_weight
        self.read_parts = read_parts
        self._store = None
        self._cross = None
        self._pointer = None
        self._checker = None

    def parts(self) -> int:
        """How many batches a read of several sentences is split into (bot/cores.py): `read_parts` with one torch
        thread on the CPU; with more threads, or on a GPU, one batch uses the cores already."""
        return self.read_parts if self.threads == 1 and self.device == "cpu" else 1

    def warm_up(self) -> None:
        if self.reranker is not None and self._cross is None:
            self._cross = load_cross_scorer(self.reranker, self.device)
        if self.answer_pointer is not None and self._pointer is None:
            self._pointer = load_pointer(self.answer_pointer, self.device, self.pointer_precision)
        if self.answer_check is not None and self._checker is None:
            self._checker = load_answer_checker(self.answer_check, self.device)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            store_params=self.store_params,
            weights=self.weights,
            diversity=self.diversity,
            merge_close=self.merge_close,
            merge_margin=self.merge_margin,
            reranker=self.reranker,
            rerank_top_k=self.rerank_top_k,
            rerank_within=self.rerank_within,
            cross_weight=self.cross_weight,
            answer_pointer=self.answer_pointer,
            answer_check=self.answer_check,
            decide_at=self.decide_at,
            device=self.device,
            threads=self.threads,
            pointer_precision=self.pointer_precision,
            point_top_k=self.point_top_k,
            point_within=self.point_within,
            point_weight=self.point_weight,
            redundancy=self.redundancy,
            redundant_above=self.redundant_above,
            later_point_k=self.later_point_k,
            later_point_within=self.later_point_within,
            later_point_weight=self.later_point_weight,
            read_parts=self.read_parts,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuoteSelector:
        return default_from_dict(cls, data)

    def score(
        self,
        question: str,
        embedding: np.ndarray,
        pool: CandidatePool,
        context: str | None = None,
        as_of: str | None = None,
        dates: QuestionDates | None = None,
        reads: RememberedReads | None = None,
    ) -> list[SentenceCandidate]:
        """Candidates with features and fused scores, best first (`as_of`: the day the question is asked;
        `dates`: what the question says about time, when already read; `reads`: the question's pointer reads)."""
        stats = self.resources.corpus_stats()
        qvec = np.asarray(embedding, dtype=np.float32)
        title_cos = {aid: float(vec @ qvec) for aid, vec in pool.titles.items()}
        candidates = pool.candidates
        dates = dates or question_dates(f"{context} {question}" if context else question, as_of)
        feats = compute_features(question, qvec, candidates, title_cos, stats.idf, stats.avg_len, context, dates)
        fuse(candidates, feats, self.weights)
        ranked = self.rerank(question, sorted(candidates, key=lambda c: c.score, reverse=True))
        return self.point(question, ranked, reads)

    def rerank(self, question: str, ranked: list[SentenceCandidate]) -> list[SentenceCandidate]:
        """Re-order the head of `ranked` (best first) by fused score + `cross_weight` × the cross-encoder's logit
        (bot/rerank.py). The head is the first `rerank_top_k` candidates within `rerank_within` log-odds of the
        best (candidates further behind gained nothing on the tuning halves, and a clear winner costs no
        re-scoring). It then takes over its own fused scores in the new order: quote floors, merges and the
        tail's distance to the head stay on the fused scale they were calibrated on."""
        if self.reranker is None or not ranked:
            return ranked
        head = _head(ranked, self.rerank_top_k, self.rerank_within)
        if len(head) < 2:
            return ranked
        self.warm_up()
        with torch_threads(self.threads):
            logits = self._cross.scores(question, [c.text for c in head], self.parts())
        for c, z in zip(head, logits, strict=True):
            c.features["cross"] = float(z)
        return _reordered(ranked, head, lambda c: c.score + self.cross_weight * c.features["cross"])

    def point(
        self, question: str, ranked: list[SentenceCandidate], reads: RememberedReads | None = None
    ) -> list[SentenceCandidate]:
        """Re-order the head of `ranked` by fused score + `point_weight` × the answer pointer's span mass on each
        sentence (`SpanDistribution.log_mass`): of sentences about the question, the one where the reader finds
        an answer comes first. The head is the first `point_top_k` candidates within `point_within` log-odds
        of the best; the new order takes over the fused scores, as in `rerank` (docs/quality.md round 15).
        `reads` keeps each read for the lead of the first quote."""
        if self.point_top_k < 2 or self.answer_pointer is None or not ranked:
            return ranked
        head = _head(ranked, self.point_top_k, self.point_within)
        if len(head) < 2:
            return ranked
        self.warm_up()
        reader = reads or RememberedReads(self._pointer, self.parts())
        later: list[str] = []
        if reads is not None and self.later_point_k >= 2:
            # the later reads' sentences are the same after this re-ordering (the head keeps its scores): read
            # them in the head's call, in batches of their own, so the spare core shares both (`select` finds
            # them read) and the head's reads, which pick the first quote, are the same as without them
            later = [c.text for c in _head(ranked, self.later_point_k, self.later_point_within)]
        with torch_threads(self.threads):
            dists = reader.distributions(question, [c.text for c in head], then=later)
        for c, dist in zip(head, dists, strict=True):
            c.features["span"] = dist.log_mass if dist is not None else -1e3  # a sentence with no token: last
        return _reordered(ranked, head, lambda c: c.score + self.point_weight * c.features["span"])

    @component.output_types(
        drafts=list[QuoteDraft],
        confidence=float,
        evidence=dict[str, float],
        closest=list[ArticleRef],
        dates=QuestionDates,
    )
    def run(
        self,
        question: str,
        embedding: np.ndarray,
        pool: CandidatePool,
        limit: int = 12,
        context: str | None = None,
        as_of: str | None = None,
    ) -> dict[str, Any]:
        """Rank `pool` for `question` (`context`: an earlier question, for follow-ups; `as_of`: the ISO date
        the question is asked, default today)."""
        dates = question_dates(f"{context} {question}" if context else question, as_of)
        self.warm_up()
        reads = RememberedReads(self._pointer, self.parts()) if self._pointer is not None else None  # read once
        ranked = self.score(question, embedding, pool, context, as_of, dates, reads)
        stats = self.resources.corpus_stats()
        drafts = self.select(ranked, limit, question=question, weight=stats.idf, reads=reads)
        closest: list[ArticleRef] = []
        for c in ranked:
            if all(ref.article_id != c.article_id for ref in closest):
                closest.append(
                    ArticleRef(c.article_id, c.title, c.url, c.source, c.published, score=round(c.confidence, 4))
                )
            if len(closest) == 3:
                break
        # the abstain decision's score: the calibrated answerability of the question (bot.scoring)
        evidence = answerability_features(question, ranked, stats.df, stats.idf, context) if drafts else {}
        model = CHECKED if self.answer_check is not None else SCORES_ONLY
        if evidence and self.answer_check is not None:
            # the checker was calibrated on the quotes of the fused order: the later reads change which quotes
            # 2-3 are shown, never whether the bot answers (they made it answer more off-collection questions)
            if self.later_point_k >= 2 and reads is not None:
                drafts_read = self.select(ranked, CHECKED_QUOTES, question, stats.idf, reads, later=False)
            else:
                drafts_read = drafts
            evidence |= self.check(question, drafts_read, model.logit(evidence, skip=CHECK_TERMS), model)
        confidence = answerability(evidence, model)
        return {"drafts": drafts, "confidence": confidence, "evidence": evidence, "closest": closest, "dates": dates}

    def check(self, question: str, drafts: list[QuoteDraft], base: float, model: AnswerabilityModel) -> dict:
        """The answer checker's evidence (bot/answer_check.py) on the first quotes a reader sees, read only while
        it can change the decision (`base`: the model's log-odds without it)."""
        abstain, tentative = self.decide_at or (model.abstain, model.tentative)
        cuts = tuple(math.log(p / (1 - p)) for p in (abstain, tentative) if 0 < p < 1)
        self.warm_up()

        def score(batch: list[str]) -> list[float]:
            with torch_threads(self.threads):
                return self._checker.scores(question, batch, self.parts()).tolist()

        texts = [d.quote.text for d in drafts[:CHECKED_QUOTES]]
        return read_until_settled(score, texts, base, model.weights, cuts)

    def select(
        self,
        ranked: list[SentenceCandidate],
        limit: int,
        question: str = "",
        weight=None,
        reads: RememberedReads | None = None,
        later: bool = True,
    ) -> list[QuoteDraft]:
        """Up to `limit` quote drafts from scored candidates (`ranked`: best first), greedily; with the
        `question` each draft also gets its lead and, when long, its shown window (`weight`: term IDF;
        `reads`: the pointer's reads of this question so far, reused for the lead; `later`: weigh the
        pointer's reads in the picks after the first, when `later_point_k` asks for it)."""
        by_key = {(c.article_id, c.start): c for c in ranked}
        drafts: list[QuoteDraft] = []
        seen: set[str] = set()
        used: dict[str, int] = {}
        pool = ranked[: max(limit * 4, 24)]
        if not pool:
            return drafts
        units = _unit_rows([c.vector for c in pool])
        near = np.zeros(len(pool))  # each candidate's highest cosine to the sentence of a quote already taken
        masses = self._later_masses(question, pool, reads) if later and limit > 1 else np.zeros(len(pool))

        def worth(i: int) -> float:
            c = pool[i]
            repeats = self.redundancy * max(0.0, float(near[i]) - self.redundant_above)
            found = self.later_point_weight * float(masses[i]) if drafts else 0.0  # the first pick stays
            return c.score - self.diversity * used.get(c.article_id, 0) - repeats + found

        remaining = list(range(len(pool)))
        while remaining and len(drafts) < limit:
            i = max(remaining, key=worth)
            remaining.remove(i)
            best = pool[i]
            key = normalise_text(best.text)
            if not key or key in seen:
                continue
            pair = self._pair(best, by_key)
            if pair is not None and any(normalise_text(x.text) in seen for x in pair):
                pair = None
            for sentence in pair or (best,):
                seen.add(normalise_text(sentence.text))
            used[best.article_id] = used.get(best.article_id, 0) + 1
            near = np.maximum(near, units @ units[i])
            # the lead only matters for the first verified quote: the first few drafts get one
            # the pointer reads only the first draft (the others lead only if it fails verification, which is rare)
            pointer = self._lead_pointer(not drafts, reads)
            with torch_threads(self.threads if pointer is not None else 0):  # as the reranker: no contention
                drafts.append(self._draft(best, pair, question, weight, len(drafts) < LEAD_DRAFTS, pointer))
        return drafts

    def _later_masses(self, question: str, pool: list[SentenceCandidate], reads: RememberedReads | None) -> np.ndarray:
        """Per candidate of `pool` (best first), the pointer's span mass for the picks after the first: read for
        the first `later_point_k` within `later_point_within` log-odds of the best (mostly in the head's call, by
        `point`; what is left in one call here), measured from the lowest mass read, so a candidate not read
        counts as the weakest one read and only its fused score ranks it."""
        masses = np.zeros(len(pool))
        if self.later_point_k < 2 or reads is None or not question or len(pool) < 2:
            return masses
        read = _head(pool, self.later_point_k, self.later_point_within)  # best first: the first len(read) of pool
        if len(read) < 2:
            return masses
        with torch_threads(self.threads):
            dists = reads.distributions(question, [c.text for c in read])
        found = {i: d.log_mass for i, d in enumerate(dists) if d is not None}
        if not found:
            return masses
        floor = min(found.values())
        for i, mass in found.items():
            masses[i] = mass - floor
        return masses

    def _pair(
        self, c: SentenceCandidate, by_key: dict[tuple[str, int], SentenceCandidate]
    ) -> tuple[SentenceCandidate, SentenceCandidate] | None:
        """The two adjacent sentences to quote together, or None to quote `c` alone.

        Two sentences are quoted when `c` or its neighbour is a fragment, when `c` opens on a pronoun
        (`_REFERS_BACK`: the sentence before names its subject), when the neighbour scores within
        `merge_close` of `c` (scores are log-odds: a neighbour nearly as likely to hold the answer comes
        along), or when `c` restates the question without the kind of answer it asks for (a date, a
        number, a name) and its neighbour holds one and scores within `merge_margin`; the pair must stay
        under MAX_PAIR_WORDS words.
        """
        prev = by_key.get((c.article_id, c.prev_start)) if c.prev_start is not None else None
        nxt = by_key.get((c.article_id, c.next_start)) if c.next_start is not None else None
        options = []
        for first, second in ((c, nxt), (prev, c)):
            if first is None or second is None or not _adjacent(first):
                continue
            if len(first.text.split()) + len(second.text.split()) > MAX_PAIR_WORDS:
                continue
            other = second if first is c else first
            if len(c.text.split()) < SHORT_WORDS or len(other.text.split()) < SHORT_WORDS:
                options.append((1, other.score, first, second))  # a fragment always comes with a neighbour
            elif second is c and _REFERS_BACK.match(c.text):
                options.append((1, other.score, first, second))  # "It …": with the sentence that says what "it" is
            elif other.score >= c.score - self.merge_close or (
                c.features.get("type_miss")
                and other.features.get("type_match")
                and other.score >= c.score - self.merge_margin
            ):
                options.append((0, other.score, first, second))
        if not options:
            return None
        _, _, first, second = max(options, key=lambda o: o[:2])
        return first, second

    def _lead_pointer(
        self, wanted: bool, reads: RememberedReads | None = None
    ) -> AnswerPointer | RememberedReads | None:
        """The answer pointer (through the question's `reads`, when given) when `wanted` and configured (loaded
        at the first use when not warmed up)."""
        if not wanted or self.answer_pointer is None:
            return None
        self.warm_up()
        return reads or self._pointer

    @staticmethod
    def _draft(
        c: SentenceCandidate,
        pair: tuple[SentenceCandidate, SentenceCandidate] | None,
        question: str = "",
        weight=None,
        with_lead: bool = True,
        pointer: AnswerPointer | RememberedReads | None = None,
    ) -> QuoteDraft:
        text, start, end = c.text, c.start, c.end
        sentences: list[tuple[int, int]] = [(0, len(text))]
        chosen: int | None = 0
        if pair is not None:
            first, second = pair
            text, start, end = first.text + str(first.gap_after) + second.text, first.start, second.end
            sentences = [(0, len(first.text)), (len(text) - len(second.text), len(text))]
            chosen = None  # the lead's piece model weighs both sentences (better than their fused scores)
        lead, window = None, None
        if question and not with_lead:
            window = window_span(question, text, weight=weight)
        elif question:
            lead = lead_span(question, text, sentences, chosen, weight, pointer=pointer)
            if len(text[lead[0] : lead[1]].split()) > LONG_WORDS:
                window = window_span(question, text, weight=weight)
                lead = window or lead
            else:
                window = window_span(question, text, keep=lead, weight=weight)
        quote = Quote(
            text=text,
            article_id=c.article_id,
            title=c.title,
            url=c.url,
            source=c.source,
            published=c.published,
            start=start,
            end=end,
            score=round(c.score, 4),
            window=window,
        )
        return QuoteDraft(quote=quote, content_hash=c.content_hash, confidence=c.confidence, lead=lead)


def _unit_rows(vectors: list[np.ndarray]) -> np.ndarray:
    """`vectors` (at least one, of one store) as unit-length rows; a zero vector stays zero."""
    rows = np.stack(vectors).astype(np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _adjacent(first: SentenceCandidate) -> bool:
    """Is the next sentence adjacent in the source? (`bot.scoring.adjacent_gap`)"""
    return adjacent_gap(first.gap_after)
