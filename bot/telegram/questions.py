"""Questions: a message (or its edit) becomes a pipeline call in the worker pool and one answer, sent as a
reply to the question with its buttons; an edited question re-answers by editing the earlier reply.

The answer goes out first; recording it in the feedback database comes after, best-effort.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.pipeline import newest_words
from bot.telegram.deeplinks import deep_link
from bot.telegram.feedback import StoredQuestion
from bot.telegram.gating import addressed_to_bot, is_reply_to_bot, mentions_bot, strip_mention, within_rate_limit
from bot.telegram.keyboards import AnswerButtons
from bot.telegram.messaging import keep_typing, replace_parts, reply, send_parts
from bot.telegram.render import esc, render_answer
from bot.telegram.services import Services, services
from bot.types import Answer, EmptyCollectionError, QuestionError

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
NOT_TEXT = "I can only answer text questions — please type your question."
USAGE_ASK = "Usage: /ask QUESTION — for example <code>/ask Who visited Pakistan?</code>"


def best_effort(what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`func(...)`, or None (logged) when it fails: the feedback database must never cost an answer."""
    try:
        return func(*args, **kwargs)
    except Exception as error:
        log.error("%s failed (the user was answered anyway): %s", what, error, exc_info=True)
        return None


def thread_context(earlier: StoredQuestion | None, limit: int) -> str | None:
    """A follow-up's context: the earlier question with its own context, its newest `limit` characters."""
    if earlier is None:
        return None
    thread = " ".join(part for part in (earlier.context, earlier.question) if part)
    return newest_words(thread, limit) or None


def question_text(message: Message) -> str | None:
    """The question a message asks the bot (after /ask, without the bot's @name); None when it asks nothing."""
    text = message.text or ""
    username = message.get_bot().username or ""
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        return strip_mention(rest, username) if command.split("@")[0].lower() == "/ask" else None
    if message.chat.type == ChatType.PRIVATE or mentions_bot(message) or is_reply_to_bot(message):
        return strip_mention(text, username)
    return None


def answer_buttons(question_id: int, answer: Answer, username: str = "") -> AnswerButtons:
    """The buttons under an answer; a declined question's suggestion becomes a button that asks it (`username`:
    the bot's, for the t.me link)."""
    answered = bool(answer.quotes) and not answer.abstained
    link = deep_link(username, answer.did_you_mean) if answer.did_you_mean else None
    label = f"Ask “{answer.did_you_mean}”" if link else ""
    return AnswerButtons(
        question_id,
        page=0,
        next_page=1 if answered and answer.more_quotes else None,
        context=answered,
        ask=(label if len(label) <= 64 else label[:62] + "…”", link) if link else None,
    )


async def answer_question(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    question: str,
    *,
    previous: list[int] | None = None,
) -> None:
    """Check, rate-limit, ask the pipeline in a worker thread, send (or edit `previous` into) the answer."""
    svc = services(context)
    user_id = update.effective_user.id if update.effective_user else 0
    question = question.strip()
    if not question:
        await reply(message, "Please ask a question, e.g. <i>Who met the army chief?</i>")
        return
    if len(question) > svc.settings.max_question_chars:
        await reply(
            message,
            f"That question is too long ({len(question)} characters). "
            f"Please keep it under {svc.settings.max_question_chars} characters.",
        )
        return
    if not await within_rate_limit(svc, message, user_id):
        return

    earlier = None
    if is_reply_to_bot(message):
        replied = message.reply_to_message.message_id
        earlier = best_effort(
            "reading the earlier question", svc.feedback.question_for_message, message.chat_id, replied
        )
    follow_up = thread_context(earlier, svc.settings.max_question_chars)

    typing = asyncio.create_task(keep_typing(message.get_bot(), message.chat_id))
    try:
        answer = await svc.run(svc.answerer.ask, question, context=follow_up)
    except (QuestionError, EmptyCollectionError) as error:
        await reply(message, esc(str(error)))
        return
    except Exception:
        log.exception("pipeline failed on update %s", update.update_id)
        await reply(message, APOLOGY)
        return
    finally:
        typing.cancel()
    await deliver(svc, update, message, answer, follow_up, previous)


async def deliver(
    svc: Services, update: Update, message: Message, answer: Answer, follow_up: str | None, previous: list[int] | None
) -> None:
    """Send the answer (or edit the earlier one), then record it, best-effort."""
    question_id = svc.feedback.new_question_id()
    parts = render_answer(answer)
    bot = message.get_bot()
    markup = answer_buttons(question_id, answer, bot.username or "").markup()
    if previous:
        sent = await replace_parts(
            bot, message.chat_id, previous, parts, markup, reply_to_id=message.message_id, sequencer=svc.chats
        )
    else:
        sent = await send_parts(
            bot, message.chat_id, parts, markup, reply_to_id=message.message_id, sequencer=svc.chats
        )
    recorded = best_effort(
        "recording the question",
        svc.feedback.record_question,
        question_id=question_id,
        chat_id=message.chat_id,
        user_id=update.effective_user.id if update.effective_user else None,
        update_id=update.update_id,
        answer=answer,
        context=follow_up,
        message_id=message.message_id,
    )
    if recorded is not None:
        best_effort("linking the answer's messages", svc.feedback.link_messages, question_id, message.chat_id, sent)


# --------------------------------------------------------------------------- handlers


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private chat: every text is a question. Groups: only when mentioned or replied to."""
    message = update.message
    question = question_text(message) if message is not None and message.text is not None else None
    if question is not None:
        await answer_question(update, context, message, question)


async def cmd_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION (works everywhere, the way to ask in groups)."""
    question = question_text(update.message)
    if not question:
        await reply(update.message, USAGE_ASK)
        return
    await answer_question(update, context, update.message, question)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question is answered again, by editing the earlier answer (or anew if it had none)."""
    message = update.edited_message
    if message is None or message.text is None:
        return
    question = question_text(message)
    if question is None:
        return
    svc = services(context)
    earlier = best_effort("finding the earlier answer", svc.feedback.answer_to, message.chat_id, message.message_id)
    await answer_question(update, context, message, question, previous=earlier[1] if earlier else None)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice… in private chats (or addressed to the bot in groups)."""
    message = update.message
    if message is not None and addressed_to_bot(message):
        await reply(message, NOT_TEXT)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        await reply(message, "I don't know that command. Try /help.")
