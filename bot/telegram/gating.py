"""Who and what the bot answers: the allow-list (checked before every handler), messages addressed to the
bot in groups (mentions, replies, /commands), the per-user rate limit with one notice per window."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import InlineQueryResultsButton, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram.access import ADMIN_ONLY, refusal
from bot.telegram.messaging import reply
from bot.telegram.render import esc
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)


def is_reply_to_bot(message: Message) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == message.get_bot().id)


def mentions_bot(message: Message) -> bool:
    username = (message.get_bot().username or "").lower()
    if not username:
        return False
    mentions = [
        *message.parse_entities([MessageEntityType.MENTION]).values(),
        *message.parse_caption_entities([MessageEntityType.MENTION]).values(),
    ]
    return any(text.lower() == f"@{username}" for text in mentions)


def strip_mention(text: str, username: str) -> str:
    """The text without the bot's @username."""
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def addressed_to_bot(message: Message) -> bool:
    """Private chats always; groups when mentioned, replied to or commanded (a /command@otherbot is not ours)."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    text = message.text or message.caption or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        target = command.partition("@")[2].lower()
        return not target or target == (message.get_bot().username or "").lower()
    return mentions_bot(message) or is_reply_to_bot(message)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first for every update: users not in ALLOWED_USER_IDS get one refusal (with their id) and nothing
    else; messages in groups that are not addressed to the bot are ignored silently."""
    user = update.effective_user
    user_id = user.id if user else None
    if services(context).access.is_allowed(user_id):
        return
    with contextlib.suppress(TelegramError):
        if update.callback_query:
            await update.callback_query.answer(refusal(user_id), show_alert=True)
        elif update.inline_query:
            button = InlineQueryResultsButton(text=f"Private bot — your id is {user_id}", start_parameter="private")
            await update.inline_query.answer([], button=button, cache_time=0, is_personal=True)
        elif update.effective_message and addressed_to_bot(update.effective_message):
            await reply(update.effective_message, esc(refusal(user_id)))
    log.info("refused update %s from user %s", update.update_id, user_id)
    raise ApplicationHandlerStop


async def require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for admins; others are told the command is for admins."""
    if services(context).access.is_admin(update.effective_user.id if update.effective_user else None):
        return True
    await reply(update.effective_message, esc(ADMIN_ONLY))
    return False


def rate_limit_notice(svc: Services, wait: float) -> str:
    return (
        f"You're asking faster than I can keep up — please wait {max(1, round(wait))} s and ask again. "
        f"(Limit: {svc.settings.rate_limit_per_minute} requests a minute.)"
    )


async def within_rate_limit(svc: Services, message: Message, user_id: int) -> bool:
    """Count one request; over the limit, say so once per waiting period and return False."""
    wait = svc.limiter.check(user_id)
    if not wait:
        return True
    if svc.limiter.should_notify(user_id, wait):
        await reply(message, rate_limit_notice(svc, wait))
    return False
