"""Thin Telegram handlers: parse the update, call the pipeline off the event loop, render, send.

The shared services (pipeline, store, feedback database, limits) live in `application.bot_data["services"]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application as _Application
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram.access import ADMIN_ONLY, REFUSAL, AccessPolicy
from bot.telegram.feedback import FeedbackStore
from bot.telegram.net import send_with_retry
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex import ReadWriteLock, Reindexer
from bot.telegram.render import esc, format_date, render_answer, render_more_quotes, render_sources
from bot.types import EmptyCollectionError, QuestionError
from indexing.settings import Settings

log = logging.getLogger(__name__)

SOURCES_PER_PAGE = 8
QUOTES_PER_PAGE = 3
TYPING_AFTER = 0.25  # seconds before "typing..." is shown (quick answers need none)
TYPING_EVERY = 4.5  # Telegram shows "typing..." for about 5 seconds
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json")
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024

COMMANDS = [
    BotCommand("start", "Welcome and what is indexed"),
    BotCommand("help", "How to ask questions"),
    BotCommand("ask", "Ask a question: /ask QUESTION"),
    BotCommand("sources", "The indexed articles, newest first"),
]
ADMIN_COMMANDS = [
    BotCommand("reindex", "Admins: update the index from the articles folder"),
    BotCommand("add", "Admins: index one article from a URL"),
]

APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
NOT_TEXT = "I can only answer text questions — please type your question."
HELP = (
    "Ask me a question about the indexed articles and I answer with <b>verbatim quotes</b> from them, "
    "each with its source.\n\n"
    "• In a private chat, just send the question.\n"
    "• In a group, mention me, reply to one of my messages, or use /ask QUESTION.\n"
    "• Reply to one of my answers to ask a follow-up (e.g. “And when did that happen?”).\n"
    "• <b>More quotes</b> shows the next best quotes; 👍 / 👎 tell the maintainers how I did.\n\n"
    "/sources lists the indexed articles, newest first."
)
ADMIN_HELP = (
    "\n\n<b>Admins</b>: /reindex updates the index from the articles folder; /add URL indexes one article "
    "from the web; send a .txt, .md, .html or .json document to add it to the collection."
)


@dataclass
class Services:
    """Everything the handlers share, created once per application."""

    settings: Settings
    answerer: Any
    store: Any
    embedder: Any
    feedback: FeedbackStore
    limiter: SlidingWindowLimiter
    access: AccessPolicy
    store_lock: ReadWriteLock
    executor: ThreadPoolExecutor
    reindexer: Reindexer

    async def run(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking pipeline call in the worker pool, as a reader of the store."""

        def call() -> Any:
            with self.store_lock.read():
                return func(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self.executor, call)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


# --------------------------------------------------------------------------- helpers


def _reply_parameters(message: Message) -> ReplyParameters | None:
    """Reply to the question in groups (threads stay readable); plain messages in private chats."""
    if message.chat.type == ChatType.PRIVATE:
        return None
    return ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)


async def reply(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send HTML into the message's chat (retried on network errors)."""
    return await send_with_retry(
        message.get_bot().send_message,
        chat_id=message.chat_id,
        text=text,
        reply_markup=markup,
        reply_parameters=_reply_parameters(message),
    )


async def _keep_typing(message: Message) -> None:
    """Show "typing..." until cancelled, once the answer takes longer than TYPING_AFTER.

    Most answers take tens of milliseconds; a chat action for those would double the requests counted
    against Telegram's ~30 messages a second (and the rate limiter would queue the answers behind them).
    """
    bot = message.get_bot()
    await asyncio.sleep(TYPING_AFTER)
    while True:
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id=message.chat_id, action=ChatAction.TYPING)
        await asyncio.sleep(TYPING_EVERY)


def answer_keyboard(question_id: int, more_offset: int | None, vote: int = 0) -> InlineKeyboardMarkup:
    """ "More quotes" (when there are more) and 👍 / 👎; callback data is a few bytes, far under 64."""
    rows = []
    if more_offset is not None:
        rows.append([InlineKeyboardButton("More quotes", callback_data=f"more:{question_id}:{more_offset}")])
    rows.append(
        [
            InlineKeyboardButton("👍 ✓" if vote > 0 else "👍", callback_data=f"fb:{question_id}:1"),
            InlineKeyboardButton("👎 ✓" if vote < 0 else "👎", callback_data=f"fb:{question_id}:-1"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def sources_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("« Newer", callback_data=f"src:{page - 1}"))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=f"src:{page}"))
    if page < pages - 1:
        row.append(InlineKeyboardButton("Older »", callback_data=f"src:{page + 1}"))
    return InlineKeyboardMarkup([row])


