"""Checks every quote is a verbatim substring of the stored article text at its span; drops the rest."""

from __future__ import annotations

import logging
from typing import Any

from haystack import component, default_from_dict, default_to_dict

from bot.scoring import QuoteDraft
from bot.types import Quote

from ._store_params import StoreUser

log = logging.getLogger(__name__)


@component
class QuoteVerifier(StoreUser):
    """Keeps the first `top_k` verified quotes as `quotes` and the next `more` as `more_quotes`."""

    def __init__(self, store_params: dict[str, Any]) -> None:
        self.store_params = dict(store_params)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, store_params=self.store_params)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuoteVerifier:
        return default_from_dict(cls, data)

    @component.output_types(quotes=list[Quote], more_quotes=list[Quote])
    def run(self, drafts: list[QuoteDraft], top_k: int = 3, more: int = 6) -> dict[str, Any]:
        wanted = top_k + more
        texts = self.resources.article_texts({d.quote.article_id: d.content_hash for d in drafts[: wanted + 3]})
        verified: list[Quote] = []
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
            verified.append(q)
        return {"quotes": verified[:top_k], "more_quotes": verified[top_k:]}
