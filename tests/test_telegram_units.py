"""Fast unit tests of the Telegram front end's pieces: rendering and splitting, rate limit, feedback
database, access policy, token redaction, retries."""

from __future__ import annotations

import logging
import random

import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.access import AccessPolicy
from bot.telegram.app import install_token_redaction
from bot.telegram.feedback import FeedbackStore
from bot.telegram.net import send_with_retry
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex import ReadWriteLock, format_summary
from bot.telegram.render import (
    MAX_MESSAGE_CHARS,
    format_date,
    link,
    render_answer,
    render_more_quotes,
    render_sources,
    split_blocks,
)
from bot.types import Answer, ArticleRef, Quote
from tests.fake_bot_api import TelegramHTMLError, parse_telegram_html


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


def test_everything_is_escaped_and_links_are_safe():
    answer = Answer("q", "x < y & z", False, quotes=[quote("He said <script>alert(1)</script> & left.")])
    [html] = render_answer(answer)
    parsed = parse_telegram_html(html)
    assert parsed.blockquotes == ["He said <script>alert(1)</script> & left."]
    assert parsed.links == ["https://example.com/a?x=1&y=2"]
    assert "x < y & z" in parsed.text and "Title <with> & tags" in parsed.text and "Outlet & Co" in parsed.text
    assert "5 Aug 2022" in parsed.text
    assert link("T", "javascript:alert(1)") == "T"
    assert link('A "b"', 'https://e.com/?q="x"') == '<a href="https://e.com/?q=&quot;x&quot;">A "b"</a>'


def test_extractive_answer_is_not_repeated():
    answer = Answer("q", "Same sentence.", False, quotes=[quote("Same sentence.")])
    [html] = render_answer(answer)
    assert html.count("Same sentence.") == 1


def test_abstain_names_the_closest_articles():
    answer = Answer(
        "q",
        "I could not find an answer.",
        True,
        closest=[ArticleRef("a", "First <1>", "https://e.com/1", "Outlet", "2024-02-01"), ArticleRef("b", "Second")],
    )
    [html] = render_answer(answer)
    parsed = parse_telegram_html(html)
    assert "First <1>" in parsed.text and "Second" in parsed.text and parsed.links == ["https://e.com/1"]
    assert not parsed.blockquotes


@pytest.mark.parametrize("seed", range(30))
def test_split_never_exceeds_the_limit_nor_breaks_tags(seed):
    rng = random.Random(seed)
    alphabet = "abc <>&\"' é🚀\n"
    quotes = [
        quote("".join(rng.choice(alphabet) for _ in range(rng.choice([10, 500, 2000, 4000, 9000]))).strip() or "x")
        for _ in range(rng.randint(1, 6))
    ]
    answer = Answer("q", "answer & <stuff>", False, quotes=quotes)
    messages = render_answer(answer)
    texts = []
    for message in messages:
        assert len(message) <= MAX_MESSAGE_CHARS
        parsed = parse_telegram_html(message)
        texts.extend(parsed.blockquotes)
    joined = " ".join(" ".join(texts).split())
    for q in quotes:
        assert " ".join(q.text.split())[:50] in joined
    # quotes that fit in a message are never split
    for q in quotes:
        if len(q.text) < 3000 and "\n" not in q.text:
            assert q.text in texts or q.text.strip() in texts


def test_split_packs_blocks_greedily_between_blocks():
    blocks = ["a" * 2000, "b" * 2000, "c" * 2000]
    assert [len(m) for m in split_blocks(blocks)] == [4002, 2000]
    messages = split_blocks(["<b>x</b>\n" * 1000], limit=4096)
    assert len(messages) == 3 and all(len(m) <= 4096 for m in messages)
    assert sum(m.count("<b>x</b>") for m in messages) == 1000
    for message in messages:
        parse_telegram_html(message)


def test_more_quotes_and_sources_pages():
    assert render_more_quotes([]) == ["No more quotes for this question."]
    refs = [ArticleRef(f"id{i}", f"T{i}", None, None, None) for i in range(5)]
    page = render_sources(refs, 1, 2)
    assert "3. T2" in page and "4. T3" in page and "page 2/3" in page
    assert render_sources([], 0, 5) == "No articles are indexed yet."


def test_format_date():
    assert format_date("2022-08-05") == "5 Aug 2022"
    assert format_date("2022-08-05T23:10:00+02:00") == "5 Aug 2022"
    assert format_date("last Tuesday") == "last Tuesday"
    assert format_date(None) is None


def test_fake_server_html_validation():
    with pytest.raises(TelegramHTMLError):
        parse_telegram_html("<b>open")
    with pytest.raises(TelegramHTMLError):
        parse_telegram_html("<div>x</div>")
    with pytest.raises(TelegramHTMLError):
        parse_telegram_html("<b><i>x</b></i>")


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
