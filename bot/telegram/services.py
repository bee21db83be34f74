"""What the handlers share, created once per application (in `application.bot_data["services"]`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from telegram.ext import ContextTypes

from bot.telegram.access import AccessPolicy
from bot.telegram.catalog import ArticleCatalog
from bot.telegram.feedback import FeedbackStore
from bot.telegram.messaging import ChatSequencer
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex import Reindexer
from indexing.settings import Settings


@dataclass
class Services:
    """Pipeline, store and model, the feedback database, limits, the article list and the indexing jobs."""

    settings: Settings
    answerer: Any
    store: Any
    embedder: Any
    feedback: FeedbackStore
    limiter: SlidingWindowLimiter
    access: AccessPolicy
    executor: ThreadPoolExecutor
    reindexer: Reindexer
    catalog: ArticleCatalog
    chats: ChatSequencer

    async def run(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call (pipeline, store) in the worker pool. The store locks itself per call
        (indexing/store.py), so nothing here holds a lock across an LLM call."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: func(*args, **kwargs))


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]
