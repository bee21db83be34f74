"""Documents sent by admins: saved into the articles folder under a safe name and indexed.

A name keeps its Unicode letters ("café.txt" stays "café.txt"); a different file never replaces an existing
article silently (the new one is kept beside it as "name (2).txt" and the reply says so; the same bytes
again are recognised as already there); a file the indexer rejects is moved out of the articles folder to
DATA_DIR/rejected/, so it does not fail every later /reindex. Replies name files relative to the articles
folder, never by server path, and report the title, outlet and date the indexer found.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram.feedback import Upload
from bot.telegram.gating import addressed_to_bot
from bot.telegram.messaging import reply
from bot.telegram.net import send_with_retry
from bot.telegram.questions import best_effort
from bot.telegram.reindex import describe_articles, format_summary
from bot.telegram.render import esc
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json")
INDEXED_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".json", ".jsonl", ".ndjson"}
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
REJECTED_FOLDER = "rejected"
DEFAULT_STEM = "upload"
MAX_STEM_BYTES = 150  # file systems allow 255 bytes a name; room for " (12)" and the suffix
KEPT_PUNCTUATION = set(" -_.,()'+&")
BUSY = "An indexing job is already running — I'll post its summary when it finishes. Please try again after that."


def clean_file_name(name: str) -> str:
    """A safe file name for an upload: no folders, no hidden dot, Unicode letters and digits kept."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    stem = "".join(ch if ch.isalnum() or ch in KEPT_PUNCTUATION else " " for ch in stem)
    stem = " ".join(stem.split()).strip(" .-_")
    while len(stem.encode()) > MAX_STEM_BYTES:
        stem = stem[:-1].rstrip(" .-_")
    suffix = "".join(ch for ch in suffix.lower() if ch.isalnum())
    return (stem or DEFAULT_STEM) + (f".{suffix}" if suffix else "")


@dataclass(frozen=True)
class Placement:
    """Where an upload goes: a free name, or the file already holding the same bytes."""

    path: Path
    duplicate: bool = False  # the same bytes are already in the collection at `path`
    renamed: bool = False  # the name was taken by a different article, so a numbered name was chosen


def _same_article_id(folder: Path, stem: str) -> list[Path]:
    """Files of the folder whose article id (the name without its suffix) is `stem`."""
    wanted = stem.casefold()
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in INDEXED_SUFFIXES and path.stem.casefold() == wanted
    )


def place_upload(folder: Path, name: str, data: bytes) -> Placement:
    """Choose where to save `data` named `name` in `folder` without replacing a different article."""
    path = Path(name)
    stem, suffix = (path.stem, path.suffix) if path.suffix else (name, "")
    for number in itertools.count(1):
        candidate = stem if number == 1 else f"{stem} ({number})"
        clashes = _same_article_id(folder, candidate)
        for existing in clashes:
            if existing.stat().st_size == len(data) and existing.read_bytes() == data:
                return Placement(existing, duplicate=True)
        if not clashes:
            return Placement(folder / f"{candidate}{suffix}", renamed=number > 1)
    raise AssertionError("unreachable")


