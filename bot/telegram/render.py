"""Telegram HTML for answers, sources and summaries: everything escaped, messages split under 4,096 characters.

Messages are built from blocks (the answer, one block per quote with its source). Splitting happens between
blocks; a block too long for one message is cut at whitespace into pieces that each carry their own tags,
so a tag is never opened in one message and closed in the next.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import urlparse

from bot.types import Answer, ArticleRef, Quote

MAX_MESSAGE_CHARS = 4096

_INLINE_TAG = re.compile(r"^<(?P<tag>[a-z]+)(?P<attrs>[^>]*)>(?P<body>.*)</(?P=tag)>$", re.S)


def esc(text: object) -> str:
    """Escape text for Telegram HTML (only &, < and > are special outside attributes)."""
    return html.escape(str(text), quote=False)


def esc_attr(text: object) -> str:
    """Escape an attribute value (double-quoted)."""
    return esc(text).replace('"', "&quot;")


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, no relative links)."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return url.strip()
    return None


def format_date(value: str | None) -> str | None:
    """'2022-08-05T10:00:00Z' -> '5 Aug 2022'; unparseable values are returned as given."""
    if not value:
        return None
    text = str(value).strip()
    try:
        parsed: date = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = date.fromisoformat(text[:10])
        except ValueError:
            return text
    return f"{parsed.day} {parsed.strftime('%b %Y')}"


def link(title: str, url: str | None) -> str:
    """The escaped title, linked when the URL is a safe http(s) link."""
    target = safe_url(url)
    if target:
        return f'<a href="{esc_attr(target)}">{esc(title)}</a>'
    return esc(title)


def source_line(ref: Quote | ArticleRef) -> str:
    """'— Title (linked), Outlet, 5 Aug 2022'."""
    parts = [link(ref.title or ref.article_id, ref.url)]
    if ref.source:
        parts.append(esc(ref.source))
    published = format_date(ref.published)
    if published:
        parts.append(esc(published))
    return "— " + ", ".join(parts)


def quote_block(quote: Quote) -> str:
    """One quote: the verbatim text in a blockquote, then its source."""
    return f"<blockquote>{esc(quote.text)}</blockquote>\n{source_line(quote)}"


def answer_blocks(answer: Answer, quotes: Sequence[Quote] | None = None) -> list[str]:
    """The answer as blocks: the answer text (or 'not found' with the closest articles), then the quotes."""
    blocks: list[str] = []
    quotes = answer.quotes if quotes is None else quotes
    if answer.abstained or not quotes:
        text = answer.answer.strip() or "I couldn't find an answer to that in the articles."
        blocks.append(esc(text))
        if answer.closest:
            lines = ["<b>Closest articles:</b>"]
            lines.extend(f"• {source_line(ref).removeprefix('— ')}" for ref in answer.closest)
            blocks.append("\n".join(lines))
        return blocks
    if answer.answer.strip():
        blocks.append(esc(answer.answer.strip()))
    blocks.extend(quote_block(quote) for quote in quotes)
    return blocks


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The reply to a question, as one or more HTML messages."""
    return split_blocks(answer_blocks(answer), limit)


def render_more_quotes(quotes: Sequence[Quote], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The next quotes for a question (the "More quotes" button)."""
    if not quotes:
        return ["No more quotes for this question."]
    return split_blocks([quote_block(quote) for quote in quotes], limit)


def render_sources(articles: Sequence[ArticleRef], page: int, per_page: int) -> str:
    """One page of the indexed articles, newest first."""
    if not articles:
        return "No articles are indexed yet."
    pages = max(1, -(-len(articles) // per_page))
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    lines = [f"<b>Indexed articles</b> ({len(articles)}, newest first) — page {page + 1}/{pages}"]
    for number, ref in enumerate(articles[start : start + per_page], start=start + 1):
        lines.append(f"{number}. {source_line(ref).removeprefix('— ')}")
    return "\n".join(lines)


def split_blocks(blocks: Iterable[str], limit: int = MAX_MESSAGE_CHARS, separator: str = "\n\n") -> list[str]:
    """Pack blocks into messages of at most `limit` characters, splitting only between blocks.

    A block longer than `limit` on its own is cut with `split_block`.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block] if len(block) <= limit else split_block(block, limit)
        for piece in pieces:
            if not current:
                current = piece
            elif len(current) + len(separator) + len(piece) <= limit:
                current += separator + piece
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def split_block(block: str, limit: int) -> list[str]:
    """Cut one oversized block line by line; an oversized line wrapped in a single tag is cut inside its text."""
    pieces: list[str] = []
    for line in block.split("\n"):
        if len(line) <= limit:
            pieces.append(line)
            continue
        match = _INLINE_TAG.match(line)
        if match and "<" not in match.group("body"):
            opening, closing = f"<{match.group('tag')}{match.group('attrs')}>", f"</{match.group('tag')}>"
            pieces.extend(opening + part + closing for part in _cut_escaped(match.group("body"), limit - len(opening) - len(closing)))
        elif "<" not in line:
            pieces.extend(_cut_escaped(line, limit))
        else:  # mixed markup on one huge line: drop the tags rather than break one
            pieces.extend(_cut_escaped(esc(_strip_tags(line)), limit))
    return split_blocks(pieces, limit, separator="\n")


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _cut_escaped(text: str, limit: int) -> list[str]:
    """Cut escaped text into pieces of at most `limit` characters, at whitespace when possible, never inside an entity."""
    limit = max(limit, 16)
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
            amp = text.rfind("&", 0, cut)
            if amp != -1 and ";" not in text[amp:cut]:
                cut = amp or limit  # do not split an entity such as &amp;
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces
