"""Sending to Telegram: replies to the question (private chats too), an answer's parts in order and together,
edits of an earlier answer, and "typing…" for slow answers. Every call is retried on network errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from bot.telegram.net import send_with_retry

log = logging.getLogger(__name__)

TYPING_AFTER = 0.25  # seconds before "typing..." is shown (quick answers need none)
TYPING_EVERY = 4.5  # Telegram shows "typing..." for about 5 seconds


def reply_to(message_id: int | None) -> ReplyParameters | None:
    """Reply parameters that still send when the question was deleted meanwhile."""
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


async def reply(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send HTML into the message's chat as a reply to it."""
    return await send(message.get_bot(), message.chat_id, text, markup, reply_to_id=message.message_id)


async def send(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None, *, reply_to_id: int | None = None
) -> Message:
    return await send_with_retry(
        bot.send_message, chat_id=chat_id, text=text, reply_markup=markup, reply_parameters=reply_to(reply_to_id)
    )


class ChatSequencer:
    """One sender at a time per chat, so an answer's parts are never interleaved with another answer's."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


async def send_parts(
    bot: Bot,
    chat_id: int,
    parts: Sequence[str],
    markup: InlineKeyboardMarkup | None,
    *,
    reply_to_id: int | None,
    sequencer: ChatSequencer,
) -> list[int]:
    """Send an answer's parts in order, all as replies to the question, buttons on the last; returns their ids."""
    sent: list[int] = []
    async with sequencer.hold(chat_id):
        for index, text in enumerate(parts):
            last = index == len(parts) - 1
            message = await send(bot, chat_id, text, markup if last else None, reply_to_id=reply_to_id)
            sent.append(message.message_id)
    return sent


async def replace_parts(
    bot: Bot,
    chat_id: int,
    old_ids: Sequence[int],
    parts: Sequence[str],
    markup: InlineKeyboardMarkup | None,
    *,
    reply_to_id: int | None,
    sequencer: ChatSequencer,
) -> list[int]:
    """Edit an earlier answer's messages into a new answer: extra parts are sent, leftover messages deleted."""
    kept: list[int] = []
    async with sequencer.hold(chat_id):
        for index, text in enumerate(parts):
            last = index == len(parts) - 1
            keyboard = markup if last else None
            if index < len(old_ids) and await _edit_text(bot, chat_id, old_ids[index], text, keyboard):
                kept.append(old_ids[index])
            else:
                message = await send(bot, chat_id, text, keyboard, reply_to_id=reply_to_id)
                kept.append(message.message_id)
        for message_id in old_ids[len(parts) :]:
            with contextlib.suppress(TelegramError):
                await bot.delete_message(chat_id=chat_id, message_id=message_id)
    return kept


async def _edit_text(bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Edit one message; False when it cannot be edited any more (deleted, too old)."""
    try:
        await send_with_retry(
            bot.edit_message_text, chat_id=chat_id, message_id=message_id, text=text, reply_markup=markup
        )
    except BadRequest as error:
        return "not modified" in str(error).lower()  # same text and buttons: nothing to do
    return True


async def keep_typing(bot: Bot, chat_id: int) -> None:
    """Show "typing..." until cancelled, once the answer takes longer than TYPING_AFTER.

    Most answers take tens of milliseconds; a chat action for those would double the requests counted
    against Telegram's ~30 messages a second (and the rate limiter would queue the answers behind them).
    """
    await asyncio.sleep(TYPING_AFTER)
    while True:
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        await asyncio.sleep(TYPING_EVERY)
