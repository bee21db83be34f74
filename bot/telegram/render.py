"""Telegram HTML for answers, sources and summaries: everything escaped, every message within Telegram's limit.

An answer reads as one message wherever it fits: the lead shown bold inside its quote (or a generated answer,
labelled as such), then the quotes grouped by article, each group closed by one source line whose link
carries a text fragment (`#:~:text=`) so a browser scrolls to and highlights the quoted sentences.

Telegram limits a message to 4,096 UTF-16 code units of *text after entities parsing* (tags and link
targets do not count, an emoji outside the BMP counts two). Messages are packed from blocks and split only
between blocks; a block too long for one message is cut at whitespace into pieces that each carry their
own tags, so a tag is never opened in one message and closed in the next.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote as percent_encode
from urllib.parse import urlparse

from bot.answer_text import absent_note, caution, did_you_mean_line
from bot.types import Answer, ArticleRef, Quote

MAX_MESSAGE_UNITS = 4096  # UTF-16 code units of visible text
MAX_MESSAGE_CHARS = MAX_MESSAGE_UNITS  # kept for callers that import the old name
EXPANDABLE_OVER = 300  # quotes longer than this (UTF-16 units) are collapsed: tap to expand
GENERATED_LABEL = "Generated from the quotes below (not a quote):"
NOT_FOUND = "I couldn't find an answer to that in the articles."
FRAGMENT_WORDS = 5  # words of each end of a long quote in a `textStart,textEnd` text fragment
FRAGMENT_EXACT_CHARS = 120  # quotes up to this long are matched whole
MAX_FRAGMENTS = 3  # text directives per link
MAX_TITLE = 300  # characters of a title shown (a hostile collection file may carry any length)
PARAGRAPH = "\n\n"
_TAGS = re.compile(r"<[^>]*>")


# --------------------------------------------------------------------------- text and lengths


def esc(text: object) -> str:
    """Escape text for Telegram HTML (only &, < and > are special outside attributes)."""
    return html.escape(str(text), quote=False)


def esc_attr(text: object) -> str:
    """Escape an attribute value (double-quoted)."""
    return esc(text).replace('"', "&quot;")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible_len(markup: str) -> int:
    """UTF-16 length of the text Telegram shows for `markup` (our own HTML: tags removed, entities decoded)."""
    return utf16_len(html.unescape(_TAGS.sub("", markup)))


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


# --------------------------------------------------------------------------- text fragments


def _fragment_encode(text: str) -> str:
    """Percent-encode one text-fragment term: everything but unreserved characters, and `-` too (it is
    syntax in a text directive, like `&` and `,`)."""
    return percent_encode(text, safe="").replace("-", "%2D")


def text_directive(text: str) -> str:
    """`text=...` for one quote: the whole quote when short, else `textStart,textEnd` (its first and last
    words), which browsers match as the range from the one to the other."""
    words = text.split()
    if len(" ".join(words)) <= FRAGMENT_EXACT_CHARS or len(words) <= 2 * FRAGMENT_WORDS:
        return "text=" + _fragment_encode(" ".join(words))
    start, end = " ".join(words[:FRAGMENT_WORDS]), " ".join(words[-FRAGMENT_WORDS:])
    return f"text={_fragment_encode(start)},{_fragment_encode(end)}"


def fragment_url(url: str | None, texts: Sequence[str] = ()) -> str | None:
    """The article's URL with a text fragment highlighting `texts` (None when the URL is not a safe link)."""
    target = safe_url(url)
    if target is None or not texts:
        return target
    base, _, fragment = target.partition("#")
    fragment = fragment.split(":~:", 1)[0]
    directives = "&".join(text_directive(text) for text in list(texts)[:MAX_FRAGMENTS] if text.split())
    return f"{base}#{fragment}:~:{directives}" if directives else target


# --------------------------------------------------------------------------- pieces


def link(title: str, url: str | None, texts: Sequence[str] = ()) -> str:
    """The escaped title, linked (with a text fragment for `texts`) when the URL is a safe http(s) link."""
    target = fragment_url(url, texts)
    title = title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"
    if target:
        return f'<a href="{esc_attr(target)}">{esc(title)}</a>'
    return esc(title)


def source_line(ref: Quote | ArticleRef, texts: Sequence[str] = (), dash: bool = True) -> str:
    """'— Title (linked), Outlet, 5 Aug 2022'."""
    parts = [link(ref.title or ref.article_id, ref.url, texts)]
    if ref.source:
        parts.append(esc(ref.source))
    published = format_date(ref.published)
    if published:
        parts.append(esc(published))
    return ("— " if dash else "") + ", ".join(parts)


def _with_bold(text: str, bold: tuple[int, int] | None) -> str:
    """`text` escaped, with `bold` (offsets into `text`) in <b>."""
    if bold is None:
        return esc(text)
    start, end = max(0, bold[0]), min(len(text), bold[1])
    if start >= end:
        return esc(text)
    return f"{esc(text[:start])}<b>{esc(text[start:end])}</b>{esc(text[end:])}"


