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


def quote_blocks(quote: Quote, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """A quote as one block, or, if it cannot fit in one message, as several blockquotes (source after the last)."""
    block = quote_block(quote)
    if len(block) <= limit:
        return [block]
    source = source_line(quote)
    wrapper = len("<blockquote></blockquote>")
    blocks = [f"<blockquote>{piece}</blockquote>" for piece in cut_text(quote.text, limit - wrapper)]
    if len(blocks[-1]) + 1 + len(source) <= limit:
        blocks[-1] += "\n" + source
    else:
        blocks.append(source)
    return blocks


def text_blocks(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Plain text, escaped, as one block or cut into several that each fit."""
    return cut_text(text, limit)


def answer_blocks(answer: Answer, quotes: Sequence[Quote] | None = None, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The answer as blocks: the answer text (or 'not found' with the closest articles), then the quotes."""
    blocks: list[str] = []
    quotes = answer.quotes if quotes is None else quotes
    if answer.abstained or not quotes:
        text = answer.answer.strip() or "I couldn't find an answer to that in the articles."
        blocks.extend(text_blocks(text, limit))
        if answer.closest:
            lines = ["<b>Closest articles:</b>"]
            lines.extend(f"• {source_line(ref).removeprefix('— ')}" for ref in answer.closest)
            blocks.append("\n".join(lines))
        return blocks
    text = answer.answer.strip()
    if text and " ".join(text.split()) not in {" ".join(quote.text.split()) for quote in quotes}:
        blocks.extend(text_blocks(text, limit))
    else:  # an extractive answer is the best quote itself: do not print it twice
        blocks.append("<b>From the articles:</b>")
    for quote in quotes:
        blocks.extend(quote_blocks(quote, limit))
    return blocks


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The reply to a question, as one or more HTML messages."""
    return split_blocks(answer_blocks(answer, limit=limit), limit)


def render_more_quotes(quotes: Sequence[Quote], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The next quotes for a question (the "More quotes" button)."""
    if not quotes:
        return ["No more quotes for this question."]
    return split_blocks([block for quote in quotes for block in quote_blocks(quote, limit)], limit)


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
    """Pack HTML blocks into messages of at most `limit` characters, splitting only between blocks.

    A block still longer than `limit` (a huge list) is cut between its lines, whose tags never span lines.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block] if len(block) <= limit else _split_lines(block, limit)
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


def _split_lines(block: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for line in block.split("\n"):
        if len(line) <= limit:
            pieces.append(line)
        else:  # one enormous line: keep its text, drop its markup rather than cut a tag
            pieces.extend(cut_text(html.unescape(re.sub(r"<[^>]+>", "", line)), limit))
    return split_blocks(pieces, limit, separator="\n")


def cut_text(text: str, limit: int) -> list[str]:
    """Escape `text` and cut it into pieces of at most `limit` escaped characters, at whitespace when possible."""
    limit = max(limit, 16)
    pieces: list[str] = []
    text = text.strip()
    while text:
        escaped = esc(text)
        if len(escaped) <= limit:
            pieces.append(escaped)
            break
        size = limit
        while len(esc(text[:size])) > limit:  # entities make the escaped text longer
            size -= max(1, (len(esc(text[:size])) - limit) // 5)
        space = max(text.rfind(" ", 0, size + 1), text.rfind("\n", 0, size + 1))
        cut = space if space > size // 2 else size
        pieces.append(esc(text[:cut].rstrip()))
        text = text[cut:].lstrip()
    return [piece for piece in pieces if piece]
