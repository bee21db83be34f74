"""The answer pipeline: the public entry point used by the Telegram front end, the command line and tests.

    question ─┬─ embedder ──────┬─ retriever ── selector ── verifier ── composer ── generator ─ Answer
              └─ sparse ────────┘   (Qdrant: dense + bm25 chunks, with sentence and title vectors)

`build_pipeline` returns a Haystack `Pipeline` that can be dumped to YAML (`pipeline.dumps()`) and loaded
back with `load_pipeline` (our components live in `bot.*`, which the loader adds to Haystack's
deserialization allowlist). The store and its caches are run-time resources the pipeline owns: one
`StoreResources` (bot/components/resources.py) handed to every component that reads the store; the
model is loaded from the serialised settings on first use.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from datetime import date
from typing import Any

from haystack import Pipeline

from bot.absent import absent_words
from bot.answer_text import CONTENTLESS_HINT, is_contentless
from bot.components._store_params import StoreUser, store_params
from bot.components.composer import AnswerComposer
from bot.components.embedder import QuestionEmbedder
from bot.components.generator import QuoteAnswerGenerator
from bot.components.quote_selector import QuoteSelector
from bot.components.quote_verifier import QuoteVerifier
from bot.components.resources import StoreResources
from bot.components.retriever import HybridRetriever
from bot.cores import CORES
from bot.dates import parse_day
from bot.finetuned import disabled
from bot.scoring import CHECKED, SCORES_ONLY
from bot.spelling import respell
from bot.types import Answer, ArticleRef, EmptyCollectionError, Passage, QuestionError
from indexing.embedding import Embedder
from indexing.settings import Settings
from indexing.store import Store

log = logging.getLogger(__name__)

ALLOWED_MODULES = ["bot.*"]
MORE_QUOTES = 6
ARTICLE_LIST_FIELDS = ("article_id", "title", "url", "source", "published", "origin", "also_at")
EMPTY_MESSAGE = "No articles are indexed yet. Add articles and run `python -m indexing` (or /reindex in the bot)."


def build_pipeline(
    settings: Settings,
    store: Store | None = None,
    embedder: Embedder | None = None,
    *,
    dense_top_k: int = 24,
    sparse_top_k: int = 24,
    weights: dict[str, float] | None = None,
    resources: StoreResources | None = None,
) -> Pipeline:
    """The answer pipeline for `settings`; `store` / `embedder` are reused when given, and `resources`
    (the store and its caches) shared by the components (made here from `store`/`settings` if not given)."""
    params = store_params(settings)
    question_embedder = QuestionEmbedder(
        model=embedder.model_name if embedder is not None else settings.embedding_model,
        device=settings.embedding_device,
        threads=settings.question_threads,
    )
    if embedder is not None:
        question_embedder._model = embedder.model
    from bot.components.sparse_query import SparseQuery

    pipeline = Pipeline()
    pipeline.add_component("embedder", question_embedder)
    pipeline.add_component("sparse", SparseQuery())
    pipeline.add_component("retriever", HybridRetriever(params, dense_top_k=dense_top_k, sparse_top_k=sparse_top_k))
    pipeline.add_component(
        "selector",
        QuoteSelector(
            params,
            weights=weights,
            reranker=settings.reranker,
            rerank_top_k=settings.rerank_top_k,
            answer_pointer=settings.answer_pointer,
            answer_check=settings.answer_check,
            decide_at=decline_thresholds(settings),
            device=settings.embedding_device,
            threads=settings.question_threads,
            pointer_precision=settings.pointer_precision,
            point_top_k=settings.point_top_k,
            point_within=settings.point_within,
            later_point_k=settings.later_point_k,
            later_point_within=settings.later_point_within,
            later_point_weight=settings.later_point_weight,
            read_parts=settings.read_parts,
            redundancy=settings.redundancy,
            redundant_above=settings.redundant_above,
        ),
    )
    pipeline.add_component("verifier", QuoteVerifier(params))
    pipeline.add_component("composer", composer_for(settings))
    pipeline.add_component(
        "generator",
        QuoteAnswerGenerator(base_url=settings.llm_base_url, model=settings.llm_model, timeout=settings.llm_timeout),
    )
    pipeline.connect("embedder.embedding", "retriever.embedding")
    pipeline.connect("embedder.embedding", "selector.embedding")
    pipeline.connect("sparse.indices", "retriever.sparse_indices")
    pipeline.connect("sparse.values", "retriever.sparse_values")
    pipeline.connect("retriever.pool", "selector.pool")
    pipeline.connect("selector.drafts", "verifier.drafts")
    pipeline.connect("selector.confidence", "composer.confidence")
    pipeline.connect("selector.closest", "composer.closest")
    pipeline.connect("selector.dates", "composer.dates")
    pipeline.connect("verifier.quotes", "composer.quotes")
    pipeline.connect("verifier.more_quotes", "composer.more_quotes")
    pipeline.connect("verifier.lead", "composer.lead")
    pipeline.connect("verifier.adjacent", "composer.adjacent")
    pipeline.connect("verifier.articles", "composer.articles")
    pipeline.connect("composer.answer", "generator.answer")
    share_resources(pipeline, resources or StoreResources(settings, store))
    return pipeline


def decline_thresholds(settings: Settings) -> tuple[float, float]:
    """(abstain, tentative) of the answerability model in use (ANSWER_CHECK on or off), unless
    ABSTAIN_THRESHOLD / TENTATIVE_THRESHOLD say otherwise."""
    model = SCORES_ONLY if disabled(settings.answer_check) else CHECKED
    abstain, tentative = settings.abstain_threshold, settings.tentative_threshold
    return (model.abstain if abstain is None else abstain, model.tentative if tentative is None else tentative)


def composer_for(settings: Settings) -> AnswerComposer:
    """The composer with the decline thresholds of `decline_thresholds`."""
    abstain, tentative = decline_thresholds(settings)
    return AnswerComposer(abstain, tentative_threshold=tentative)


def newest_words(text: str, limit: int) -> str:
    """The end of `text` (whitespace-normalised) in at most `limit` characters, cut at a word: a follow-up's
    thread keeps its newest questions."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    tail = words[len(words) - limit :]
    return tail.split(" ", 1)[1] if " " in tail and not words[len(words) - limit - 1].isspace() else tail.lstrip()


