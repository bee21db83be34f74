"""Calls to the Bot API retried with backoff on network errors (flood limits are AIORateLimiter's job)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4
BACKOFF = 0.5  # seconds, doubled after each failure


async def send_with_retry(
    call: Callable[..., Awaitable[T]], /, *args: Any, attempts: int = ATTEMPTS, backoff: float = BACKOFF, **kwargs: Any
) -> T:
    """Await `call(*args, **kwargs)`, retrying network errors and 5xx answers with exponential backoff.

    Bad requests, forbidden chats and invalid tokens are not retried; RetryAfter has already been retried by
    the rate limiter when it reaches us, so it is waited out once more and retried.
    """
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return await call(*args, **kwargs)
        except (BadRequest, Forbidden, InvalidToken):
            raise
        except RetryAfter as error:
            if attempt == attempts:
                raise
            wait = (
                error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") else error.retry_after
            )
            log.warning("flood limit on %s, waiting %.1f s", getattr(call, "__name__", "call"), wait)
            await asyncio.sleep(float(wait) + 0.1)
        except NetworkError as error:
            if attempt == attempts:
                raise
            log.warning(
                "network error on %s (attempt %d/%d): %s; retrying in %.1f s",
                getattr(call, "__name__", "call"),
                attempt,
                attempts,
                error,
                delay,
            )
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
