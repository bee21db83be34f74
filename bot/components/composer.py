"""Builds the Answer: the lead of the best quote, or an honest abstention with the closest articles."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict

from bot.answer_text import ABSTAIN_TEXT, extractive_answer
from bot.dates import QuestionDates, predates
from bot.numbered import unmatched
from bot.scoring import (
    DEFAULT_ABSTAIN_THRESHOLD,
    DEFAULT_NEIGHBOUR_FLOOR,
    DEFAULT_QUOTE_FLOOR,
    DEFAULT_TENTATIVE_THRESHOLD,
)
from bot.types import Answer, ArticleRef, Quote


@component
class AnswerComposer:
    """Abstains when the question's answerability (`bot.scoring.answerability`, 0-1, computed by the selector
    and passed in as `confidence`) is under `abstain_threshold` (None: the scores-only model's calibrated default;
    `bot.pipeline.composer_for` passes the thresholds of the model in use), and marks the answer
    `tentative` when it is under `tentative_threshold` (same default rule): weak evidence is shown as the closest
    passages, not as an answer; so is an answer whose first quote's article predates the time the question asks
    about (`dates`, from the selector: `bot.dates.predates`). It also declines when the first quote's article
    (title or text, from the verifier's `articles`) never mentions a numbered name or the year of the question
    ("Super Bowl 50" answered from Super Bowl LVII coverage; bot/numbered.py) and says which in
    `Answer.unmatched`; a later quote whose article never mentions them is not shown. Later quotes
    (2-3 and "More quotes") are kept only when their score is within `quote_floor` (log-odds) of the first's, or
    within `neighbour_floor` when they sit right next to the first quote in its article (the verifier's
    `adjacent`, in `quotes + more_quotes` order); a kept "More quotes" one moves up when a quote before it is cut."""

    def __init__(
        self,
        abstain_threshold: float | None = None,
        quote_floor: float = DEFAULT_QUOTE_FLOOR,
        neighbour_floor: float = DEFAULT_NEIGHBOUR_FLOOR,
        tentative_threshold: float | None = None,
    ) -> None:
        self.abstain_threshold = abstain_threshold
        self.tentative_threshold = tentative_threshold
        self.quote_floor = quote_floor
        self.neighbour_floor = neighbour_floor

    @property
    def threshold(self) -> float:
        return DEFAULT_ABSTAIN_THRESHOLD if self.abstain_threshold is None else self.abstain_threshold

    @property
    def tentative_below(self) -> float:
        return DEFAULT_TENTATIVE_THRESHOLD if self.tentative_threshold is None else self.tentative_threshold

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            abstain_threshold=self.abstain_threshold,
            quote_floor=self.quote_floor,
            neighbour_floor=self.neighbour_floor,
            tentative_threshold=self.tentative_threshold,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerComposer:
        return default_from_dict(cls, data)

    @component.output_types(answer=Answer)
    def run(
        self,
        question: str,
        quotes: list[Quote],
        more_quotes: list[Quote],
        confidence: float,
        closest: list[ArticleRef],
        lead: tuple[int, int] | None = None,
        adjacent: list[bool] | None = None,
        dates: QuestionDates | None = None,
        articles: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if not quotes or confidence < self.threshold:
            return {"answer": Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, closest=closest)}
        first = quotes[0]
        texts, lacking = articles or {}, {}

        def missing(quote: Quote) -> list[str]:
            """The question's numbered names and year that the quote's article never mentions (once per article)."""
            if quote.article_id not in lacking:
                text = f"{quote.title}\n{texts.get(quote.article_id, quote.text)}"
                lacking[quote.article_id] = unmatched(question, text, quote.published)
            return lacking[quote.article_id]

        if missing(first):  # the quotes are about another member of the series the question names
            answer = Answer(
                question=question, answer=ABSTAIN_TEXT, abstained=True, closest=closest, unmatched=missing(first)
            )
            return {"answer": answer}
        # later quotes that clear their floor and whose articles name what the question names, in rank order; one
        # kept from "More quotes" moves up into the first `len(quotes)` when a quote before it was cut
        later = quotes[1:] + more_quotes
        near = list(adjacent or [])[1 : 1 + len(later)]
        near += [False] * (len(later) - len(near))
        kept = [first] + [
            q
            for q, beside in zip(later, near, strict=True)
            if q.score >= first.score - (self.neighbour_floor if beside else self.quote_floor) and not missing(q)
        ]
        quotes, more_quotes = kept[: len(quotes)], kept[len(quotes) :]
        if lead is None or not (0 <= lead[0] < lead[1] <= len(first.text)):
            text = extractive_answer(question, first.text)
            start = first.text.find(text)
            lead = (start, start + len(text))
        dated = predates(first.published, dates)
        answer = Answer(
            question=question,
            answer=first.text[lead[0] : lead[1]],
            abstained=False,
            quotes=quotes,
            more_quotes=more_quotes,
            lead=lead,
            tentative=dated or confidence < self.tentative_below,
            dated=dated,
        )
        return {"answer": answer}
