"""The indexing job: read sources, skip what is unchanged, embed and write the rest, prune, report.

Order of work, chosen so a run is cheap when little changed and safe when it is interrupted:
1. read every source and decide what to do with each article (indexing/plan.py): an unchanged file
   is recognised by its fingerprint (bytes + id + settings + processing version) before parsing,
   any other article by the hash of its cleaned content before preparing; the same text from two
   sources is indexed once; feed entries that rolled off a feed or whose page failed keep their
   last good version;
2. prepare (sentences, chunks) only new and changed articles, embed them in one length-sorted
   pass per batch, write chunks then article records (the commit markers);
3. prune articles whose source left this run's sources, never for a source that failed this time.
Bad input is reported in the summary and skipped; store problems (lock, model) raise.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from indexing.embedding import Embedder, model_id
from indexing.models import PreparedArticle
from indexing.plan import RECORD_FIELDS, Pending, make_plan
from indexing.prepare import prepare_cleaned
from indexing.settings import Settings
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
    duplicates: int = 0  # read, but their text is indexed under another article (listed in its also_at)
    chunks_written: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)
    dry_run: bool = False
    changes: list[tuple[str, str]] = field(default_factory=list)  # (added|updated|removed, article_id)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # read, prepare, embed, write, prune
    notes: list[tuple[str, str]] = field(default_factory=list)  # (origin, remark): not failures

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
        """One summary line, then one line per failure and per note (at most `max_failures` each)."""
        head = "dry run, nothing written; would be " if self.dry_run else ""
        copies = f", {self.duplicates} same text as another article" if self.duplicates else ""
        lines = [
            f"{head}added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, failed {self.failed}{copies}; {self.chunks_written} chunks in {self.seconds:.1f} s"
        ]
        for kind, items in (("failed", self.failures), ("note", self.notes)):
            lines += [f"  {kind}: {origin}: {reason}" for origin, reason in items[:max_failures]]
            if len(items) > max_failures:
                lines.append(
                    f"  ... and {len(items) - max_failures} more {'failures' if kind == 'failed' else 'notes'}"
                )
        return "\n".join(lines)


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
    try:
        if not recreate:
            store.check_model(embedder.name if embedder else model_id(settings.embedding_model))
        existing = (
            {}
            if recreate or not store.exists()
            else {r.payload["article_id"]: r.payload for r in store.article_records(fields=list(RECORD_FIELDS))}
        )

        # 1. read and decide
        clock = time.perf_counter()
        sources = [str(s) for s in (sources or [settings.articles_dir])]
        plan = make_plan(settings, sources, existing, prune=prune, notify=notify)
        for origin, reason in plan.failures:
            summary.fail(origin, reason)
        summary.notes += plan.notes
        summary.notes += [(removed, f"same text as {kept!r}: merged into it") for removed, kept in plan.merged]
        summary.unchanged = plan.unchanged
        summary.duplicates = plan.duplicates
        pending = plan.pending
        to_remove = [removed for removed, _ in plan.merged] + plan.to_remove
        clock = summary.timed("read", clock)

        if dry_run:
            for item in pending:
                setattr(summary, item.action, getattr(summary, item.action) + 1)
                summary.changes.append((item.action, item.article.article_id))
            summary.removed = len(to_remove)
            summary.changes += [("removed", article_id) for article_id in to_remove]
            return summary

        # 2. prepare, embed, write
        prepared: list[tuple[PreparedArticle, Pending]] = []
        for number, item in enumerate(pending):
            notify("preparing", number, len(pending))
            try:
                # the plan cleaned the article; cleaning again would erase its dropped-line marks
                ready = prepare_cleaned(item.article, settings.chunk_sentences, settings.chunk_overlap)
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
        for article_id, fields in plan.record_updates:
            store.update_record(article_id, fields)

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
        if own_store:
            store.close()


def _embed_and_write(
    store: Store,
    embedder: Embedder,
    prepared: list[tuple[PreparedArticle, Pending]],
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