def share_resources(pipeline: Pipeline, resources: StoreResources | None = None) -> StoreResources | None:
    """Hand one `StoreResources` to every component of `pipeline` that reads the store; without one,
    make it from the first such component's `store_params`. Returns the resources shared (None when no
    component reads the store)."""
    users = [instance for _, instance in pipeline.walk() if isinstance(instance, StoreUser)]
    if not users:
        return resources
    resources = resources or StoreResources.from_params(users[0].store_params)
    for instance in users:
        instance.use_resources(resources)
    return resources


def load_pipeline(text: str, resources: StoreResources | None = None) -> Pipeline:
    """Load a pipeline dumped with `pipeline.dumps()` (our `bot.*` modules are allowed).

    Its components share `resources` when given (e.g. the running answerer's: an embedded store can be
    open once per process), else one `StoreResources` that opens the store on first use."""
    pipeline = Pipeline.loads(text, allowed_modules=ALLOWED_MODULES)
    share_resources(pipeline, resources)
    return pipeline


def pipeline_inputs(
    question: str,
    *,
    original: str | None = None,
    context: str | None = None,
    filters: dict[str, str | None] | None = None,
    top_k: int = 3,
    as_of: str | None = None,
) -> dict[str, Any]:
    """The `Pipeline.run` input for one question. For a follow-up, `question` is the retrieval query (earlier
    question + this one), `original` the question as asked and `context` the earlier question; `as_of` the
    ISO date it is asked (default today: "this week", recency)."""
    selector = {"question": original or question, "context": context, "limit": top_k + MORE_QUOTES + 3}
    return {
        "embedder": {"text": question},
        "sparse": {"text": question},
        "retriever": {"filters": filters},
        "selector": selector | ({"as_of": as_of} if as_of else {}),
        "verifier": {"top_k": top_k, "more": MORE_QUOTES},
        "composer": {"question": original or question},
    }


