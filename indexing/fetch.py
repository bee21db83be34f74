"""Web sources: article pages and RSS/Atom feeds, fetched with httpx and extracted offline.

Every network or parsing problem becomes a reported failure for that URL or feed entry; a feed
entry whose page cannot be fetched falls back to the content or summary the feed carries.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

import httpx

from indexing.decoding import SourceError, binary_reason
from indexing.models import Article
from indexing.readers import html_article, html_fragment_text, parse_date, url_article_id
from indexing.settings import Settings

log = logging.getLogger(__name__)

Problem = tuple[str, str]
FEED_WORKERS = 4
_FEED_TYPES = ("rss", "atom", "/xml", "+xml")
_FEED_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.S | re.I)
_CHARSET = re.compile(r"charset=([\w-]+)", re.I)


def make_client(settings: Settings) -> httpx.Client:
    """One HTTP client per run: timeout, user agent, redirects."""
    return httpx.Client(
        timeout=settings.fetch_timeout,
        follow_redirects=True,
        headers={"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,application/xml,*/*"},
    )


def fetch(client: httpx.Client, url: str, max_bytes: int) -> tuple[bytes, str]:
    """The body (at most `max_bytes`) and content type of `url`; SourceError for any failure."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise SourceError(f"response too large ({declared:,} bytes > MAX_FILE_BYTES {max_bytes:,})")
            body = bytearray()
            for part in response.iter_bytes():
                body.extend(part)
                if len(body) > max_bytes:
                    raise SourceError(f"response too large (> MAX_FILE_BYTES {max_bytes:,})")
            return bytes(body), response.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {client.timeout.read or client.timeout.connect} s") from None
    except httpx.HTTPError as error:
        raise SourceError(f"unreachable: {error.__class__.__name__}: {error}".rstrip(": ")) from None


def is_feed(body: bytes, content_type: str) -> bool:
    """RSS/Atom by content type or by the document's first element."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        return False
    return any(marker in content_type for marker in _FEED_TYPES) or bool(_FEED_START.match(body[:2048]))


def _page_article(body: bytes, url: str, article_id: str) -> Article:
    if not body.strip():
        raise SourceError("empty response")
    reason = binary_reason(body)
    if reason:
        raise SourceError(reason.replace("file", "response"))
    return html_article(body, origin=url, url=url, article_id=article_id)


def read_url(url: str, settings: Settings, client: httpx.Client) -> tuple[list[Article], list[Problem]]:
    """An article page (one article) or a feed (one article per entry)."""
    body, content_type = fetch(client, url, settings.max_file_bytes)
    if is_feed(body, content_type):
        return read_feed(body, url, settings, client)
    return [_page_article(body, url, url_article_id(url))], []


def read_feed(
    body: bytes, feed_url: str, settings: Settings, client: httpx.Client
) -> tuple[list[Article], list[Problem]]:
    """Each entry's linked article (title, link and date from the feed), or its content as fallback."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": feed_url})
    if parsed.bozo and not any(entry.get("link") for entry in parsed.entries):
        # feedparser recovers what it can from malformed XML; without links there is nothing to trust
        raise SourceError(f"broken feed: {parsed.get('bozo_exception') or 'not well-formed'}")
    if not parsed.entries:
        raise SourceError("feed has no entries")
    if parsed.bozo:
        log.warning("feed %s is not well-formed (%s); indexing the entries it has", feed_url, parsed.bozo_exception)
    source = (parsed.feed.get("title") or "").strip() or None

    def read_entry(number_entry: tuple[int, dict]) -> Article | Problem:
        number, entry = number_entry
        link = (entry.get("link") or "").strip() or None
        label = link or f"{feed_url} entry {number}"
        article_id = url_article_id(link) if link else f"{url_article_id(feed_url)}#{entry.get('id') or number}"
        page: Article | None = None
        page_error = None
        if link:
            try:
                page = _page_article(fetch(client, link, settings.max_file_bytes)[0], link, article_id)
            except SourceError as error:
                page_error = str(error)
        if page is None:
            content = entry.get("content") or []
            fallback = (content[0].get("value") if content else None) or entry.get("summary") or ""
            text = html_fragment_text(fallback).strip()
            if not text:
                return (label, page_error or "entry has no link and no content")
            log.info("feed entry %s: page failed (%s), using the feed's content", label, page_error)
        title = (entry.get("title") or "").strip() or (page.title if page else "") or label
        published = parse_date(entry.get("published_parsed") or entry.get("updated_parsed")) or parse_date(
            entry.get("published") or entry.get("updated")
        )
        return Article(
            article_id=article_id,
            title=title,
            text=page.text if page else text,
            url=link,
            published=published or (page.published if page else None),
            source=source or (page.source if page else None),
            origin=feed_url,
        )

    articles: list[Article] = []
    problems: list[Problem] = []
    with ThreadPoolExecutor(max_workers=FEED_WORKERS) as pool:
        for result in pool.map(read_entry, enumerate(parsed.entries, 1)):
            (articles if isinstance(result, Article) else problems).append(result)
    return articles, problems
