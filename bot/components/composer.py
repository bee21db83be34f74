"""Builds the Answer: extractive text from the best quote, or an honest abstention with the closest articles."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict

from bot.answer_text import ABSTAIN_TEXT, extractive_answer
from bot.scoring import DEFAULT_ABSTAIN_THRESHOLD
from bot.types import Answer, ArticleRef, Quote


@component
class AnswerComposer:
    """Abstains when the question's answerability (`bot.scoring.answerability`, 0-1, computed by the selector
    and passed in as `confidence`) is under `abstain_threshold` (None: the calibrated default)."""

    def __init__(self, abstain_threshold: float | None = None) -> None:
        self.abstain_threshold = abstain_threshold

    @property
    def threshold(self) -> float:
        return DEFAULT_ABSTAIN_THRESHOLD if self.abstain_threshold is None else self.abstain_threshold

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, abstain_threshold=self.abstain_threshold)

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
    ) -> dict[str, Any]:
        if not quotes or confidence < self.threshold:
            return {"answer": Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, closest=closest)}
        text = extractive_answer(question, quotes[0].text)
        return {
            "answer": Answer(question=question, answer=text, abstained=False, quotes=quotes, more_quotes=more_quotes)
        }
