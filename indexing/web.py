"""Web sources into Articles: an article page, a JSON or plain-text document, or an RSS/Atom feed.

A feed gives one article per entry (at most FEED_MAX_ENTRIES, newest first): the entry's linked
page, with title, link and date from the feed. When the page cannot be read the entry comes back
as a `FeedSummary` (the feed's own text and why the page failed) and the job decides: it keeps a
version indexed earlier from the page, and uses the summary only when no page was ever read.
Links the fetch policy refuses (private addresses, other schemes) are refused, never summarised.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from indexing.decoding import SourceError, decode_bytes
from indexing.fetch import BlockedAddressError, Fetched, Fetcher, check_url
from indexing.models import Article
from indexing.readers import (
    html_article,
    html_fragment_text,
    json_articles,
    parse_date,
    text_article,
    url_article_id,
)
from indexing.settings import Settings

log = logging.getLogger(__name__)

Problem = tuple[str, str]  # (origin, reason)
FEED_WORKERS = 4
PAGE_KINDS = frozenset({"html", "xml", "text"})
_FEED_ROOT = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.S | re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.I)


@dataclass
class FeedSummary:
    """A feed entry indexed from the feed's own text: its page failed (`page_error`) or it has no link."""

    article: Article
    page_error: str | None = None


@dataclass
class WebRead:
    """What one URL gave: full articles, feed entries with only the feed's text, problems and notes."""

    articles: list[Article] = field(default_factory=list)
    summaries: list[FeedSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def read_url(url: str, settings: Settings, fetcher: Fetcher) -> WebRead:
    """An article page, a JSON or text document, or a feed. Raises SourceError when nothing is usable."""
    fetched = fetcher.fetch(url)
    if fetched.kind == "feed" or (fetched.kind == "xml" and _FEED_ROOT.match(fetched.body[:4096])):
        return read_feed(fetched, url, settings, fetcher)
    article_id = url_article_id(url)
    if fetched.kind == "json":
        articles, problems = json_articles(_text(fetched), url, article_id)
        if not articles and not problems:
            raise SourceError("no articles in the JSON document")
        return WebRead(articles=articles, problems=problems)
    if fetched.kind == "text":
        name = PurePosixPath(urlsplit(url).path).name or urlsplit(url).hostname or url
        article = text_article(_text(fetched), article_id, name, url)
        article.url = article.url or url
        return WebRead(articles=[article])
    return WebRead(articles=[page_article(fetched, url, article_id)])


def _text(fetched: Fetched) -> str:
    """The body as text: BOM, UTF-8, the declared charset (header or <meta>), then detection."""
    if not fetched.body.strip():
        raise SourceError("empty response")
    declared = fetched.charset
    if declared is None and fetched.kind in ("html", "xml"):
        match = _META_CHARSET.search(fetched.body[:4096])
        declared = match.group(1).decode("ascii") if match else None
    try:
        return decode_bytes(fetched.body, declared)
    except SourceError as error:
        raise SourceError(str(error).replace("file", "response")) from None


def page_article(fetched: Fetched, url: str, article_id: str) -> Article:
    """The main text of a fetched page (or of a plain-text document)."""
    if fetched.kind == "text":
        article = text_article(_text(fetched), article_id, PurePosixPath(urlsplit(url).path).name, url)
        article.url = url
        return article
    return html_article(_text(fetched), origin=url, url=url, article_id=article_id)


def read_feed(fetched: Fetched, feed_url: str, settings: Settings, fetcher: Fetcher) -> WebRead:
    """One article per entry (its page), newest FEED_MAX_ENTRIES first; see the module docstring."""
    import feedparser

    parsed = feedparser.parse(
        fetched.body, response_headers={"content-type": fetched.content_type, "content-location": fetched.url}
    )
    entries = list(parsed.entries)
    if parsed.bozo and not any(entry.get("link") for entry in entries):
        # feedparser recovers what it can from malformed XML; without links there is nothing to trust
        raise SourceError(f"broken feed: {parsed.get('bozo_exception') or 'not well-formed'}")
    if not entries:
        raise SourceError("feed has no entries")
    if parsed.bozo:
        log.warning("feed %s is not well-formed (%s); indexing the entries it has", feed_url, parsed.bozo_exception)
    result = WebRead()
    if all(_entry_time(entry) is not None for entry in entries):
        entries.sort(key=_entry_time, reverse=True)
    if len(entries) > settings.feed_max_entries:
        result.notes.append(
            (
                feed_url,
                f"feed has {len(entries):,} entries; read the first {settings.feed_max_entries} (FEED_MAX_ENTRIES)",
            )
        )
        entries = entries[: settings.feed_max_entries]
    source = (parsed.feed.get("title") or "").strip() or None

    def read_entry(number_entry: tuple[int, dict]) -> Article | FeedSummary | Problem:
        number, entry = number_entry
        return _read_entry(entry, number, feed_url, source, fetcher)

    with ThreadPoolExecutor(max_workers=FEED_WORKERS) as pool:
        for item in pool.map(read_entry, enumerate(entries, 1)):
            if isinstance(item, Article):
                result.articles.append(item)
            elif isinstance(item, FeedSummary):
                result.summaries.append(item)
            else:
                result.problems.append(item)
    return result


def _entry_time(entry: dict) -> time.struct_time | None:
    return entry.get("published_parsed") or entry.get("updated_parsed")


def _read_entry(
    entry: dict, number: int, feed_url: str, source: str | None, fetcher: Fetcher
) -> Article | FeedSummary | Problem:
    link = (entry.get("link") or "").strip() or None
    label = link or f"{feed_url} entry {number}"
    page: Article | None = None
    page_error = None
    if link:
        article_id = url_article_id(link)
        try:
            check_url(link)
            page = page_article(fetcher.fetch(link, PAGE_KINDS), link, article_id)
        except BlockedAddressError as error:
            return (label, str(error))  # a feed pointing inside the network: refused, not summarised
        except SourceError as error:
            if str(error).startswith("refused:"):
                return (label, str(error))
            page_error = str(error)
    else:
        article_id = f"{url_article_id(feed_url)}#{entry.get('id') or number}"
    title = (entry.get("title") or "").strip() or (page.title if page else "") or label
    published = parse_date(_entry_time(entry)) or parse_date(entry.get("published") or entry.get("updated"))
    article = Article(
        article_id=article_id,
        title=title,
        text=page.text if page else "",
        url=link,
        published=published or (page.published if page else None),
        source=source or (page.source if page else None),
        origin=feed_url,
    )
    if page is not None:
        return article
    article.text = feed_text(entry)
    if not article.text:
        return (label, page_error or "entry has no link and no text")
    return FeedSummary(article, page_error)


def feed_text(entry: dict) -> str:
    """The entry's own text: its content, else its summary, as plain text (HTML and entities decoded)."""
    details = [*(entry.get("content") or []), entry.get("summary_detail") or {}]
    for detail in details:
        value = (detail.get("value") or "").strip()
        if not value:
            continue
        text = value if detail.get("type") == "text/plain" else html_fragment_text(value)
        if text.strip():
            return text.strip()
    return html_fragment_text(entry.get("summary") or "").strip()
