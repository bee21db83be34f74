"""Which handler answers which update, the command menus, and the error handler.

The handlers themselves are thin and live by concern: gating.py (who is answered), questions.py (questions
and edits), buttons.py (the buttons under an answer), sources.py (/start, /help, /sources), admin.py (admin
commands), uploads.py (documents), inline.py (inline mode).
"""

from __future__ import annotations

import contextlib
import logging

from telegram import BotCommand, Update
from telegram.ext import Application as _Application
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram import admin, buttons, inline, questions, sources, uploads
from bot.telegram.gating import gate
from bot.telegram.questions import APOLOGY

log = logging.getLogger(__name__)

# The commands menu, per chat type (setMyCommands with scopes); admins get theirs in their private chat.
PRIVATE_COMMANDS = [
    BotCommand("start", "Welcome and what is indexed"),
    BotCommand("help", "How to ask questions"),
    BotCommand("sources", "The indexed articles; /sources WORDS finds titles"),
    BotCommand("ask", "Ask a question: /ask QUESTION"),
]
GROUP_COMMANDS = [
    BotCommand("ask", "Ask a question: /ask QUESTION"),
    BotCommand("sources", "The indexed articles; /sources WORDS finds titles"),
    BotCommand("help", "How to ask questions"),
]
ADMIN_COMMANDS = [
    BotCommand("reindex", "Update the index from the articles folder"),
    BotCommand("add", "Index one article or feed from a URL"),
    BotCommand("remove", "Remove one article: /remove ARTICLE_ID"),
    BotCommand("uploads", "The uploaded files and what became of them"),
]
COMMANDS = PRIVATE_COMMANDS  # the default scope


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the update id and, when there is a chat, apologise once; the bot keeps serving."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s: %s", update_id, context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat and update.effective_message:
        with contextlib.suppress(Exception):
            await context.bot.send_message(chat_id=update.effective_chat.id, text=APOLOGY)


def register(application: _Application) -> None:
    """Add every handler to the application (the gate first, in its own group)."""
    messages = filters.UpdateType.MESSAGE
    edits = filters.UpdateType.EDITED_MESSAGE
    application.add_handler(TypeHandler(Update, gate), group=-1)
    for name, callback in (
        ("start", sources.cmd_start),
        ("help", sources.cmd_help),
        ("sources", sources.cmd_sources),
        ("ask", questions.cmd_ask),
        ("reindex", admin.cmd_reindex),
        ("add", admin.cmd_add),
        ("remove", admin.cmd_remove),
        ("uploads", admin.cmd_uploads),
    ):
        application.add_handler(CommandHandler(name, callback, filters=messages))
    application.add_handler(CallbackQueryHandler(buttons.on_answer_button, pattern=r"^(more|ctx|fb|why):"))
    application.add_handler(CallbackQueryHandler(sources.on_sources_page, pattern=r"^src:"))
    application.add_handler(CallbackQueryHandler(admin.on_remove_button, pattern=r"^rm(ok|no)?(:|$)"))
    application.add_handler(CallbackQueryHandler(buttons.on_expired))
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    application.add_handler(MessageHandler(edits & filters.TEXT, questions.on_edited))
    application.add_handler(MessageHandler(messages & filters.Document.ALL, uploads.on_document))
    application.add_handler(MessageHandler(messages & filters.TEXT & ~filters.COMMAND, questions.on_text))
    application.add_handler(MessageHandler(messages & filters.COMMAND, questions.on_unknown_command))
    application.add_handler(MessageHandler(messages & ~filters.StatusUpdate.ALL, questions.on_other))
    application.add_error_handler(on_error)
