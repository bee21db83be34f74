"""The indexing job: read sources, skip what is unchanged, embed and write the rest, prune, report.

Order of work, chosen so a run is cheap when little changed and safe when it is interrupted:
1. read every source; an unchanged file is recognised by its fingerprint (bytes + id + settings)
   before parsing, and any other article by the hash of its cleaned content before preparing;
2. prepare (sentences, chunks) only new and changed articles, embed them in one length-sorted
   pass per batch, write chunks then article records (the commit markers);
3. prune articles whose source disappeared, only under this run's sources and never for a
   source that failed to read this time.
Bad input is reported in the summary and skipped; store problems (lock, model) raise.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from indexing.decoding import SourceError
from indexing.embedding import Embedder, model_id
from indexing.fetch import make_client, read_url
from indexing.models import Article, PreparedArticle
from indexing.prepare import EmptyArticleError, clean_article, content_hash, prepare_article
from indexing.settings import Settings
from indexing.sources import FileDoc, expand_sources, fingerprint, parse_file, read_bytes
from indexing.store import Store
from indexing.writer import delete_article, embed_articles, write_batch

log = logging.getLogger(__name__)

BATCH_TEXTS = 2048  # sentences + titles embedded and written per batch (bounds memory and lost work)
Progress = Callable[[str, int, int], None]


@dataclass
class IndexSummary:
    """What a run did (or, with dry_run, would do)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    chunks_written: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)
    dry_run: bool = False
    changes: list[tuple[str, str]] = field(default_factory=list)  # (added|updated|removed, article_id)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # read, prepare, embed, write, prune

    def timed(self, stage: str, since: float) -> float:
        """Add the time since `since` to `stage`; returns now, for the next stage."""
        now = time.perf_counter()
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + now - since
        return now

    @property
    def ok(self) -> bool:
        """True when nothing failed (the command's exit code 0)."""
        return self.failed == 0

    def fail(self, origin: str, reason: str) -> None:
        log.warning("skipped %s: %s", origin, reason)
        self.failures.append((origin, reason))
        self.failed = len(self.failures)

    def format(self, max_failures: int = 20) -> str:
        """One summary line, then one line per failure (at most `max_failures`)."""
        head = "dry run, nothing written; would be " if self.dry_run else ""
        lines = [
            f"{head}added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, failed {self.failed}; {self.chunks_written} chunks in {self.seconds:.1f} s"
        ]
        lines += [f"  failed: {origin}: {reason}" for origin, reason in self.failures[:max_failures]]
        if len(self.failures) > max_failures:
            lines.append(f"  ... and {len(self.failures) - max_failures} more failures")
        return "\n".join(lines)


@dataclass
class _Pending:
    article: Article  # cleaned
    content_hash: str
    extra: dict
    action: str  # "added" | "updated"


def _batches(items: list[PreparedArticle], max_texts: int) -> list[list[PreparedArticle]]:
    batches: list[list[PreparedArticle]] = [[]]
    size = 0
    for item in items:
        texts = len(item.sentences) + 1
        if batches[-1] and size + texts > max_texts:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += texts
    return [batch for batch in batches if batch]


