"""Per-user sliding-window rate limit for questions (Telegram's own flood limits are handled by AIORateLimiter)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most `limit` events per user in any `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[int, deque[float]] = {}
        self._noticed: dict[int, float] = {}  # user -> until when they have been told to wait
        self._lock = threading.Lock()

    def check(self, user_id: int) -> float:
        """Record an event and return 0, or return the seconds to wait (nothing recorded) when over the limit."""
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(user_id, deque())
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.1, self.window - (now - events[0]))
            events.append(now)
            if len(self._events) > 10_000:  # forget idle users now and then
                self._forget(now)
            return 0.0

    def should_notify(self, user_id: int, wait: float) -> bool:
        """True for the first refusal of a waiting period (one "please wait" per window, not per message)."""
        now = self._clock()
        with self._lock:
            if self._noticed.get(user_id, float("-inf")) > now:
                return False
            self._noticed[user_id] = now + wait
            return True

    def _forget(self, now: float) -> None:
        for user_id in [uid for uid, ev in self._events.items() if not ev or now - ev[-1] >= self.window]:
            del self._events[user_id]
        for user_id in [uid for uid, until in self._noticed.items() if until <= now]:
            del self._noticed[user_id]
