"""Fast unit tests of the Telegram front end's pieces: rendering and splitting, rate limit, feedback
database, access policy, token redaction, retries."""

from __future__ import annotations

import logging

import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.access import AccessPolicy
from bot.telegram.app import install_token_redaction
from bot.telegram.feedback import FeedbackStore
from bot.telegram.net import send_with_retry
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex import format_summary
from bot.telegram.storelock import ReadWriteLock
from bot.types import Answer, Quote


def quote(text: str, url: str | None = "https://example.com/a?x=1&y=2", **kw) -> Quote:
    values = {
        "article_id": "a1",
        "title": "Title <with> & tags",
        "url": url,
        "source": "Outlet & Co",
        "published": "2022-08-05T10:00:00Z",
        "start": 0,
        "end": len(text),
        "score": 1.0,
    }
    values.update(kw)
    return Quote(text=text, **values)


def test_sliding_window_rate_limit():
    now = [0.0]
    limiter = SlidingWindowLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check(1) == pytest.approx(60.0)
    assert limiter.check(2) == 0.0
    now[0] = 30.0
    assert limiter.check(1) == pytest.approx(30.0)
    now[0] = 60.0
    assert limiter.check(1) == 0.0  # the first event left the window


def test_feedback_store_round_trip(tmp_path):
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    answer = Answer("Who?", "Him.", False, quotes=[quote("Him.")], more_quotes=[quote("Also him.")])
    qid = store.record_question(chat_id=5, user_id=7, update_id=99, answer=answer, context="Earlier?")
    store.link_messages(qid, 5, [100, 101])
    stored = store.question_for_message(5, 101)
    assert stored is not None and stored.question == "Who?" and stored.context == "Earlier?"
    assert stored.more_quotes[0].text == "Also him." and store.question_for_message(5, 102) is None
    store.record_feedback(qid, 7, 1)
    store.record_feedback(qid, 7, -1)
    store.record_feedback(qid, 8, 1)
    assert store.votes(qid) == {7: -1, 8: 1}
    store.close()


def test_access_policy():
    everyone = AccessPolicy(frozenset(), frozenset({9}))
    assert everyone.is_allowed(123) and everyone.is_admin(9) and not everyone.is_admin(123)
    private = AccessPolicy(frozenset({1}), frozenset({9}))
    assert (
        private.is_allowed(1) and private.is_allowed(9) and not private.is_allowed(2) and not private.is_allowed(None)
    )


def test_token_redaction(caplog):
    token = "999999:SECRET-token-value"
    install_token_redaction(token)
    caplog.set_level(logging.INFO)
    log = logging.getLogger("test.redaction")
    log.info("GET https://api.telegram.org/bot%s/getMe", token)
    try:
        raise RuntimeError(f"failed on /bot{token}/sendMessage")
    except RuntimeError:
        log.exception("request failed")
    assert token not in caplog.text
    assert "<TELEGRAM_BOT_TOKEN>" in caplog.text


def test_summary_format():
    from types import SimpleNamespace

    summary = SimpleNamespace(
        added=2,
        updated=1,
        unchanged=5,
        removed=0,
        failed=1,
        seconds=3.25,
        ok=False,
        failures=[("bad.html", "no article text after cleaning")],
    )
    text = format_summary(summary, "Reindex")
    assert text.startswith("⚠️ Reindex finished in 3.2 s: 2 added, 1 updated, 5 unchanged, 0 removed, 1 failed.")
    assert "bad.html: no article text" in text


async def test_send_with_retry_backs_off_on_network_errors_only():
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TimedOut() if len(calls) == 1 else NetworkError("Bad Gateway")
        return "ok"

    assert await send_with_retry(flaky, backoff=0.01) == "ok" and len(calls) == 3

    async def bad():
        calls.append(1)
        raise BadRequest("can't parse entities")

    calls.clear()
    with pytest.raises(BadRequest):
        await send_with_retry(bad, backoff=0.01)
    assert len(calls) == 1


def test_read_write_lock_excludes_writers_from_readers():
    import threading
    import time

    lock = ReadWriteLock()
    events = []

    def reader():
        with lock.read():
            events.append("r+")
            time.sleep(0.1)
            events.append("r-")

    def writer():
        time.sleep(0.02)
        with lock.write():
            events.append("w")

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert events == ["r+", "r-", "w"]