def run_index(
    settings: Settings,
    sources: list[str] | None = None,
    *,
    store: Store | None = None,
    embedder: Embedder | None = None,
    prune: bool = False,
    dry_run: bool = False,
    recreate: bool = False,
    progress: Progress | None = None,
    show_progress_bar: bool = True,
) -> IndexSummary:
    """Index `sources` (default ARTICLES_DIR) into the configured store and say what changed.

    A passed `store`/`embedder` (the bot's) is reused and left open; otherwise both are opened
    here and the store is closed at the end. Raises StoreLockedError and ModelMismatchError.
    """
    started = time.perf_counter()
    notify: Progress = progress or (lambda stage, done, total: None)
    summary = IndexSummary(dry_run=dry_run)
    own_store = store is None
    if store is None:
        store = Store.open(settings, upgrade=recreate)
    http = None
    try:
        if not recreate:
            store.check_model(embedder.name if embedder else model_id(settings.embedding_model))
        existing = (
            {}
            if recreate or not store.exists()
            else {r.payload["article_id"]: r.payload for r in store.article_records()}
        )
        by_origin: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        for article_id, payload in existing.items():
            by_origin[payload.get("origin") or ""].append((article_id, payload.get("fingerprint")))

        # 1. read
        clock = time.perf_counter()
        docs, roots, problems = expand_sources([str(s) for s in (sources or [settings.articles_dir])], settings)
        for origin, reason in problems:
            summary.fail(origin, reason)
        failed_origins = {origin for origin, _ in problems}
        seen: dict[str, str] = {}  # article_id -> where it was read from this run
        pending: list[_Pending] = []
        payload_updates: list[tuple[str, dict]] = []

        def classify(article: Article, extra: dict) -> None:
            digest = content_hash(article, settings.chunk_sentences, settings.chunk_overlap)
            record = existing.get(article.article_id)
            if record is not None and record.get("content_hash") == digest:
                summary.unchanged += 1
                current = {"origin": article.origin, **extra}
                if any(record.get(key) != value for key, value in current.items()):
                    payload_updates.append((article.article_id, current))  # e.g. a fingerprint for the fast path
                return
            pending.append(_Pending(article, digest, extra, "updated" if record is not None else "added"))

        for number, doc in enumerate(docs):
            notify("reading", number, len(docs))
            try:
                if isinstance(doc, FileDoc):
                    data = read_bytes(doc, settings.max_file_bytes)
                    extra = {"fingerprint": fingerprint(doc, data, settings)}
                    known = by_origin.get(doc.origin)
                    if known and all(fp == extra["fingerprint"] for _, fp in known):
                        summary.unchanged += len(known)  # same bytes, same settings: nothing to parse
                        seen.update((article_id, doc.origin) for article_id, _ in known)
                        continue
                    articles, problems = parse_file(doc, data)
                else:
                    extra = {}
                    http = http or make_client(settings)
                    articles, problems = read_url(doc.url, settings, http)
            except SourceError as error:
                summary.fail(doc.origin, str(error))
                failed_origins.add(doc.origin)
                continue
            except Exception as error:  # a reader bug on one odd input must not stop the run
                log.exception("reading %s failed", doc.origin)
                summary.fail(doc.origin, f"unexpected error: {error.__class__.__name__}: {error}")
                failed_origins.add(doc.origin)
                continue
            for origin, reason in problems:
                summary.fail(origin, reason)
            cleaned: list[Article] = []
            for article in articles:
                if isinstance(doc, FileDoc):
                    label = doc.origin if len(articles) == 1 else f"{doc.origin} [{article.article_id}]"
                else:
                    label = article.url or doc.origin
                try:
                    article = clean_article(article)
                except EmptyArticleError as error:
                    summary.fail(label, str(error))
                    problems.append((label, str(error)))
                    continue
                if article.article_id in seen:
                    reason = f"duplicate article id {article.article_id!r} (also read from {seen[article.article_id]})"
                    summary.fail(label, reason)
                    problems.append((label, reason))
                    continue
                seen[article.article_id] = label
                cleaned.append(article)
            if problems:
                failed_origins.add(doc.origin)  # never pruned while it fails
                extra = {}  # no fingerprint: the file is read again next run and its problems reported again
            for article in cleaned:
                classify(article, extra)
        notify("reading", len(docs), len(docs))
        clock = summary.timed("read", clock)

        to_remove = []
        if prune:
            for article_id, payload in existing.items():
                origin = payload.get("origin")
                if article_id in seen or origin in failed_origins:
                    continue
                if any(root.covers(origin) for root in roots):
                    to_remove.append(article_id)

        if dry_run:
            for item in pending:
                setattr(summary, item.action, getattr(summary, item.action) + 1)
                summary.changes.append((item.action, item.article.article_id))
            summary.removed = len(to_remove)
            summary.changes += [("removed", article_id) for article_id in to_remove]
            return summary

        # 2. prepare, embed, write
        prepared: list[tuple[PreparedArticle, _Pending]] = []
        for number, item in enumerate(pending):
            notify("preparing", number, len(pending))
            try:
                ready = prepare_article(item.article, settings.chunk_sentences, settings.chunk_overlap)
            except Exception as error:  # one article's odd text must not stop the run
                log.exception("preparing %s failed", item.article.origin)
                summary.fail(item.article.origin or item.article.article_id, f"{error.__class__.__name__}: {error}")
                continue
            prepared.append((ready, item))
        if prepared:
            notify("preparing", len(pending), len(pending))
        clock = summary.timed("prepare", clock)
        if prepared or recreate:
            embedder = embedder or Embedder(
                settings.embedding_model, settings.embedding_device, settings.embedding_batch_size
            )
            store.ensure(embedder.name, embedder.dimension, recreate=recreate)
            summary.timed("model", clock)
        if prepared:
            summary.chunks_written = _embed_and_write(store, embedder, prepared, summary, notify, show_progress_bar)
        clock = time.perf_counter()
        for article_id, payload in payload_updates:
            store.update_record(article_id, payload)

        # 3. prune
        for number, article_id in enumerate(to_remove):
            notify("removing", number, len(to_remove))
            delete_article(store, article_id)
            summary.removed += 1
            summary.changes.append(("removed", article_id))
        store.finish_run()  # sweeps stray chunks, bumps the generation readers follow
        summary.timed("write", clock)
        return summary
    finally:
        summary.seconds = time.perf_counter() - started
        if http is not None:
            http.close()
        if own_store:
            store.close()


def _embed_and_write(
    store: Store,
    embedder: Embedder,
    prepared: list[tuple[PreparedArticle, _Pending]],
    summary: IndexSummary,
    notify: Progress,
    show_progress_bar: bool,
) -> int:
    """Embed and write in batches; each batch's articles are committed before the next is embedded."""
    pending = {id(item): meta for item, meta in prepared}
    items = [item for item, _ in prepared]
    total_texts = sum(len(item.sentences) + 1 for item in items)
    done_texts = written = chunks = 0
    with tqdm(
        total=total_texts, desc="Embedding", unit="text", file=sys.stderr, disable=not show_progress_bar, leave=False
    ) as bar:
        for batch in _batches(items, BATCH_TEXTS):

            def advance(done: int, _total: int, base: int = done_texts) -> None:
                bar.update(base + done - bar.n)
                notify("embedding", base + done, total_texts)

            clock = time.perf_counter()
            vectors = embed_articles(batch, embedder, on_progress=advance)
            clock = summary.timed("embed", clock)
            done_texts += sum(len(item.sentences) + 1 for item in batch)
            metas = [pending[id(item)] for item in batch]
            chunks += write_batch(store, batch, vectors, [meta.extra for meta in metas])
            summary.timed("write", clock)
            for meta in metas:
                setattr(summary, meta.action, getattr(summary, meta.action) + 1)
                summary.changes.append((meta.action, meta.article.article_id))
            written += len(batch)
            notify("writing", written, len(items))
    return chunks
