"""Inline mode: `@bot question` in any chat offers the top quotes; choosing one sends the quote with its
source (people share evidence, not claims). Enable it with @BotFather's /setinline. The allow-list applies
(the gate runs first) and so does the rate limit; results are personal, so Telegram never caches one
user's results for another."""

from __future__ import annotations

import logging

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.telegram.deeplinks import deep_link_payload
from bot.telegram.render import format_date, render_quote_message
from bot.telegram.services import services
from bot.types import EmptyCollectionError, QuestionError, Quote

log = logging.getLogger(__name__)

MIN_QUERY_CHARS = 3
MAX_RESULTS = 6
CACHE_SECONDS = 30
BUTTON_CHARS = 64  # Telegram's limit on the text of the button above inline results


def quote_result(number: int, quote: Quote) -> InlineQueryResultArticle:
    """One result: the quote as its title line, the source below; sends the quote with its source."""
    text = " ".join(quote.text.split())
    about = ", ".join(part for part in (quote.title, quote.source, format_date(quote.published)) if part)
    return InlineQueryResultArticle(
        id=f"q{number}",
        title=text if len(text) <= 120 else text[:119] + "…",
        description=about[:200],
        input_message_content=InputTextMessageContent(
            render_quote_message(quote),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
    )


def _not_found(absent: list[str], unmatched: list[str] | None = None) -> str:
    """The button of a declined question: the numbered name the closest article never mentions
    (bot/numbered.py), else the first word no article uses (bot/absent.py), when it fits."""
    if unmatched:
        named = f"Not found — no answer about “{unmatched[0]}”"
    else:
        named = f"Not found — no article mentions “{absent[0]}”" if absent else ""
    return named if 0 < len(named) <= BUTTON_CHARS else "Not found in the articles — ask me here"


def _button(text: str, question: str = "") -> InlineQueryResultsButton:
    """The line above the results: opens a private chat with the bot (asking `question` when it fits)."""
    return InlineQueryResultsButton(text=text[:BUTTON_CHARS], start_parameter=deep_link_payload(question) or "inline")


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    svc = services(context)
    question = " ".join(query.query.split())
    if len(question) < MIN_QUERY_CHARS:
        await query.answer([], button=_button("Type a question about the articles…"), cache_time=0, is_personal=True)
        return
    wait = svc.limiter.check(query.from_user.id)
    if wait:
        await query.answer(
            [], button=_button(f"Too many questions — wait {max(1, round(wait))} s"), cache_time=0, is_personal=True
        )
        return
    try:
        answer = await svc.run(svc.answerer.ask, question)
    except (QuestionError, EmptyCollectionError) as error:
        await query.answer([], button=_button(str(error)), cache_time=0, is_personal=True)
        return
    quotes = [] if answer.abstained else [*answer.quotes, *answer.more_quotes][:MAX_RESULTS]
    if not quotes:
        # a misspelled name: the respelled question, which the articles answer, is one tap away
        ask, text = (
            (answer.did_you_mean, f"Did you mean “{answer.did_you_mean}”?")
            if answer.did_you_mean and deep_link_payload(answer.did_you_mean)
            else (question, _not_found(answer.absent, answer.unmatched))
        )
        await query.answer(
            [],
            button=_button(text, ask),
            cache_time=CACHE_SECONDS,
            is_personal=True,
        )
        return
    results = [quote_result(number, quote) for number, quote in enumerate(quotes)]
    # weak evidence: say so above the results (the quotes are the closest passages, perhaps not an answer)
    caution = "Older than asked — may not answer this" if answer.dated else "Closest passages — may not answer this"
    button = _button(caution, question) if answer.tentative else None
    await query.answer(results, button=button, cache_time=CACHE_SECONDS, is_personal=True)