def blockquote(inner_html: str) -> str:
    """A blockquote, collapsed (expandable) when its text is long."""
    opening = "<blockquote expandable>" if visible_len(inner_html) > EXPANDABLE_OVER else "<blockquote>"
    return f"{opening}{inner_html}</blockquote>"


def quote_html(quote: Quote, bold: tuple[int, int] | None = None) -> str:
    """One quote as a blockquote: its window between "…" when it has one, the lead in bold."""
    text = quote.text
    start, end = quote.window or (0, len(text))
    start, end = max(0, start), min(len(text), end)
    if start >= end:
        start, end = 0, len(text)
    shown_bold = None
    if bold is not None and bold[0] < end and bold[1] > start:
        shown_bold = (max(bold[0], start) - start, min(bold[1], end) - start)
    inner = _with_bold(text[start:end], shown_bold)
    if start > 0:
        inner = "…" + inner
    if end < len(text):
        inner += "…"
    return blockquote(inner)


def group_by_article(quotes: Sequence[Quote]) -> list[list[Quote]]:
    """Quotes grouped by article, groups in the order of their best quote, quotes in rank order."""
    groups: dict[str, list[Quote]] = {}
    for item in quotes:
        groups.setdefault(item.article_id, []).append(item)
    return list(groups.values())


def group_blocks(
    group: Sequence[Quote], limit: int = MAX_MESSAGE_UNITS, bold: dict[int, tuple[int, int]] | None = None
) -> list[str]:
    """One article's quotes followed by its source line, as one block. Quotes that cannot share a message
    are split into several blocks, each closed by the source line; a quote too long for any message is cut
    into several blockquotes (the source after the last)."""
    bold = bold or {}
    blocks: list[str] = []
    pending: list[tuple[Quote, str]] = []

    def joined(items: list[tuple[Quote, str]]) -> str:
        quotes = [item for item, _ in items]
        return "\n".join(markup for _, markup in items) + "\n" + source_line(quotes[0], [q.text for q in quotes])

    for item in group:
        markup = quote_html(item, bold.get(id(item)))
        source = source_line(item, [item.text])
        if visible_len(markup) + 1 + visible_len(source) > limit:  # too long even alone
            if pending:
                blocks.append(joined(pending))
                pending = []
            text = item.text[slice(*item.window)] if item.window else item.text
            pieces = [blockquote(esc(piece)) for piece in cut_text(text, limit - 1 - visible_len(source))]
            pieces[-1] += "\n" + source
            blocks.extend(pieces)
            continue
        if pending and visible_len(joined([*pending, (item, markup)])) > limit:
            blocks.append(joined(pending))
            pending = []
        pending.append((item, markup))
    if pending:
        blocks.append(joined(pending))
    return blocks


# --------------------------------------------------------------------------- answers


def _find_words(needle: str, haystack: str) -> tuple[int, int] | None:
    words = needle.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, haystack, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def lead_span(answer: Answer) -> tuple[int, int] | None:
    """Where the extractive answer lies in the first quote: `Answer.lead` when the pipeline gives it, else
    found by its words (the answer may add a capital or a final full stop). None when it is not there."""
    if answer.generated or answer.abstained or not answer.quotes:
        return None
    text = answer.quotes[0].text
    if answer.lead is not None:
        start, end = answer.lead
        return (start, end) if 0 <= start < end <= len(text) else None
    lead = answer.answer.strip()
    return _find_words(lead, text) or (_find_words(lead[:-1], text) if lead[-1:] in ".!?" else None)


def _covers_all(span: tuple[int, int], text: str) -> bool:
    return not text[: span[0]].strip() and not text[span[1] :].strip(" \n\t.!?\"'”’")