def _is_reply_to_bot(message: Message) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == message.get_bot().id)


def _mentions_bot(message: Message) -> bool:
    username = (message.get_bot().username or "").lower()
    if not username:
        return False
    mentions = [
        *message.parse_entities([MessageEntityType.MENTION]).values(),
        *message.parse_caption_entities([MessageEntityType.MENTION]).values(),
    ]
    return any(text.lower() == f"@{username}" for text in mentions)


def _strip_mention(text: str, username: str) -> str:
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def _addressed_to_bot(message: Message) -> bool:
    """Private chats always; groups when mentioned, replied to or commanded."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    text = message.text or message.caption or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        target = command.partition("@")[2].lower()
        return not target or target == (message.get_bot().username or "").lower()
    return _mentions_bot(message) or _is_reply_to_bot(message)


# --------------------------------------------------------------------------- access control


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first for every update: users not in ALLOWED_USER_IDS get one refusal line and nothing else."""
    user = update.effective_user
    if services(context).access.is_allowed(user.id if user else None):
        return
    if update.callback_query:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(REFUSAL, show_alert=True)
    elif update.message and _addressed_to_bot(update.message):
        with contextlib.suppress(TelegramError):
            await reply(update.message, esc(REFUSAL))
    log.info("refused update %s from user %s", update.update_id, user.id if user else None)
    raise ApplicationHandlerStop


