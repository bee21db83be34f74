"""What a run will do: read the sources, then decide for every article what happens to it.

Reading (cheap): an unchanged file is recognised by its fingerprint before parsing; everything else
is cleaned and hashed. Deciding:
- **Same text twice.** Articles are grouped by the hash of their cleaned text; each text is indexed
  once, under the id of the source that brought it first (an indexed article keeps its id), and
  its record lists the other sources in `also_at` (`[{id, url, source, origin}]`). A record that
  turns out to hold a duplicate is merged into the first.
- **Feeds.** An entry whose page fails keeps the version indexed earlier (reported as failed); the
  feed's summary is used only when no page text was ever indexed, and is marked `summary_only`.
- **Pruning** removes only what left the sources: a file no longer under a folder or file of this
  run; a web article whose page or feed URL is not among this run's URLs (only when the run names
  URLs: a run over folders leaves web articles alone). Entries that rolled off a feed that is still
  a source stay. A source that failed this run is never pruned, and an article stays while any
  other source in `also_at` still has it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from indexing.decoding import SourceError
from indexing.fetch import Fetcher
from indexing.models import Article
from indexing.prepare import ArticleError, clean_article, content_hash, text_hash
from indexing.settings import Settings
from indexing.sources import FileDoc, SourceRoot, expand_sources, file_fingerprint, is_url, read_file
from indexing.web import WebRead, read_url

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
# What the decisions read from each stored article record (not its text, spans or term counts).
RECORD_FIELDS = ("article_id", "origin", "fingerprint", "content_hash", "text_hash", "also_at", "summary_only")


@dataclass
class Read:
    """One cleaned article read this run, with the payload fields its source contributes."""

    article: Article
    extra: dict
    label: str  # how failures and notes name it
    text_hash: str


@dataclass
class Pending:
    """An article to prepare, embed and write."""

    article: Article  # cleaned
    content_hash: str
    extra: dict
    action: str  # "added" | "updated"


@dataclass
class Plan:
    """Everything a run decided; the job carries it out (or, dry, only reports it)."""

    pending: list[Pending] = field(default_factory=list)
    record_updates: list[tuple[str, dict]] = field(default_factory=list)  # (article_id, fields) on unchanged records
    merged: list[tuple[str, str]] = field(default_factory=list)  # (duplicate record removed, article kept)
    to_remove: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0  # articles whose text is indexed under another id (listed in its also_at)
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


def holder(article: Article) -> dict:
    """How `also_at` lists a source of the same text."""
    return {"id": article.article_id, "url": article.url, "source": article.source, "origin": article.origin}


def _norm(value: Any) -> Any:
    return value if value not in (None, False, [], {}, "") else None


def differs(record: dict, fields: dict) -> bool:
    """Whether writing `fields` would change `record` (absent, empty and false count as the same)."""
    return any(_norm(record.get(key)) != _norm(value) for key, value in fields.items())


class _Reader:
    """Reads every document of a run into `reads`, recording what the decisions need."""

    def __init__(self, settings: Settings, existing: dict[str, dict], plan: Plan, notify: Progress) -> None:
        self.settings = settings
        self.existing = existing
        self.plan = plan
        self.notify = notify
        self.reads: list[Read] = []
        self.seen: dict[str, str] = {}  # article_id -> label, to report two sources claiming one id
        self.kept: set[str] = set()  # records left as they are (unchanged file, failed feed page)
        self.read_from: dict[str, set[str]] = defaultdict(set)  # origin -> ids read from it
        self.skipped: set[str] = set()  # files recognised as unchanged, not parsed
        self.failed: set[str] = set()  # origins with any problem: never pruned this run
        self.by_origin: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        for article_id, payload in existing.items():
            self.by_origin[payload.get("origin") or ""].append((article_id, payload.get("fingerprint")))
        self._fetcher: Fetcher | None = None

    def fail(self, origin: str, reason: str) -> None:
        self.plan.failures.append((origin, reason))

    def read_all(self, sources: list[str]) -> list[SourceRoot]:
        docs, roots, problems = expand_sources(sources, self.settings)
        for origin, reason in problems:
            self.fail(origin, reason)
            self.failed.add(origin)
        try:
            for number, doc in enumerate(docs):
                self.notify("reading", number, len(docs))
                self.read_doc(doc)
        finally:
            if self._fetcher is not None:
                self._fetcher.close()
        self.notify("reading", len(docs), len(docs))
        return roots

    def read_doc(self, doc) -> None:
        try:
            if isinstance(doc, FileDoc):
                fingerprint = file_fingerprint(doc, self.settings)
                known = self.by_origin.get(doc.origin)
                if known and all(fp == fingerprint for _, fp in known):
                    self.plan.unchanged += len(known)  # same bytes, same settings: nothing to parse
                    self.kept.update(article_id for article_id, _ in known)
                    self.seen.update((article_id, doc.origin) for article_id, _ in known)
                    self.skipped.add(doc.origin)
                    return
                articles, problems = read_file(doc, self.settings)
                web = WebRead(articles=articles, problems=problems)
                extra: dict = {"fingerprint": fingerprint}
            else:
                self._fetcher = self._fetcher or Fetcher(self.settings)
                web = read_url(doc.url, self.settings, self._fetcher)
                extra = {"summary_only": False}
        except SourceError as error:
            self.fail(doc.origin, str(error))
            self.failed.add(doc.origin)
            return
        except Exception as error:  # a reader bug on one odd input must not stop the run
            log.exception("reading %s failed", doc.origin)
            self.fail(doc.origin, f"unexpected error: {error.__class__.__name__}: {error}")
            self.failed.add(doc.origin)
            return
        self.plan.notes += web.notes
        had_problem = bool(web.problems)
        for origin, reason in web.problems:
            self.fail(origin, reason)
        candidates = [(article, {}, None) for article in web.articles]
        candidates += [(item.article, {"summary_only": True}, item.page_error) for item in web.summaries]
        reads = []
        for article, flags, page_error in candidates:
            label = self._label(doc, article, len(candidates))
            if page_error is not None:
                record = self.existing.get(article.article_id)
                had_problem = True
                if record is not None and not record.get("summary_only"):
                    self.fail(label, f"{page_error}; kept the version indexed earlier")
                    self.kept.add(article.article_id)
                    self.seen[article.article_id] = label
                    continue
                self.fail(label, f"{page_error}; indexed the feed's summary until the page can be read")
            read = self._read(article, flags, label)
            if read is None:
                had_problem = True
                continue
            self.read_from[doc.origin].add(read.article.article_id)
            reads.append(read)
        if had_problem:
            self.failed.add(doc.origin)  # never pruned while it fails
            if "fingerprint" in extra:
                extra["fingerprint"] = None  # read again next run, so its problems are reported again
        for read in reads:
            read.extra = {**extra, **read.extra}
        self.reads += reads

    @staticmethod
    def _label(doc, article: Article, count: int) -> str:
        if isinstance(doc, FileDoc):
            return doc.origin if count == 1 else f"{doc.origin} [{article.article_id}]"
        return article.url or doc.origin

    def _read(self, article: Article, flags: dict, label: str) -> Read | None:
        try:
            article = clean_article(article, self.settings.max_article_chars)
        except ArticleError as error:
            self.fail(label, str(error))
            return None
        if article.article_id in self.seen:
            self.fail(
                label, f"duplicate article id {article.article_id!r} (also read from {self.seen[article.article_id]})"
            )
            return None
        self.seen[article.article_id] = label
        return Read(article, dict(flags), label, text_hash(article.text))


class _Scope:
    """Which sources a pruning run treats as gone."""

    def __init__(self, prune: bool, roots: list[SourceRoot], reader: _Reader) -> None:
        self.prune = prune
        self.file_roots = [root for root in roots if root.path is not None]
        self.urls = {root.spec for root in roots if root.path is None}
        self.reader = reader

    def gone(self, article_id: str | None, origin: str | None) -> bool:
        """True when pruning and the source (`origin`, and the id within it) left this run's sources."""
        if not self.prune or not origin or origin in self.reader.failed:
            return False
        if is_url(origin):
            return bool(self.urls) and origin not in self.urls
        if not any(root.covers(origin) for root in self.file_roots) or origin in self.reader.skipped:
            return False
        return article_id not in self.reader.read_from.get(origin, ())


