"""Admin commands: /reindex [prune], /add URL, /remove ARTICLE_ID (or 🗑 under /sources), /uploads."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram.gating import require_admin
from bot.telegram.keyboards import Callback, remove_confirmation
from bot.telegram.messaging import reply
from bot.telegram.net import send_with_retry
from bot.telegram.reindex import Job, Progress, describe_articles, format_summary
from bot.telegram.render import esc, format_date, source_line
from bot.telegram.services import Services, services
from bot.telegram.uploads import BUSY, move_out, relative_name
from bot.types import ArticleRef

log = logging.getLogger(__name__)

REMOVED_FOLDER = "removed"


async def cmd_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: incremental reindex of the articles folder, in the background."""
    if not await require_admin(update, context):
        return
    svc = services(context)
    job = svc.reindexer.index_job("Reindex", prune="prune" in (context.args or []))
    if await svc.reindexer.start(context.bot, update.message.chat_id, job, reply_to=update.message.message_id) is None:
        await reply(update.message, BUSY)


def added_result(svc: Services, url: str, summary: Any) -> str:
    """The summary of /add URL with the title, outlet and date of what was found there."""
    lines = [format_summary(summary, f"Adding {url}", svc.settings)]
    found = svc.catalog.by_origin(url)
    if found:
        lines.append("Found:")
        lines.extend(describe_articles(found))
        lines.append("You can ask about it now.")
    return "\n".join(lines)


async def cmd_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: /add URL indexes one article (or a feed's articles) from the web."""
    if not await require_admin(update, context):
        return
    url = (context.args or [""])[0]
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        await reply(update.message, "Usage: /add URL — an http(s) link to an article or a feed.")
        return
    svc = services(context)
    job = svc.reindexer.index_job(f"Adding {url}", [url], describe=lambda summary: added_result(svc, url, summary))
    if await svc.reindexer.start(context.bot, update.message.chat_id, job, reply_to=update.message.message_id) is None:
        await reply(update.message, BUSY)


# --------------------------------------------------------------------------- /remove


def removal_job(svc: Services, ref: ArticleRef) -> Job:
    """Delete an article from the index and move its file out of the articles folder (so /reindex does not
    add it back) when the file holds nothing else."""
    articles_dir = Path(svc.settings.articles_dir)

    def run(store: Any, progress: Progress) -> tuple[str, str]:
        from indexing.writer import delete_article

        progress("removing", 0, 1)
        origin = ref.origin or ""
        siblings = [other for other in svc.catalog.by_origin(origin) if other.article_id != ref.article_id]
        delete_article(store, ref.article_id)
        progress("removing", 1, 1)
        path = Path(origin)
        if origin.startswith(("http://", "https://")):
            return "url", origin
        if path.is_absolute() and path.exists() and _inside(path, articles_dir):
            if siblings:
                return "shared", relative_name(path, articles_dir)
            moved = move_out(path, Path(svc.settings.data_dir) / REMOVED_FOLDER)
            return "moved", relative_name(moved, Path(svc.settings.data_dir))
        return "elsewhere", path.name

    def describe(result: tuple[str, str]) -> str:
        kind, where = result
        head = f"🗑 Removed {source_line(ref, dash=False)} · id <code>{esc(ref.article_id)}</code>."
        notes = {
            "moved": f"Its file was moved to {esc(where)} in the data folder, so /reindex won't add it back.",
            "shared": f"It came from {esc(where)}, which holds other articles too: take it out of that file, "
            "or the next /reindex adds it back.",
            "url": "It came from the web; /add its URL again to bring it back.",
            "elsewhere": f"It came from {esc(where)}, outside the articles folder; indexing that again adds it back.",
        }
        return f"{head}\n{notes[kind]}"

    return Job(f"Removing {ref.title or ref.article_id}", run, describe)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


async def _start_removal(
    svc: Services, context: ContextTypes.DEFAULT_TYPE, chat_id: int, ref: ArticleRef, reply_to: int | None
) -> bool:
    return await svc.reindexer.start(context.bot, chat_id, removal_job(svc, ref), reply_to=reply_to) is not None


async def cmd_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: /remove ARTICLE_ID removes one article (ids are shown by /sources)."""
    if not await require_admin(update, context):
        return
    svc = services(context)
    article_id = " ".join(context.args or []).strip()
    if not article_id:
        await reply(update.message, "Usage: /remove ARTICLE_ID — /sources shows the ids (or use its 🗑 buttons).")
        return
    ref = await svc.run(svc.catalog.find, article_id)
    if ref is None:
        await reply(
            update.message, f"No indexed article has the id <code>{esc(article_id)}</code>. Try /sources WORDS."
        )
        return
    if not await _start_removal(svc, context, update.message.chat_id, ref, update.message.message_id):
        await reply(update.message, BUSY)


async def on_remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rm:<token> asks to confirm, rmok:<token> removes, rmno cancels (admins only)."""
    query = update.callback_query
    svc = services(context)
    if not svc.access.is_admin(query.from_user.id):
        await query.answer("Sorry, only the bot's admins can do that.", show_alert=True)
        return
    try:
        data = Callback.parse(query.data)
    except ValueError:
        await query.answer("This button has expired.")
        return
    message = query.message
    if data.kind == "rmno":
        await query.answer("Cancelled.")
        with contextlib.suppress(BadRequest):
            await send_with_retry(
                context.bot.edit_message_text,
                chat_id=message.chat_id,
                message_id=message.message_id,
                text="Nothing was removed.",
            )
        return
    ref = await svc.run(svc.catalog.by_token, data.text)
    if ref is None:
        await query.answer("That article is no longer indexed.")
        return
    await query.answer()
    if data.kind == "rm":
        await reply(
            message,
            f"Remove {source_line(ref, dash=False)} · id <code>{esc(ref.article_id)}</code> from the index?",
            remove_confirmation(data.text),
        )
        return
    with contextlib.suppress(BadRequest):
        await send_with_retry(
            context.bot.edit_message_text,
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=f"Removing {esc(ref.title)}…",
        )
    if not await _start_removal(svc, context, message.chat_id, ref, None):
        await reply(message, BUSY)


# --------------------------------------------------------------------------- /uploads


async def cmd_uploads(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: the latest uploaded files and what became of them."""
    if not await require_admin(update, context):
        return
    svc = services(context)
    uploads = await svc.run(svc.feedback.recent_uploads, 20)
    if not uploads:
        await reply(
            update.message, "No documents have been uploaded yet. Send a .txt, .md, .html or .json file to add one."
        )
        return
    lines = [f"<b>Uploads</b> (latest {len(uploads)}, newest first)"]
    for item in uploads:
        renamed = f" (sent as {esc(item.original_name)})" if Path(item.saved_as).name != item.original_name else ""
        detail = f": {esc(item.detail[:200])}" if item.detail else ""
        when = format_date(item.created_at) or item.created_at
        lines.append(f"• {esc(when)} — {esc(item.saved_as)}{renamed} — {esc(item.outcome)}{detail}")
    await reply(update.message, "\n".join(lines))
