"""Checks every quote is a verbatim substring of the stored article text at its span; drops the rest."""

from __future__ import annotations

import logging
from typing import Any

from haystack import component, default_from_dict, default_to_dict

from bot.scoring import QuoteDraft, adjacent_gap
from bot.types import Quote

from ._store_params import StoreUser

log = logging.getLogger(__name__)


@component
class QuoteVerifier(StoreUser):
    """Keeps the first `top_k` verified quotes as `quotes` and the next `more` as `more_quotes`; `adjacent` says,
    for each of them in that order, whether it sits right next to the first quote in the same article; `articles`
    holds the stored texts of their articles (the composer checks they name what the question names)."""

    def __init__(self, store_params: dict[str, Any]) -> None:
        self.store_params = dict(store_params)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, store_params=self.store_params)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuoteVerifier:
        return default_from_dict(cls, data)

    @component.output_types(
        quotes=list[Quote],
        more_quotes=list[Quote],
        lead=tuple[int, int] | None,
        adjacent=list[bool],
        articles=dict[str, str],
    )
    def run(self, drafts: list[QuoteDraft], top_k: int = 3, more: int = 6) -> dict[str, Any]:
        """The verified quotes, and where the lead lies in the first of them (see bot/answer_text.py)."""
        wanted = top_k + more
        texts = self.resources.article_texts({d.quote.article_id: d.content_hash for d in drafts[: wanted + 3]})
        verified: list[Quote] = []
        lead = None
        for draft in drafts:
            if len(verified) >= wanted:
                break
            q = draft.quote
            text = texts.get(q.article_id)
            if text is None or not q.text or text[q.start : q.end] != q.text:
                log.warning(
                    "dropping a quote that is not verbatim at its span: %s [%d:%d]", q.article_id, q.start, q.end
                )
                continue
            if not verified:
                lead = draft.lead
            verified.append(q)
        adjacent = [i > 0 and next_to(texts, verified[0], q) for i, q in enumerate(verified)]
        articles = {q.article_id: texts[q.article_id] for q in verified}
        return {
            "quotes": verified[:top_k],
            "more_quotes": verified[top_k:],
            "lead": lead,
            "adjacent": adjacent,
            "articles": articles,
        }


def next_to(texts: dict[str, str], a: Quote, b: Quote) -> bool:
    """Do quotes `a` and `b` sit side by side in one article, with only whitespace (no dropped line) between?"""
    if a.article_id != b.article_id:
        return False
    text = texts[a.article_id]
    if a.end <= b.start:
        return adjacent_gap(text[a.end : b.start])
    if b.end <= a.start:
        return adjacent_gap(text[b.end : a.start])
    return False
