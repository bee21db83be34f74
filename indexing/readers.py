"""Turn one document's text into Articles: plain text, Markdown, HTML and JSON, plus dates and ids.

Pure functions on strings, shared by the file readers (sources.py) and the web readers (fetch.py).
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

from indexing.decoding import SourceError
from indexing.models import Article

TITLE_MAX_CHARS = 150
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_PROSE_END = (".", ",", ";", ":")
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.I)


# ---------------------------------------------------------------- ids, dates, titles


def url_article_id(url: str) -> str:
    """A stable id for a web article: its URL without fragment, tracking parameters or trailing slash."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def parse_date(value: Any) -> str | None:
    """ISO 8601 form of a date given as text, date/datetime or time.struct_time; None if unparseable.

    A value without a time of day stays a date (`2022-08-05`); one with a time keeps it.
    """
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "tm_year"):  # time.struct_time from feedparser, in UTC
        return dt.datetime(*value[:6], tzinfo=dt.UTC).isoformat(timespec="seconds")
    text = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        import dateparser  # slow to import; only needed for free-form dates

        parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": False})
        if parsed is None:
            return None
    if ":" not in text:  # no time of day given
        return parsed.date().isoformat()
    return parsed.isoformat(timespec="seconds")


_MINOR_WORDS = frozenset(
    ["a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "nor", "of", "on", "or", "the", "to", "vs", "with"]
)


def title_from_name(name: str) -> str:
    """A headline from a file name: `centcom-chief-visits-pakistan` -> `Centcom Chief Visits Pakistan`.

    File names lose capitals, so words are put in headline case (minor words stay lower case
    unless first); a word that already has a capital keeps its spelling.
    """
    words = re.sub(r"[-_.]+", " ", PurePosixPath(name).stem).split()
    out = []
    for position, word in enumerate(words):
        if word != word.lower() or (position and word in _MINOR_WORDS):
            out.append(word)
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def looks_like_title(line: str) -> bool:
    """A first line is a heading unless it reads as prose: longer than 150 chars or ending like a sentence."""
    line = line.strip()
    return bool(line) and len(line) <= TITLE_MAX_CHARS and not line.endswith(_PROSE_END)


def split_front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter (`---` block at the very top) and the text after it."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise SourceError(f"invalid front matter: {str(error).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[match.end() :]


def _meta_str(meta: dict, key: str) -> str | None:
    value = meta.get(key)
    return None if value in (None, "") else str(value).strip()


# ---------------------------------------------------------------- formats


def text_article(text: str, article_id: str, name: str, origin: str, markdown: bool = False) -> Article:
    """A .txt or .md document: front matter or a title-like first line gives the title.

    A first line that reads as prose stays in the text and the title comes from the file name.
    """
    meta, body = split_front_matter(text)
    if markdown:
        body = markdown_to_text(body)
    title = _meta_str(meta, "title")
    if title is None:
        lines = body.lstrip().split("\n", 1)
        first = lines[0].strip()
        if looks_like_title(first):
            title, body = first, lines[1] if len(lines) > 1 else ""
        else:
            title = title_from_name(name)
    return Article(
        article_id=_meta_str(meta, "id") or article_id,
        title=title,
        text=body,
        url=_meta_str(meta, "url"),
        published=parse_date(meta.get("published") or meta.get("date")),
        source=_meta_str(meta, "source"),
        origin=origin,
    )


_MD_RULES = [
    (re.compile(r"^```.*?^```[ \t]*$", re.M | re.S), ""),  # fenced code
    (re.compile(r"<!--.*?-->", re.S), ""),  # comments
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M), ""),  # link definitions
    (re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M), r"\1"),  # ATX headings
    (re.compile(r"^ {0,3}(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^ {0,3}>[ \t]?", re.M), ""),  # block quotes
    (re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", re.M), ""),  # list markers
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
    (re.compile(r"^[=-]{3,}[ \t]*$", re.M), ""),  # setext underlines
]


def markdown_to_text(text: str) -> str:
    """Plain prose from Markdown, so quotes carry no `**`, `#` or link syntax."""
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text


def html_article(
    html: str | bytes, origin: str, url: str | None = None, article_id: str | None = None, name: str = ""
) -> Article:
    """The main text of a web page (menus, ads and footers dropped) with its title, date and site name."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
        )
    except Exception as error:  # trafilatura/lxml raise many types on malformed input
        raise SourceError(f"broken HTML: {error}") from None
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise SourceError("broken HTML or no article text found in the page")
    url = url or getattr(doc, "url", None)
    title = (getattr(doc, "title", None) or "").strip() or (title_from_name(name) if name else "") or (url or origin)
    return Article(
        article_id=article_id or (url_article_id(url) if url else origin),
        title=title,
        text=text,
        url=url,
        published=parse_date(getattr(doc, "date", None)),
        source=(getattr(doc, "sitename", None) or "").strip() or None,
        origin=origin,
    )


def html_fragment_text(html: str) -> str:
    """Text of an HTML fragment such as a feed entry's summary (paragraphs kept as lines, entities decoded)."""
    from lxml import html as lxml_html

    if "<" not in html:
        return html_lib.unescape(html)
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except Exception:
        return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))
    for element in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        element.tail = "\n" + (element.tail or "")
    return root.text_content()


def json_article(obj: Any, origin: str, fallback_id: str) -> Article:
    """One JSON object with `title`, `text` and optional `url`, `published`, `source`, `id`."""
    if not isinstance(obj, dict):
        raise SourceError(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SourceError("missing or empty 'text'")
    url = obj.get("url") or None
    if obj.get("id") not in (None, ""):
        article_id = str(obj["id"]).strip()
    elif url:
        article_id = url_article_id(str(url))
    else:
        article_id = fallback_id
    title = str(obj.get("title") or "").strip() or title_from_name(article_id.rsplit("/", 1)[-1])
    return Article(
        article_id=article_id,
        title=title,
        text=text,
        url=str(url) if url else None,
        published=parse_date(obj.get("published") or obj.get("date")),
        source=str(obj["source"]).strip() if obj.get("source") else None,
        origin=origin,
    )


def json_articles(text: str, origin: str, base_id: str) -> tuple[list[Article], list[tuple[str, str]]]:
    """A .json file: one object, a list of objects, or `{"articles": [...]}`. Bad objects are reported."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"invalid JSON: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    items = data if isinstance(data, list) else [data]
    articles, problems = [], []
    for number, obj in enumerate(items, 1):
        try:
            articles.append(json_article(obj, origin, f"{base_id}#{number}" if len(items) > 1 else base_id))
        except SourceError as error:
            problems.append((f"{origin} item {number}", str(error)))
    return articles, problems


def jsonl_articles(text: str, origin: str, base_id: str) -> tuple[list[Article], list[tuple[str, str]]]:
    """A .jsonl file: one object per line; invalid lines are reported and skipped."""
    articles, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            articles.append(jsonl_line_article(line, origin, base_id, number))
        except SourceError as error:
            problems.append((f"{origin} line {number}", str(error)))
    return articles, problems


def jsonl_line_article(line: str, origin: str, base_id: str, number: int) -> Article:
    """The article on line `number` of a JSON Lines file; SourceError for invalid JSON or a bad object."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as error:
        raise SourceError(f"invalid JSON: {error.msg}") from None
    return json_article(obj, origin, f"{base_id}#{number}")