class QuestionAnswerer:
    """Answers questions over the indexed articles with verbatim quotes (one pipeline, reused)."""

    def __init__(self, settings: Settings, store: Store | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._owns_store = store is None
        self.store = store if store is not None else Store.open(settings)
        self.resources = StoreResources(settings, self.store)
        self.pipeline = build_pipeline(settings, self.store, embedder, resources=self.resources)
        self.pipeline.warm_up()
        self._has_articles = False

    @staticmethod
    def validate_text(question: str | None, limit: int) -> str:
        """The question, NFC- and whitespace-normalised like article texts; raises QuestionError when empty or
        longer than `limit`."""
        text = " ".join(unicodedata.normalize("NFC", question or "").split())
        if not text:
            raise QuestionError("Please ask a question, e.g. “Who met the army chief?”")
        if len(text) > limit:
            raise QuestionError(f"That question is too long ({len(text)} characters); please keep it under {limit}.")
        return text

    def validate(self, question: str) -> str:
        """`validate_text` with this answerer's MAX_QUESTION_CHARS."""
        return self.validate_text(question, self.settings.max_question_chars)

    def check_collection(self) -> None:
        """Raise EmptyCollectionError when nothing is indexed (cached once articles are seen)."""
        if self._has_articles:
            return
        if not self.store.exists() or self.store.count_articles() == 0:
            raise EmptyCollectionError(EMPTY_MESSAGE)
        self._has_articles = True

    def ask(
        self,
        question: str,
        *,
        context: str | None = None,
        article_id: str | None = None,
        source: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        top_k: int = 3,
        as_of: str | date | None = None,
    ) -> Answer:
        """Answer `question` (with an earlier question as `context` for follow-ups), optionally filtered;
        `as_of` replays it on that day ("this week", recency; default today)."""
        started = time.perf_counter()
        text = self.validate(question)
        earlier = newest_words(context, self.settings.max_question_chars) if context and context.strip() else None
        if is_contentless(text):
            if earlier is None:
                raise QuestionError(CONTENTLESS_HINT)
            text, earlier = earlier, None  # "tell me more" after a question: that question again
        day = parse_day(as_of)
        if as_of and day is None:
            raise QuestionError(f"Not a date: {as_of!r} (use YYYY-MM-DD).")
        self.check_collection()
        query = f"{earlier} {text}" if earlier else text
        filters = {"article_id": article_id, "source": source, "date_from": date_from, "date_to": date_to}
        filters = {k: v for k, v in filters.items() if v} or None
        as_of_text = day.isoformat() if day else None
        result = self.run_raw(query, original=text, context=earlier, filters=filters, top_k=top_k, as_of=as_of_text)
        answer: Answer = result["generator"]["answer"]
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return answer

    def run_raw(
        self,
        query: str,
        *,
        original: str | None = None,
        context: str | None = None,
        filters: dict[str, str | None] | None = None,
        top_k: int = 3,
        include_outputs_from: set[str] | None = None,
        as_of: str | None = None,
    ) -> dict[str, Any]:
        """Run the pipeline on an already validated query; the raw outputs (for benchmarks and debugging). A
        declined question with words the collection never uses is asked again as respelled (bot/spelling.py);
        when that one is answered, the decline suggests it (`Answer.did_you_mean`): the question as written is
        still declined, so an unknown name is never silently read as another one. `Answer.absent` names the
        question's words that no article uses (bot/absent.py)."""
        inputs = pipeline_inputs(
            query, original=original, context=context, filters=filters, top_k=max(1, top_k), as_of=as_of
        )
        with CORES.busy():  # this question's thread holds a core: other questions' reads do not take it
            result = self.pipeline.run(inputs, include_outputs_from=include_outputs_from)
            answer: Answer = result["generator"]["answer"]
            stats = self.resources.corpus_stats()
            answered = not (answer.abstained or answer.tentative)
            answer.absent = absent_words(original or query, stats.df, names_only=answered, folded=stats.folded())
            if answer.abstained and self.settings.respell:
                answer.did_you_mean = self.respelled_if_answered(query, original, context, filters, top_k, as_of)
        return result

    def respelled_if_answered(
        self,
        query: str,
        original: str | None,
        context: str | None,
        filters: dict[str, str | None] | None,
        top_k: int,
        as_of: str | None,
    ) -> str | None:
        """The question as asked, respelled, when respelling changes it and the respelled question is answered
        (neither declined nor flagged as weak evidence); None otherwise."""
        df = self.resources.corpus_stats().df
        query, changed = respell(query, df)
        if not changed:
            return None
        asked = respell(original, df)[0] if original else query
        context = respell(context, df)[0] if context else None
        inputs = pipeline_inputs(
            query,
            original=asked if original else None,
            context=context,
            filters=filters,
            top_k=max(1, top_k),
            as_of=as_of,
        )
        again: Answer = self.pipeline.run(inputs)["generator"]["answer"]
        return asked if not again.abstained and not again.tentative else None

    def refresh(self) -> None:
        """Drop cached corpus statistics and article texts now (after a reindex in this process; a reindex
        elsewhere is noticed through the store's generation within seconds)."""
        self.resources.refresh()
        self._has_articles = False

    def articles(self) -> list[ArticleRef]:
        """All indexed articles, newest first (published descending, then title); light fields only."""
        if not self.store.exists():
            return []
        refs = [
            ArticleRef(
                article_id=p.get("article_id", ""),
                title=p.get("title") or p.get("article_id", ""),
                url=p.get("url"),
                source=p.get("source"),
                published=p.get("published"),
                origin=p.get("origin"),
                also_from=tuple(
                    str(h["origin"]) for h in p.get("also_at") or [] if isinstance(h, dict) and h.get("origin")
                ),
            )
            for p in (record.payload or {} for record in self.store.article_records(fields=ARTICLE_LIST_FIELDS))
        ]
        refs.sort(key=lambda r: r.title.lower())
        refs.sort(key=lambda r: r.published or "", reverse=True)
        return refs

    def context(
        self, article_id: str, start: int, end: int, sentences: int = 2, *, quote: str | None = None
    ) -> Passage | None:
        """The quote at [start, end) of an article with up to `sentences` sentences before and after, sliced
        verbatim from the stored text; None when the article is gone or (given `quote`) its text no longer
        holds that quote there."""
        record = self.store.article_record(article_id, with_text=True)
        if not record or not isinstance(record.get("text"), str):
            return None
        text, spans = record["text"], [tuple(span) for span in record.get("sentences") or []]
        if not 0 <= start < end <= len(text) or (quote is not None and text[start:end] != quote):
            return None
        first = next((i for i, (_, e) in enumerate(spans) if e > start), len(spans))
        last = next((i for i in range(len(spans) - 1, -1, -1) if spans[i][0] < end), -1)
        begin = min(start, spans[max(0, first - sentences)][0]) if first < len(spans) else start
        finish = max(end, spans[min(len(spans) - 1, last + sentences)][1]) if last >= 0 else end
        return Passage(text[begin:start], text[start:end], text[end:finish])

    def close(self) -> None:
        """Drop the caches and release the store (when this answerer opened it)."""
        self.resources.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> QuestionAnswerer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
