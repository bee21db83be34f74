"""/start (with deep-link questions), /help and /sources [WORDS]: what the bot knows, from the cached list."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram.catalog import article_token
from bot.telegram.deeplinks import deep_link_question
from bot.telegram.gating import within_rate_limit
from bot.telegram.keyboards import Callback, sources_keyboard
from bot.telegram.messaging import reply
from bot.telegram.net import send_with_retry
from bot.telegram.questions import answer_question
from bot.telegram.render import esc, format_date, render_sources
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)

SOURCES_PER_PAGE = 8

HELP = (
    "Ask me a question about the indexed articles and I answer with <b>verbatim quotes</b> from them, "
    "each with its source (the link opens the article at the quoted sentence).\n\n"
    "• In a private chat, just send the question.\n"
    "• In a group, mention me, reply to one of my messages, or use /ask QUESTION.\n"
    "• Reply to one of my answers to ask a follow-up (e.g. “And when did that happen?”).\n"
    "• Made a typo? Edit your question and I update my answer.\n"
    "• <b>More quotes</b> shows the next best quotes, <b>Context</b> the sentences around them; "
    "👍 / 👎 tell the maintainers how I did.\n"
    "{inline}\n"
    "/sources lists the indexed articles, newest first; /sources WORDS finds titles."
)
INLINE_HELP = "• In any chat, type @{username} and a question to share a quote with its source.\n"
ADMIN_HELP = (
    "\n\n<b>Admins</b>: /reindex updates the index from the articles folder (/reindex prune also drops "
    "articles whose files are gone); /add URL indexes one article from the web; send a .txt, .md, .html or "
    ".json document to add it; /remove ARTICLE_ID (or 🗑 under /sources) removes one; /uploads lists the "
    "uploaded files."
)


# --------------------------------------------------------------------------- commands


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome, with how many articles are indexed and the newest one's date; `/start PAYLOAD` asks."""
    svc = services(context)
    message = update.message
    question = deep_link_question(context.args[0]) if context.args else None
    if question:
        await answer_question(update, context, message, question)
        return
    if not await within_rate_limit(svc, message, update.effective_user.id if update.effective_user else 0):
        return
    try:
        articles = await svc.run(svc.catalog.get)
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
    await reply(message, "\n\n".join(lines))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    admin = svc.access.is_admin(update.effective_user.id if update.effective_user else None)
    bot = context.bot
    inline = INLINE_HELP.format(username=esc(bot.username)) if bot.supports_inline_queries else ""
    await reply(update.message, HELP.format(inline=inline) + (ADMIN_HELP if admin else ""))


async def sources_page(
    svc: Services, page: int, words: str = "", *, admin: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /sources (of the titles matching `words`); admins get ids and 🗑 buttons."""
    articles = await svc.run(svc.catalog.search, words) if words else await svc.run(svc.catalog.get)
    pages = max(1, -(-len(articles) // SOURCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    text = render_sources(articles, page, SOURCES_PER_PAGE, query=words or None, show_ids=admin)
    shown = articles[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
    tokens = [article_token(ref.article_id) for ref in shown] if admin else None
    return text, sources_keyboard(page, pages, words=words, remove_tokens=tokens, per_page=SOURCES_PER_PAGE)


def _admin_here(svc: Services, update: Update) -> bool:
    """Admin tools only in an admin's private chat (a group sees the plain list)."""
    chat = update.effective_chat
    user = update.effective_user
    return bool(chat and chat.type == ChatType.PRIVATE and user and svc.access.is_admin(user.id))


async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The indexed articles, newest first, 8 a page; /sources WORDS lists the titles holding those words."""
    svc = services(context)
    if not await within_rate_limit(svc, update.message, update.effective_user.id if update.effective_user else 0):
        return
    words = " ".join(context.args or [])
    text, markup = await sources_page(svc, 0, words, admin=_admin_here(svc, update))
    await reply(update.message, text, markup)


async def on_sources_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """src:<page>[:<words>] buttons (the list is cached: no rate limit)."""
    query = update.callback_query
    try:
        data = Callback.parse(query.data)
    except ValueError:
        await query.answer("This button has expired.")
        return
    svc = services(context)
    text, markup = await sources_page(svc, data.number, data.text, admin=_admin_here(svc, update))
    await query.answer()
    try:
        await send_with_retry(
            context.bot.edit_message_text,
            chat_id=query.message.chat_id,
            message_id=query.message.message_id,
            text=text,
            reply_markup=markup,
        )
    except BadRequest as error:  # the current page pressed again: "message is not modified"
        if "not modified" not in str(error).lower():
            raise