def answer_blocks(answer: Answer, quotes: Sequence[Quote] | None = None, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """The answer as blocks: a generated answer (labelled) or the lead, then the quotes by article;
    when nothing answers, the 'not found' text and the closest articles."""
    quotes = list(answer.quotes if quotes is None else quotes)
    if answer.abstained or not quotes:
        blocks = [esc(piece) for piece in cut_text(answer.answer.strip() or NOT_FOUND, limit)]
        if absent_note(answer):
            blocks.append(f"<i>{esc(absent_note(answer))}</i>")
        if answer.did_you_mean:
            blocks.append(f"<i>{esc(did_you_mean_line(answer))}</i>")
        if answer.closest:
            lines = ["<b>Closest articles:</b>"]
            lines.extend(f"• {source_line(ref, dash=False)}" for ref in answer.closest)
            blocks.append("\n".join(lines))
        return blocks
    blocks: list[str] = []
    bold: dict[int, tuple[int, int]] = {}
    if answer.tentative and not answer.generated:
        blocks.append(f"<i>{esc(caution(answer))}</i>")  # no bold lead: nothing here is known to answer
    elif answer.generated:
        label = f"<i>{esc(GENERATED_LABEL)}</i>\n"
        pieces = cut_text(answer.answer.strip(), limit - visible_len(label))
        blocks.extend([label + esc(pieces[0]), *(esc(piece) for piece in pieces[1:])])
    else:
        span = lead_span(answer)
        if span is not None and not _covers_all(span, quotes[0].text):
            bold[id(quotes[0])] = span
        elif span is None and answer.answer.strip():  # an answer that is not in the quote: say it first
            blocks.extend(f"<b>{esc(piece)}</b>" for piece in cut_text(answer.answer.strip(), limit))
    for group in group_by_article(quotes):
        blocks.extend(group_blocks(group, limit, bold))
    if answer.absent:  # the question asks about something no article names: say so under the quotes
        blocks.append(f"<i>{esc(absent_note(answer))}</i>")
    return blocks


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """The reply to a question, as one HTML message wherever it fits (more only when it must)."""
    return split_blocks(answer_blocks(answer, limit=limit), limit)


def render_more_quotes(quotes: Sequence[Quote], limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """The next quotes for a question (the "More quotes" button)."""
    if not quotes:
        return ["No more quotes for this question."]
    return split_blocks([block for group in group_by_article(quotes) for block in group_blocks(group, limit)], limit)


def render_quote_message(quote: Quote, limit: int = MAX_MESSAGE_UNITS) -> str:
    """One quote with its source as a single message (inline results share this)."""
    return split_blocks(group_blocks([quote], limit), limit)[0]


def render_context(quote: Quote, before: str, after: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """The sentences around a quote (all verbatim from the article), the quote itself in bold."""
    text = before + quote.text + after
    passage = Quote(
        text, quote.article_id, quote.title, quote.url, quote.source, quote.published, 0, len(text), quote.score
    )
    bold = {id(passage): (len(before), len(before) + len(quote.text))}
    return split_blocks(group_blocks([passage], limit, bold), limit)


def render_sources(
    articles: Sequence[ArticleRef],
    page: int,
    per_page: int,
    *,
    query: str | None = None,
    show_ids: bool = False,
) -> str:
    """One page of the indexed articles (or of those whose title matched `query`), newest first."""
    if not articles:
        return f"No indexed article has “{esc(query)}” in its title." if query else "No articles are indexed yet."
    pages = max(1, -(-len(articles) // per_page))
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    what = f"Articles matching “{esc(query)}”" if query else "Indexed articles"
    lines = [f"<b>{what}</b> ({len(articles)}, newest first) — page {page + 1}/{pages}"]
    for number, ref in enumerate(articles[start : start + per_page], start=start + 1):
        line = f"{number}. {source_line(ref, dash=False)}"
        if show_ids:
            line += f" · <code>{esc(ref.article_id)}</code>"
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- splitting


def split_blocks(blocks: Iterable[str], limit: int = MAX_MESSAGE_UNITS, separator: str = PARAGRAPH) -> list[str]:
    """Pack HTML blocks into messages of at most `limit` visible UTF-16 units, splitting only between blocks.

    A block still longer than `limit` (a huge list) is cut between its lines, whose tags never span lines.
    """
    messages: list[str] = []
    current, units = "", 0
    gap = utf16_len(separator)
    for block in blocks:
        size = visible_len(block)
        pieces = [(block, size)] if size <= limit else [(p, visible_len(p)) for p in _split_lines(block, limit)]
        for piece, piece_units in pieces:
            if not current:
                current, units = piece, piece_units
            elif units + gap + piece_units <= limit:
                current, units = current + separator + piece, units + gap + piece_units
            else:
                messages.append(current)
                current, units = piece, piece_units
    if current:
        messages.append(current)
    return messages


def _split_lines(block: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for line in block.split("\n"):
        if visible_len(line) <= limit:
            pieces.append(line)
        else:  # one enormous line: keep its text, drop its markup rather than cut a tag
            pieces.extend(esc(piece) for piece in cut_text(html.unescape(_TAGS.sub("", line)), limit))
    return split_blocks(pieces, limit, separator="\n")


def cut_text(text: str, limit: int) -> list[str]:
    """Cut plain `text` into pieces of at most `limit` UTF-16 units, at whitespace when possible (escape
    them afterwards: escaping does not change the visible length)."""
    limit = max(limit, 16)
    pieces: list[str] = []
    text = text.strip()
    while text:
        if utf16_len(text) <= limit:
            pieces.append(text)
            break
        size = min(len(text), limit)
        while utf16_len(text[:size]) > limit:  # characters outside the BMP count two units
            size -= max(1, (utf16_len(text[:size]) - limit + 1) // 2)
        space = max(text.rfind(" ", 0, size + 1), text.rfind("\n", 0, size + 1))
        cut = space if space > size // 2 else size
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [piece for piece in pieces if piece]