def save_new(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, never over an existing file (a hidden temporary file first)."""
    temporary = path.with_name(f".upload-{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(data)
    try:
        os.link(temporary, path)  # fails if `path` appeared meanwhile
    finally:
        temporary.unlink()


def move_out(path: Path, folder: Path) -> Path:
    """Move `path` into `folder` (created) under a free name; returns the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    for number in itertools.count(2):
        if not target.exists():
            break
        target = folder / f"{path.stem} ({number}){path.suffix}"
    shutil.move(str(path), str(target))
    return target


def relative_name(path: Path, folder: Path) -> str:
    """`path` as users see it: relative to `folder` (the articles or data folder), else its name."""
    for root in (folder, folder.resolve()):
        with contextlib.suppress(ValueError):
            return path.relative_to(root).as_posix()
    return path.name


# --------------------------------------------------------------------------- the job's result


def upload_result(svc: Services, path: Path, original: str, user_id: int | None, note: str, summary: Any) -> str:
    """In the job thread, after indexing: the articles found in the file, or (none) the file moved to
    DATA_DIR/rejected/ with the reasons; the upload is recorded for /uploads."""
    articles_dir = Path(svc.settings.articles_dir)
    shown = relative_name(path, articles_dir)
    found = svc.catalog.by_origin(str(path.resolve()))
    lines = [format_summary(summary, f"Adding {shown}", svc.settings)]
    if note:
        lines.append(note)
    if found:
        outcome = (
            "added" if getattr(summary, "added", 0) else "updated" if getattr(summary, "updated", 0) else "unchanged"
        )
        if all(ref.origin != str(path.resolve()) for ref in found):  # the same text came from elsewhere first
            outcome = "same text"
            lines.append("Its text is already indexed (once, with this file listed as another source):")
        else:
            lines.append("Found:")
        lines.extend(describe_articles(found))
        lines.append("You can ask about it now.")
        detail = "; ".join(ref.title for ref in found[:3])
        saved = shown
    else:
        outcome = "rejected"
        moved = move_out(path, Path(svc.settings.data_dir) / REJECTED_FOLDER)
        saved = relative_name(moved, Path(svc.settings.data_dir))
        lines[0] = lines[0].replace("⚠️", "❌", 1)
        lines.append(
            f"I moved {esc(shown)} out of the articles folder (to {esc(saved)} in the data folder), "
            "so it won't fail later reindexes."
        )
        reasons = [reason for _, reason in getattr(summary, "failures", [])]
        detail = "; ".join(reasons)[:500]
    best_effort(
        "recording the upload",
        svc.feedback.record_upload,
        Upload("", user_id, original, saved, path.stat().st_size if path.exists() else 0, outcome, detail),
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- handler


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: a .txt/.md/.html/.json document is saved into the articles folder and indexed."""
    message = update.message
    if message is None or message.document is None or not addressed_to_bot(message):
        return
    svc = services(context)
    user_id = update.effective_user.id if update.effective_user else None
    if not svc.access.is_admin(user_id):
        await reply(message, "I answer text questions; only the bot's admins can add documents to the collection.")
        return
    document = message.document
    original = document.file_name or "upload.txt"
    if not original.lower().endswith(DOCUMENT_SUFFIXES):
        await reply(message, "I can only add .txt, .md, .html or .json files to the collection.")
        return
    limit = min(svc.settings.max_file_bytes, TELEGRAM_DOWNLOAD_LIMIT)
    if document.file_size and document.file_size > limit:
        await reply(message, f"That file is too large ({document.file_size:,} bytes; the limit is {limit:,}).")
        return
    if svc.reindexer.running:
        await reply(message, BUSY)
        return
    telegram_file = await send_with_retry(context.bot.get_file, document.file_id)
    data = bytes(await send_with_retry(telegram_file.download_as_bytearray))
    if len(data) > limit:
        await reply(message, f"That file is too large ({len(data):,} bytes; the limit is {limit:,}).")
        return
    articles_dir = Path(svc.settings.articles_dir)
    articles_dir.mkdir(parents=True, exist_ok=True)
    name = clean_file_name(original)
    placement = await asyncio.to_thread(place_upload, articles_dir, name, data)
    shown = relative_name(placement.path, articles_dir)
    if placement.duplicate:
        found = await svc.run(svc.catalog.by_origin, str(placement.path.resolve()))
        lines = [f"ℹ️ This file is already in the collection as {esc(shown)}."]
        lines.extend(describe_articles(found) if found else ["Run /reindex if it is not answerable yet."])
        await reply(message, "\n".join(lines))
        best_effort(
            "recording the upload",
            svc.feedback.record_upload,
            Upload("", user_id, original, shown, len(data), "duplicate", None),
        )
        return
    await asyncio.to_thread(save_new, placement.path, data)
    log.info("saved uploaded document %s (%d bytes)", shown, len(data))
    note = ""
    if placement.renamed:
        note = (
            f"A different file named {esc(name)} is already in the collection, so I saved this one as "
            f"{esc(shown)}: both are kept. To replace the old one, /remove it first."
        )
    path = placement.path
    job = svc.reindexer.index_job(
        f"Adding {shown}",
        [str(path)],
        describe=lambda summary: upload_result(svc, path, original, user_id, note, summary),
    )
    if await svc.reindexer.start(context.bot, message.chat_id, job, reply_to=message.message_id) is None:
        await reply(message, BUSY)
