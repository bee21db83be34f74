"""The buttons under an answer: More quotes, Context, 👍 / 👎 and the reason for a 👎.

Every press is checked against the chat its question was asked in (a button's data replayed from another
chat gets nothing), and "More quotes" / "Context" act once per page: a second press sends nothing new.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram.feedback import REASONS, StoredQuestion
from bot.telegram.keyboards import AnswerButtons, Callback, next_page, page_quotes
from bot.telegram.messaging import send, send_parts
from bot.telegram.net import send_with_retry
from bot.telegram.questions import best_effort
from bot.telegram.render import render_context, render_more_quotes
from bot.telegram.services import Services, services
from bot.types import Quote

log = logging.getLogger(__name__)

EXPIRED = "This button has expired."
GONE = "I no longer have this question; please ask again."


async def on_answer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """more:, ctx:, fb: and why: buttons."""
    query = update.callback_query
    svc = services(context)
    try:
        data = Callback.parse(query.data)
    except ValueError:
        await query.answer(EXPIRED)
        return
    stored = best_effort("reading the question", svc.feedback.get, data.question_id)
    chat_id = query.message.chat_id if query.message else None
    if stored is None or chat_id is None or stored.chat_id != chat_id:
        await query.answer(GONE if stored is None else EXPIRED)  # not this chat's question: nothing leaks
        return
    if data.kind == "more":
        await _more_quotes(svc, query, stored, data.number)
    elif data.kind == "ctx":
        await _context(svc, query, stored, data.number)
    elif data.kind == "fb":
        await _vote(svc, query, stored, data.number)
    else:
        await _reason(svc, query, stored, data.text)


def _buttons(query: CallbackQuery, stored: StoredQuestion) -> AnswerButtons:
    shown = AnswerButtons.from_markup(query.message.reply_markup if query.message else None)
    return shown if shown is not None and shown.question_id == stored.id else AnswerButtons(stored.id)


async def _set_buttons(query: CallbackQuery, buttons: AnswerButtons) -> None:
    with contextlib.suppress(BadRequest):  # the same buttons again: "message is not modified"
        await send_with_retry(
            query.get_bot().edit_message_reply_markup,
            chat_id=query.message.chat_id,
            message_id=query.message.message_id,
            reply_markup=buttons.markup(),
        )


def _vote_of(svc: Services, stored: StoredQuestion, user_id: int) -> int:
    return (best_effort("reading votes", svc.feedback.votes, stored.id) or {}).get(user_id, 0)


async def _more_quotes(svc: Services, query: CallbackQuery, stored: StoredQuestion, page: int) -> None:
    quotes = page_quotes(stored.more_quotes, page)
    if not quotes:
        await query.answer("No more quotes for this question.")
        return
    if best_effort("marking the page shown", svc.feedback.mark_shown, stored.id, "more", page) is False:
        await query.answer("Already shown below.")
        return
    await query.answer()
    vote = _vote_of(svc, stored, query.from_user.id)
    message = query.message
    await _set_buttons(query, replace(_buttons(query, stored), next_page=None, vote=vote))  # the button moves on
    buttons = AnswerButtons(stored.id, page=page, next_page=next_page(stored.more_quotes, page), vote=vote)
    await send_parts(
        query.get_bot(),
        message.chat_id,
        render_more_quotes(quotes),
        buttons.markup(),
        reply_to_id=message.message_id,
        sequencer=svc.chats,
    )


async def _context(svc: Services, query: CallbackQuery, stored: StoredQuestion, page: int) -> None:
    quotes: list[Quote] = stored.quotes if page == 0 else page_quotes(stored.more_quotes, page)
    if not quotes:
        await query.answer(EXPIRED)
        return
    if best_effort("marking the context shown", svc.feedback.mark_shown, stored.id, "context", page) is False:
        await query.answer("Already shown below.")
        return
    await query.answer()
    parts: list[str] = []
    for quote in quotes:
        passage = await svc.run(svc.answerer.context, quote.article_id, quote.start, quote.end, quote=quote.text)
        if passage is None:
            parts.append(f"“{quote.title}” has changed since this answer; ask again for its current text.")
            continue
        parts.extend(render_context(quote, passage.before, passage.after))
    message = query.message
    async with svc.chats.hold(message.chat_id):
        for text in parts:
            await send(query.get_bot(), message.chat_id, text, reply_to_id=message.message_id)


async def _vote(svc: Services, query: CallbackQuery, stored: StoredQuestion, vote: int) -> None:
    vote = 1 if vote > 0 else -1
    best_effort("recording the vote", svc.feedback.record_feedback, stored.id, query.from_user.id, vote)
    await query.answer("Thanks! What was wrong?" if vote < 0 else "Thanks for the feedback!")
    await _set_buttons(query, _buttons(query, stored).with_vote(vote, asking_reason=vote < 0))


async def _reason(svc: Services, query: CallbackQuery, stored: StoredQuestion, reason: str) -> None:
    best_effort("recording the reason", svc.feedback.record_reason, stored.id, query.from_user.id, REASONS[reason])
    await query.answer(f"Noted: {REASONS[reason]}. Thank you!")
    await _set_buttons(query, _buttons(query, stored).with_vote(_vote_of(svc, stored, query.from_user.id)))


async def on_expired(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button (an old keyboard from an earlier version of the bot)."""
    await update.callback_query.answer(EXPIRED)