# --------------------------------------------------------------------------- questions


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, question: str) -> None:
    """Rate-limit, ask the pipeline in a worker thread, reply with the answer and its buttons."""
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
    wait = svc.limiter.check(user_id)
    if wait:
        await reply(
            message,
            f"You're asking faster than I can keep up — please wait {max(1, round(wait))} s and ask again. "
            f"(Limit: {svc.settings.rate_limit_per_minute} questions a minute.)",
        )
        return

    earlier = None
    if _is_reply_to_bot(message):
        earlier = svc.feedback.question_for_message(message.chat_id, message.reply_to_message.message_id)
    # A follow-up of a follow-up keeps the whole thread as context (the pipeline caps its length).
    follow_up_context = " ".join(part for part in (earlier.context, earlier.question) if part) if earlier else None

    typing = asyncio.create_task(_keep_typing(message))
    try:
        answer = await svc.run(partial(svc.answerer.ask, question, context=follow_up_context))
    except (QuestionError, EmptyCollectionError) as error:
        await reply(message, esc(str(error)))
        return
    except Exception:
        log.exception("pipeline failed on update %s", update.update_id)
        await reply(message, APOLOGY)
        return
    finally:
        typing.cancel()

    question_id = svc.feedback.record_question(
        chat_id=message.chat_id,
        user_id=user_id,
        update_id=update.update_id,
        answer=answer,
        context=follow_up_context,
    )
    texts = render_answer(answer)
    more = 0 if answer.more_quotes and not answer.abstained else None
    sent: list[int] = []
    for index, text in enumerate(texts):
        markup = answer_keyboard(question_id, more) if index == len(texts) - 1 else None
        sent_message = await reply(message, text, markup)
        sent.append(sent_message.message_id)
    svc.feedback.link_messages(question_id, message.chat_id, sent)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private chat: every text is a question. Groups: only when mentioned or replied to."""
    message = update.message
    if message is None or message.text is None:
        return
    if message.chat.type != ChatType.PRIVATE and not (_mentions_bot(message) or _is_reply_to_bot(message)):
        return
    question = _strip_mention(message.text, context.bot.username or "")
    await answer_question(update, context, message, question)


async def cmd_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION (works everywhere, the way to ask in groups)."""
    message = update.message
    parts = (message.text or "").split(maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        await reply(message, "Usage: /ask QUESTION — for example <code>/ask Who visited Pakistan?</code>")
        return
    await answer_question(update, context, message, _strip_mention(parts[1], context.bot.username or ""))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice… in private chats (or addressed to the bot in groups)."""
    message = update.message
    if message is None or not _addressed_to_bot(message):
        return
    await reply(message, NOT_TEXT)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        await reply(message, "I don't know that command. Try /help.")


# --------------------------------------------------------------------------- commands


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome, with how many articles are indexed and the newest one's date."""
    svc = services(context)
    try:
        articles = await svc.run(svc.answerer.articles)
    except Exception:
        log.exception("listing articles failed on update %s", update.update_id)
        articles = None
    name = update.effective_user.first_name if update.effective_user else "there"
    lines = [
        f"Hello {esc(name)}! I answer questions about a collection of articles with verbatim quotes and their sources."
    ]
    if articles is None:
        lines.append("I can't read the collection right now; please try again later.")
    elif not articles:
        lines.append("No articles are indexed yet.")
    else:
        newest = next((format_date(ref.published) for ref in articles if ref.published), None)
        count = f"{len(articles)} article{'s' if len(articles) != 1 else ''}"
        lines.append(f"<b>{count}</b> indexed" + (f", the newest from {esc(newest)}." if newest else "."))
    lines.append("Just send me a question, e.g. <i>Who met the Pakistani army chief?</i> — /help for more.")
    await reply(update.message, "\n\n".join(lines))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    text = HELP + (ADMIN_HELP if svc.access.is_admin(update.effective_user.id) else "")
    await reply(update.message, text)


async def _sources_page(svc: Services, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    articles = await svc.run(svc.answerer.articles)
    pages = max(1, -(-len(articles) // SOURCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    return render_sources(articles, page, SOURCES_PER_PAGE), sources_keyboard(page, pages)


async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The indexed articles, newest first, paginated with buttons."""
    text, markup = await _sources_page(services(context), 0)
    await reply(update.message, text, markup)


# --------------------------------------------------------------------------- buttons


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """more:<question id>:<offset>, fb:<question id>:<±1>, src:<page>."""
    query = update.callback_query
    kind, _, rest = (query.data or "").partition(":")
    try:
        if kind == "more":
            await _more_quotes(update, context, query, rest)
        elif kind == "fb":
            await _feedback(update, context, query, rest)
        elif kind == "src":
            await _sources_callback(context, query, rest)
        else:
            await query.answer("This button has expired.")
    except ValueError:
        await query.answer("This button has expired.")


async def _more_quotes(update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, rest: str) -> None:
    svc = services(context)
    question_id, _, offset_text = rest.partition(":")
    stored = svc.feedback.get(int(question_id))
    offset = int(offset_text or 0)
    if stored is None:
        await query.answer("I no longer have this question; please ask again.")
        return
    quotes = stored.more_quotes[offset : offset + QUOTES_PER_PAGE]
    if not quotes:
        await query.answer("No more quotes for this question.")
        return
    await query.answer()
    message = query.message
    vote = svc.feedback.votes(stored.id).get(query.from_user.id, 0)
    with contextlib.suppress(BadRequest):  # the "More quotes" button moves to the new message
        await send_with_retry(
            context.bot.edit_message_reply_markup,
            chat_id=message.chat_id,
            message_id=message.message_id,
            reply_markup=answer_keyboard(stored.id, None, vote),
        )
    next_offset = offset + QUOTES_PER_PAGE if len(stored.more_quotes) > offset + QUOTES_PER_PAGE else None
    texts = render_more_quotes(quotes)
    sent = []
    for index, text in enumerate(texts):
        markup = answer_keyboard(stored.id, next_offset) if index == len(texts) - 1 else None
        sent_message = await send_with_retry(
            context.bot.send_message,
            chat_id=message.chat_id,
            text=text,
            reply_markup=markup,
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True),
        )
        sent.append(sent_message.message_id)
    svc.feedback.link_messages(stored.id, message.chat_id, sent)


async def _feedback(update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, rest: str) -> None:
    svc = services(context)
    question_id, _, vote_text = rest.partition(":")
    vote = 1 if int(vote_text) > 0 else -1
    stored = svc.feedback.get(int(question_id))
    if stored is None:
        await query.answer("I no longer have this answer.")
        return
    svc.feedback.record_feedback(stored.id, query.from_user.id, vote)
    await query.answer("Thanks for the feedback!")
    message = query.message
    buttons = message.reply_markup.inline_keyboard if message and message.reply_markup else ()
    more = None
    for row in buttons:
        for button in row:
            if (button.callback_data or "").startswith("more:"):
                more = int(str(button.callback_data).rsplit(":", 1)[1])
    with contextlib.suppress(BadRequest):  # same vote twice: "message is not modified"
        await send_with_retry(
            context.bot.edit_message_reply_markup,
            chat_id=message.chat_id,
            message_id=message.message_id,
            reply_markup=answer_keyboard(stored.id, more, vote),
        )


async def _sources_callback(context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, rest: str) -> None:
    text, markup = await _sources_page(services(context), int(rest))
    await query.answer()
    with contextlib.suppress(BadRequest):  # the current page pressed again
        await send_with_retry(
            context.bot.edit_message_text,
            chat_id=query.message.chat_id,
            message_id=query.message.message_id,
            text=text,
            reply_markup=markup,
        )


# --------------------------------------------------------------------------- admin


async def _require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    if services(context).access.is_admin(update.effective_user.id if update.effective_user else None):
        return True
    await reply(update.message, esc(ADMIN_ONLY))
    return False


BUSY = "An indexing job is already running — I'll post its summary when it finishes. Please try again after that."


async def cmd_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: incremental reindex of the articles folder, in the background."""
    if not await _require_admin(update, context):
        return
    svc = services(context)
    prune = "prune" in (context.args or [])
    task = await svc.reindexer.start(
        context.bot,
        update.message.chat_id,
        label="Reindex",
        prune=prune,
        reply_parameters=_reply_parameters(update.message),
    )
    if task is None:
        await reply(update.message, BUSY)


async def cmd_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: /add URL indexes one article from the web."""
    if not await _require_admin(update, context):
        return
    args = context.args or []
    url = args[0] if args else ""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        await reply(update.message, "Usage: /add URL — an http(s) link to an article.")
        return
    task = await services(context).reindexer.start(
        context.bot,
        update.message.chat_id,
        label=f"Adding {url}",
        sources=[url],
        reply_parameters=_reply_parameters(update.message),
        done_note="You can ask about it now.",
    )
    if task is None:
        await reply(update.message, BUSY)


def _safe_file_name(name: str) -> str:
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-")[:100] or "article"
    return stem + suffix


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: a .txt/.md/.html/.json document is saved into the articles folder and indexed."""
    message = update.message
    if message is None or message.document is None or not _addressed_to_bot(message):
        return
    svc = services(context)
    if not svc.access.is_admin(update.effective_user.id if update.effective_user else None):
        await reply(message, "I answer text questions; only the bot's admins can add documents to the collection.")
        return
    document = message.document
    name = document.file_name or "article.txt"
    if not name.lower().endswith(DOCUMENT_SUFFIXES):
        await reply(message, "I can only add .txt, .md, .html or .json files to the collection.")
        return
    limit = min(svc.settings.max_file_bytes, TELEGRAM_DOWNLOAD_LIMIT)
    if document.file_size and document.file_size > limit:
        await reply(message, f"That file is too large ({document.file_size:,} bytes; the limit is {limit:,}).")
        return
    if svc.reindexer.running:
        await reply(message, BUSY)
        return
    articles_dir = Path(svc.settings.articles_dir)
    articles_dir.mkdir(parents=True, exist_ok=True)
    target = articles_dir / _safe_file_name(name)
    telegram_file = await send_with_retry(context.bot.get_file, document.file_id)
    data = await send_with_retry(telegram_file.download_as_bytearray)
    if len(data) > limit:
        await reply(message, f"That file is too large ({len(data):,} bytes; the limit is {limit:,}).")
        return
    await asyncio.to_thread(target.write_bytes, bytes(data))
    log.info("saved uploaded document %s (%d bytes)", target, len(data))
    task = await svc.reindexer.start(
        context.bot,
        message.chat_id,
        label=f"Adding {target.name}",
        sources=[str(target)],
        reply_parameters=_reply_parameters(message),
        done_note="You can ask about it now.",
    )
    if task is None:
        await reply(message, BUSY)


# --------------------------------------------------------------------------- errors


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the update id and, when there is a chat, apologise once; the bot keeps serving."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s: %s", update_id, context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat and update.effective_message:
        with contextlib.suppress(Exception):
            await context.bot.send_message(chat_id=update.effective_chat.id, text=APOLOGY)


def register(application: _Application) -> None:
    """Add every handler to the application."""
    messages_only = filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, gate), group=-1)
    application.add_handler(CommandHandler("start", cmd_start, filters=messages_only))
    application.add_handler(CommandHandler("help", cmd_help, filters=messages_only))
    application.add_handler(CommandHandler("sources", cmd_sources, filters=messages_only))
    application.add_handler(CommandHandler("ask", cmd_ask, filters=messages_only))
    application.add_handler(CommandHandler("reindex", cmd_reindex, filters=messages_only))
    application.add_handler(CommandHandler("add", cmd_add, filters=messages_only))
    application.add_handler(CallbackQueryHandler(on_callback))
    application.add_handler(MessageHandler(messages_only & filters.Document.ALL, on_document))
    application.add_handler(MessageHandler(messages_only & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(messages_only & filters.COMMAND, on_unknown_command))
    application.add_handler(MessageHandler(messages_only & ~filters.StatusUpdate.ALL, on_other))
    application.add_error_handler(on_error)