def make_plan(
    settings: Settings,
    sources: list[str],
    existing: dict[str, dict],
    *,
    prune: bool,
    notify: Progress,
) -> Plan:
    """Read `sources` and decide what to add, update, leave, merge and remove (see the module docstring)."""
    plan = Plan()
    reader = _Reader(settings, existing, plan, notify)
    roots = reader.read_all(sources)
    scope = _Scope(prune, roots, reader)
    read_ids = {read.article.article_id for read in reader.reads}
    primaries = _dedupe(reader, scope, read_ids, settings)
    merged = {article_id for article_id, _ in plan.merged}
    if prune:
        for article_id, payload in existing.items():
            if article_id in primaries or article_id in reader.kept or article_id in merged:
                continue
            if not scope.gone(article_id, payload.get("origin")):
                continue
            alive = [
                h
                for h in payload.get("also_at") or []
                if h.get("id") not in read_ids and not scope.gone(h.get("id"), h.get("origin"))
            ]
            if alive:  # another source still has this text: keep it, listing only the sources that remain
                if differs(payload, {"also_at": alive}):
                    plan.record_updates.append((article_id, {"also_at": alive}))
                continue
            plan.to_remove.append(article_id)
    return plan


def _dedupe(reader: _Reader, scope: _Scope, read_ids: set[str], settings: Settings) -> set[str]:
    """Group this run's articles by text; classify one per text, list the others with it. Returns the kept ids."""
    plan, existing = reader.plan, reader.existing
    owner_of: dict[str, str] = {}
    for article_id, payload in existing.items():
        if payload.get("text_hash"):
            owner_of.setdefault(payload["text_hash"], article_id)
    groups: dict[str, list[Read]] = {}
    for read in reader.reads:
        groups.setdefault(read.text_hash, []).append(read)
    primaries: set[str] = set()
    for digest, members in groups.items():
        ids = [read.article.article_id for read in members]
        owner = owner_of.get(digest)
        primary: Read | None = None
        primary_id: str | None = None
        if owner in ids:
            primary = members[ids.index(owner)]
        elif owner is not None and owner not in read_ids and not scope.gone(owner, existing[owner].get("origin")):
            primary_id = owner  # the indexed article stays; these sources are listed with it
        else:
            primary = next((read for read in members if read.article.article_id in existing), members[0])
        primary_id = primary_id or primary.article.article_id
        primaries.add(primary_id)
        fresh = {read.article.article_id: holder(read.article) for read in members if read is not primary}
        holders = []  # earlier sources first, in their order; then the new ones
        for earlier in existing.get(primary_id, {}).get("also_at") or []:
            earlier_id = earlier.get("id")
            if earlier_id in fresh:
                holders.append(fresh.pop(earlier_id))
            elif earlier_id in read_ids or earlier_id == primary_id:
                continue  # read again this run with another text: no longer a copy
            elif not scope.gone(earlier_id, earlier.get("origin")):
                holders.append(earlier)
        holders += fresh.values()
        for read in members:
            if read is primary:
                continue
            plan.duplicates += 1
            plan.notes.append((read.label, f"same text as {primary_id!r}: indexed once, listed as another source"))
            if read.article.article_id in existing and read.article.article_id != primary_id:
                plan.merged.append((read.article.article_id, primary_id))
        if primary is None:
            if differs(existing[primary_id], {"also_at": holders}):
                plan.record_updates.append((primary_id, {"also_at": holders}))
            continue
        primary.extra.update(text_hash=digest, also_at=holders)
        _classify(plan, primary, existing.get(primary_id), settings)
    return primaries


def _classify(plan: Plan, read: Read, record: dict | None, settings: Settings) -> None:
    article = read.article
    digest = content_hash(article, settings.chunk_sentences, settings.chunk_overlap)
    if record is not None and record.get("content_hash") == digest:
        plan.unchanged += 1
        current = {"origin": article.origin, **read.extra}
        if differs(record, current):
            plan.record_updates.append((article.article_id, current))  # e.g. a fingerprint for the fast path
        return
    plan.pending.append(Pending(article, digest, read.extra, "updated" if record is not None else "added"))
