"""The question as a sparse BM25 query vector (same tokenizer as the index)."""

from __future__ import annotations

from typing import Any

from haystack import component

from bot.lexicon import expand_query
from indexing.sparse import query_vector, tokenize


@component
class SparseQuery:
    """Tokenises the question into the `bm25` query vector and its stemmed terms; with `expand`, irregular
    forms are added ("meet" also looks for "met", see bot/lexicon.py)."""

    def __init__(self, expand: bool = True) -> None:
        self.expand = expand

    @component.output_types(indices=list[int], values=list[float], terms=list[str])
    def run(self, text: str) -> dict[str, Any]:
        terms = sorted(set(tokenize(text)))
        indices, values = expand_query(terms) if self.expand else query_vector(text)
        return {"indices": indices, "values": values, "terms": terms}
