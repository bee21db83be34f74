"""End to end over real HTTP: the real application polls a fake Bot API server on 127.0.0.1.

One embedded store with the sample article indexed and one running bot are shared by the module; tests that
need other settings (access control, rate limit, webhook) start a second bot on the same resources.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import sqlite3
import time
from pathlib import Path

import aiohttp
import pytest

from bot.telegram.access import ADMIN_ONLY, refusal
from bot.telegram.questions import APOLOGY, NOT_TEXT
from bot.types import Answer, ArticleRef, Quote
from tests.fake_bot_api import FakeBotAPI, parse_telegram_html, start_bot, utf16_len

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "articles" / "centcom-chief-visits-pakistan.txt"
ARTICLE_URL = "https://www.business-standard.com/article/centcom-chief-visits-pakistan.html?from=rss&utm=<x>"
TITLE = "Centcom chief visits Pakistan & meets army chief"
ADMIN = 9001
USER = 1001
QUESTION = "Who did the Centcom chief meet?"


def _normalise(text: str) -> str:
    return " ".join(text.split())


ARTICLE_TEXT = _normalise(SAMPLE.read_text(encoding="utf-8"))


def stored_text(store, article_id: str = "centcom") -> str:
    """The article's cleaned text as stored (quotes and context are verbatim slices of it)."""
    return next(
        r.payload["text"] for r in store.article_records(with_text=True) if r.payload["article_id"] == article_id
    )


def make_module_settings(root: Path, **overrides):
    from indexing.settings import Settings

    values = {
        "qdrant_path": root / "qdrant",
        "articles_dir": root / "articles",
        "data_dir": root / "data",
        "qdrant_url": None,
        "admin_user_ids": [ADMIN],
        "allowed_user_ids": [],
        "rate_limit_per_minute": 1000,
        "telegram_webhook_url": None,
        "llm_base_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def index_sample(settings, store, embedder, *, article_id="centcom", title=TITLE, url=ARTICLE_URL) -> None:
    from indexing.models import Article
    from indexing.prepare import prepare_article
    from indexing.writer import index_prepared

    article = Article(
        article_id=article_id,
        title=title,
        text=SAMPLE.read_text(encoding="utf-8"),
        url=url,
        published="2022-08-05",
        source="Business Standard",
    )
    index_prepared(store, [prepare_article(article, settings.chunk_sentences, settings.chunk_overlap)], embedder)


def sample_corpus(root: Path, embedder):
    """Yield (settings, answerer, store, embedder) over an embedded store in `root` holding the sample article."""
    from bot.pipeline import QuestionAnswerer
    from indexing.store import Store

    settings = make_module_settings(root)
    store = Store.open(settings)
    index_sample(settings, store, embedder)
    answerer = QuestionAnswerer(settings, store=store, embedder=embedder)
    yield settings, answerer, store, embedder
    answerer.close()
    store.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, embedder):
    yield from sample_corpus(tmp_path_factory.mktemp("telegram"), embedder)


@pytest.fixture(scope="module")
async def bot(corpus):
    running = await start_bot(*corpus)
    yield running
    assert await running.close() == 0
    await running.api.stop()


def html_of(request) -> str:
    return request.params["text"]


def assert_valid_html(text: str) -> None:
    parsed = parse_telegram_html(text)  # raises on unbalanced / unsupported tags
    assert utf16_len(parsed.text) <= 4096  # Telegram counts the text after entities parsing, in UTF-16


def buttons(request) -> list[tuple[str, str]]:
    markup = request.params.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def quotes_of(requests) -> list[str]:
    return [q for r in requests for q in parse_telegram_html(html_of(r)).blockquotes]


def bot_message(api: FakeBotAPI, request) -> dict:
    """The message object the bot got back for a sendMessage (what a user would reply to / press)."""
    return {
        k: v for k, v in api.messages[(request.params["chat_id"], request.result["message_id"])].items() if k != "html"
    }


def page_url(href: str) -> str:
    """A link without its text fragment (what the page itself is)."""
    return href.split("#:~:", 1)[0].removesuffix("#")


def fragment_terms(href: str) -> list[list[str]]:
    """The text directives of a link's text fragment, percent-decoded: [[text], [start, end], …]."""
    from urllib.parse import unquote

    _, _, directives = href.partition(":~:")
    return [[unquote(term) for term in part.removeprefix("text=").split(",")] for part in directives.split("&") if part]


def assert_fragment_matches(href: str, quotes: list[str]) -> None:
    """Each text directive decodes to one of `quotes` (whole, or its first and last words)."""
    terms = fragment_terms(href)
    assert terms, href
    for directive, quote in zip(terms, quotes, strict=False):
        text = _normalise(quote)
        if len(directive) == 1:
            assert directive[0] == text
        else:
            start, end = directive
            assert text.startswith(start) and text.endswith(end) and len(start) + len(end) < len(text)


def db_rows(settings, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(settings.feedback_db) as db:
        return db.execute(sql, args).fetchall()


# --------------------------------------------------------------------------- conversation


async def test_commands_menu_is_scoped_per_chat_type(bot):
    api = bot.api
    assert {"start", "help", "sources", "ask"} <= set(api.commands_for("default"))
    assert api.commands_for("all_private_chats")[:2] == ["start", "help"]
    group = api.commands_for("all_group_chats")
    assert group[0] == "ask" and "start" not in group and "reindex" not in group
    admin = api.commands_for("chat", chat_id=ADMIN)
    assert {"reindex", "add", "remove", "uploads", "sources"} <= set(admin)
    assert not {"reindex", "remove"} & set(api.commands_for("all_private_chats"))
    assert api.calls("deleteWebhook"), "polling must delete any webhook first"


async def test_typing_is_shown_while_a_slow_answer_is_prepared(bot, monkeypatch):
    original = bot.services.answerer.ask

    def slow(question, **kwargs):
        time.sleep(0.6)
        return original(question, **kwargs)

    monkeypatch.setattr(bot.services.answerer, "ask", slow)
    since = bot.api.mark()
    replies = await bot.ask(QUESTION)
    typing = bot.api.calls("sendChatAction", since, chat_id=USER, action="typing")
    assert typing and typing[0].at < replies[0].at


async def test_private_question_gets_verbatim_quotes_with_sources(bot):
    replies = await bot.ask(QUESTION)
    for reply in replies:
        assert reply.params["parse_mode"] == "HTML"
        assert_valid_html(html_of(reply))
    quotes = quotes_of(replies)
    assert 1 <= len(quotes) <= 3
    for quote in quotes:
        assert _normalise(quote) in ARTICLE_TEXT, quote
    assert len(replies) == 1, "one answer, one message"
    parsed = parse_telegram_html(html_of(replies[-1]))
    assert [page_url(href) for href in parsed.links] == [ARTICLE_URL]  # one source line for the one article
    assert_fragment_matches(parsed.links[0], quotes)  # the link scrolls to the quoted sentences
    assert "&amp;" in html_of(replies[-1]) and "&lt;x&gt;" in html_of(replies[-1])
    assert parsed.text.count(TITLE) == 1 and "Business Standard" in parsed.text and "5 Aug 2022" in parsed.text
    # the lead is shown bold inside its quote; a lead that is the whole quote (the lead model keeps the whole
    # sentence when no piece clearly holds the answer, issue 10) is not bolded
    assert all(b in quotes[0] for b in parsed.bold[:1]), "the lead is shown bold inside its quote"
    question_id = replies[0].params["reply_parameters"]["message_id"]
    assert bot.api.messages[(USER, question_id)]["text"] == QUESTION, "the answer replies to the question"
    labels = [text for text, _ in buttons(replies[-1])]
    assert labels == ["More quotes", "Context", "👍", "👎"]
    assert all(len(data.encode()) <= 64 for _, data in buttons(replies[-1]))
    await bot.api.quiet(0.2)  # the answer is sent first, recorded just after
    row = db_rows(bot.settings, "SELECT question, quotes FROM questions ORDER BY id DESC LIMIT 1")[0]
    assert row[0] == QUESTION and [q["text"] for q in json.loads(row[1])] == [q for q in quotes]


async def press(api, data: str, message: dict, user_id: int = USER):
    """Press a button; returns (the answerCallbackQuery, the request log position before the press)."""
    since = api.mark()
    api.inject_callback(data, message, user_id=user_id)
    ack = await api.wait_for("answerCallbackQuery", since=since)
    await api.quiet(0.2)
    return ack[0], since


def button_data(request_or_markup, label: str) -> str:
    markup = request_or_markup.params["reply_markup"] if hasattr(request_or_markup, "params") else request_or_markup
    return next(b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"].startswith(label))


def labels_of(markup: dict) -> list[str]:
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


async def test_votes_more_quotes_once_and_reasons(bot):
    api = bot.api
    replies = await bot.ask("When did the US general visit Pakistan?")
    first_quotes = quotes_of(replies)
    answer = bot_message(api, replies[-1])
    question_id = int(button_data(replies[-1], "More quotes").split(":")[1])

    ack, since = await press(api, button_data(replies[-1], "👍"), answer)
    assert "Thanks" in ack.params.get("text", "")
    assert db_rows(bot.settings, "SELECT vote, user_id FROM feedback WHERE question_id = ?", question_id) == [(1, USER)]
    marked = api.calls("editMessageReplyMarkup", since, message_id=answer["message_id"])[-1].params["reply_markup"]
    assert "👍 ✓" in labels_of(marked)

    answer = bot_message(api, replies[-1])
    more = button_data(replies[-1], "More quotes")
    _, since = await press(api, more, answer)
    extra = api.calls("sendMessage", since, chat_id=USER)
    new_quotes = quotes_of(extra)
    assert new_quotes and not set(new_quotes) & set(first_quotes)
    assert all(_normalise(q) in ARTICLE_TEXT for q in new_quotes)
    assert "👍 ✓" in labels_of(extra[-1].params["reply_markup"]), "the new buttons keep the vote"
    moved = api.calls("editMessageReplyMarkup", since, message_id=answer["message_id"])[-1].params["reply_markup"]
    assert "More quotes" not in labels_of(moved) and "👍 ✓" in labels_of(moved)

    ack, since = await press(api, more, answer)  # pressed again (e.g. a double tap): nothing new
    assert not api.calls("sendMessage", since) and "Already" in ack.params.get("text", "")

    page = bot_message(api, extra[-1])
    _, since = await press(api, button_data(extra[-1], "👎"), page)
    asking = api.calls("editMessageReplyMarkup", since, message_id=page["message_id"])[-1].params["reply_markup"]
    assert {"Wrong article", "Not an answer", "Outdated"} <= set(labels_of(asking)) and "👎 ✓" in labels_of(asking)
    assert db_rows(bot.settings, "SELECT vote FROM feedback WHERE question_id = ?", question_id) == [(-1,)]
    ack, since = await press(api, button_data(asking, "Outdated"), bot_message(api, extra[-1]))
    assert "outdated" in ack.params["text"].lower()
    after = api.calls("editMessageReplyMarkup", since, message_id=page["message_id"])[-1].params["reply_markup"]
    assert "Outdated" not in labels_of(after) and "👎 ✓" in labels_of(after)
    assert db_rows(bot.settings, "SELECT vote, reason FROM feedback WHERE question_id = ?", question_id) == [
        (-1, "outdated")
    ]


async def test_context_button_shows_the_verbatim_sentences_around_the_quotes(bot):
    api = bot.api
    replies = await bot.ask(QUESTION)
    quotes = quotes_of(replies)
    _, since = await press(api, button_data(replies[-1], "Context"), bot_message(api, replies[-1]))
    shown = api.calls("sendMessage", since, chat_id=USER)
    assert shown and all(r.params["reply_parameters"]["message_id"] == replies[-1].result["message_id"] for r in shown)
    passages = quotes_of(shown)
    assert len(passages) == len(quotes)
    text = stored_text(bot.services.store)
    for passage, quote in zip(passages, quotes, strict=True):
        assert passage in text, "context must be a verbatim slice of the stored article"
        assert _normalise(quote) in _normalise(passage) and len(passage) > len(quote)
    assert all(parse_telegram_html(html_of(r)).bold for r in shown), "the quote is bold inside its context"
    _, since = await press(api, button_data(replies[-1], "Context"), bot_message(api, replies[-1]))
    assert not api.calls("sendMessage", since)

    answerer = bot.services.answerer
    first = answerer.ask(QUESTION).quotes[0]
    passage = answerer.context(first.article_id, first.start, first.end, quote=first.text)
    assert passage.quote == first.text and passage.before + passage.quote + passage.after in text
    assert passage.after and bool(passage.before) == (first.start > 0)  # nothing before the article's first sentence
    assert answerer.context(first.article_id, first.start, first.end, quote=first.text + " (edited)") is None
    assert answerer.context("no-such-article", 0, 5) is None


async def test_reply_to_an_answer_is_a_follow_up(bot, monkeypatch):
    replies = await bot.ask("Who visited the General Headquarters in Rawalpindi?")
    seen: list[dict] = []
    original = bot.services.answerer.ask

    def spy(question, **kwargs):
        seen.append({"question": question, **kwargs})
        return original(question, **kwargs)

    monkeypatch.setattr(bot.services.answerer, "ask", spy)
    follow = await bot.ask("And when did that happen?", reply_to=bot_message(bot.api, replies[-1]))
    assert seen and seen[0]["context"] == "Who visited the General Headquarters in Rawalpindi?"
    assert all(_normalise(q) in ARTICLE_TEXT for q in quotes_of(follow))
    await bot.api.quiet(0.2)  # the answer is sent first, recorded just after
    row = db_rows(bot.settings, "SELECT context FROM questions ORDER BY id DESC LIMIT 1")[0]
    assert row[0] == "Who visited the General Headquarters in Rawalpindi?"


async def test_not_found_names_the_closest_articles(bot):
    replies = await bot.ask("What is the recipe for a good lasagne with bechamel?")
    text = html_of(replies[-1])
    assert_valid_html(text)
    parsed = parse_telegram_html(text)
    assert "find" in parsed.text.lower() and not parsed.blockquotes
    assert "Closest articles" in parsed.text and TITLE in parsed.text and ARTICLE_URL in parsed.links
    assert not any("#:~:" in href for href in parsed.links)  # nothing quoted, nothing to highlight
    assert [t for t, _ in buttons(replies[-1])] == ["👍", "👎"]


async def test_start_help_and_sources(bot, monkeypatch):
    start = await bot.ask("/start")
    text = parse_telegram_html(html_of(start[0])).text
    assert "1 article" in text and "5 Aug 2022" in text
    help_ = await bot.ask("/help")
    assert "/sources" in html_of(help_[0]) and "/reindex" not in html_of(help_[0])
    assert f"@{bot.api.username}" in html_of(help_[0]), "inline mode is enabled (getMe): /help says how to use it"
    admin_help = await bot.ask("/help", user_id=ADMIN)
    assert "/reindex" in html_of(admin_help[0])

    sources = await bot.ask("/sources")
    assert TITLE in parse_telegram_html(html_of(sources[0])).text and not buttons(sources[0])

    many = [
        ArticleRef(f"a{i}", f"Article <{i}>", f"https://example.com/{i}", "Outlet", f"2024-01-{31 - i:02d}")
        for i in range(20)
    ]
    monkeypatch.setattr(bot.services.answerer, "articles", lambda: many)
    bot.services.catalog.invalidate()
    sources = await bot.ask("/sources")
    first = parse_telegram_html(html_of(sources[0]))
    assert "Article <0>" in first.text and "Article <8>" not in first.text and "page 1/3" in first.text
    older = next(data for text, data in buttons(sources[0]) if text.startswith("Older"))
    since = bot.api.mark()
    bot.api.inject_callback(older, bot_message(bot.api, sources[0]))
    edit = await bot.api.wait_for("editMessageText", since=since)
    page2 = parse_telegram_html(html_of(edit[0]))
    assert "Article <8>" in page2.text and "page 2/3" in page2.text
    assert next(t for t, _ in buttons(edit[0])).startswith("« Newer")


async def test_non_text_oversized_and_unknown_command(bot):
    since = bot.api.mark()
    bot.api.inject(bot.api.message(None, user_id=USER, extra={"sticker": _sticker()}))
    reply = await bot.api.wait_for("sendMessage", since=since, chat_id=USER)
    assert reply[0].params["text"] == NOT_TEXT
    long = await bot.ask("why " * 200)
    assert "too long" in html_of(long[0]) and "<blockquote>" not in html_of(long[0])
    unknown = await bot.ask("/frobnicate")
    assert "/help" in html_of(unknown[0])
    usage = await bot.ask("/ask")
    assert "Usage" in html_of(usage[0])


def _sticker() -> dict:
    return {
        "file_id": "stk",
        "file_unique_id": "ustk",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }


# --------------------------------------------------------------------------- groups


async def test_group_rules(bot):
    group = -100500
    since = bot.api.mark()
    bot.api.inject_text(QUESTION, user_id=USER, chat_id=group, chat_type="supergroup")
    await asyncio.sleep(0.8)
    assert not bot.api.calls("sendMessage", since, chat_id=group), "unaddressed group text must be ignored"

    mention = await bot.ask(
        f"@{bot.api.username} who met the army chief?", user_id=USER, chat_id=group, chat_type="supergroup"
    )
    assert quotes_of(mention) and mention[0].params["reply_parameters"]["message_id"]

    ask = await bot.ask(f"/ask@{bot.api.username} {QUESTION}", user_id=USER, chat_id=group, chat_type="supergroup")
    assert quotes_of(ask)

    replied = await bot.ask(
        "And when did that happen?",
        user_id=USER,
        chat_id=group,
        chat_type="supergroup",
        reply_to=bot_message(bot.api, ask[-1]),
    )
    assert replied

    since = bot.api.mark()
    bot.api.inject_text("/ask@some_other_bot who?", user_id=USER, chat_id=group, chat_type="supergroup")
    bot.api.inject(
        bot.api.message(None, user_id=USER, chat_id=group, chat_type="supergroup", extra={"sticker": _sticker()})
    )
    await asyncio.sleep(0.8)
    assert not bot.api.calls("sendMessage", since, chat_id=group)


# --------------------------------------------------------------------------- robustness


async def test_long_answers_split_between_quotes_never_inside_a_tag(bot, monkeypatch):
    body = "A sentence with <tags> & ampersands, “quotes” and émojis 🚀. " * 30  # ~1,900 characters
    quotes = [
        Quote(body + str(i), "centcom", TITLE, ARTICLE_URL, "Business Standard", "2022-08-05", 0, 10, 1.0)
        for i in range(3)
    ]
    huge = Quote("word " * 1200, "centcom", TITLE, ARTICLE_URL, None, None, 0, 10, 0.5)

    def fake_ask(question, **kwargs):
        return Answer(question, "A long answer <b>not bold</b>", False, quotes=[*quotes, huge], more_quotes=[])

    monkeypatch.setattr(bot.services.answerer, "ask", fake_ask)
    replies = await bot.ask("Give me a very long answer")
    assert len(replies) >= 3
    for reply in replies:
        assert_valid_html(html_of(reply))
    assert buttons(replies[-1]) and not any(buttons(r) for r in replies[:-1])
    got = quotes_of(replies)
    for quote in quotes:
        assert quote.text in got  # each normal quote whole, in one message
    assert _normalise(" ".join(g for g in got if g.startswith("word"))) == _normalise(huge.text)
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html_of(replies[0])


async def test_recovers_after_429_and_5xx(bot):
    bot.api.fail_next("sendMessage", 429, retry_after=1)
    since = bot.api.mark()
    replies = await bot.ask(QUESTION)
    assert quotes_of(replies)
    assert [r.status for r in bot.api.requests[since:] if r.method == "sendMessage"][:2] == [429, 200]

    bot.api.fail_next("sendMessage", 502)
    bot.api.fail_next("sendMessage", 500)
    since = bot.api.mark()
    replies = await bot.ask(QUESTION)
    assert quotes_of(replies)
    assert [r.status for r in bot.api.requests[since:] if r.method == "sendMessage"][:3] == [502, 500, 200]

    bot.api.fail_next("getUpdates", 502)
    replies = await bot.ask(QUESTION, timeout=40)
    assert quotes_of(replies)


async def test_pipeline_failure_apologises_and_keeps_serving(bot, monkeypatch, caplog):
    original = bot.services.answerer.ask
    calls = {"n": 0}

    def flaky(question, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return original(question, **kwargs)

    monkeypatch.setattr(bot.services.answerer, "ask", flaky)
    caplog.set_level(logging.ERROR, logger="bot.telegram.handlers")
    since = bot.api.mark()
    update_id = bot.api.inject_text(QUESTION, user_id=USER)
    reply = await bot.api.wait_for("sendMessage", since=since, chat_id=USER)
    assert reply[0].params["text"] == APOLOGY
    assert any(str(update_id) in r.getMessage() and r.exc_info for r in caplog.records)
    assert quotes_of(await bot.ask(QUESTION))


async def test_slow_question_does_not_block_others(bot, monkeypatch):
    original = bot.services.answerer.ask

    def sometimes_slow(question, **kwargs):
        if question.startswith("slow"):
            time.sleep(3)
        return original(question.removeprefix("slow "), **kwargs)

    monkeypatch.setattr(bot.services.answerer, "ask", sometimes_slow)
    since = bot.api.mark()
    bot.api.inject_text("slow " + QUESTION, user_id=4001)
    await asyncio.sleep(0.2)
    fast = await bot.ask(QUESTION, user_id=4002, timeout=10)
    slow = await bot.replies(4001, since, timeout=20)
    assert fast[-1].at < slow[-1].at
    assert slow[-1].at - fast[-1].at > 1.0


async def test_token_never_logged(bot, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # httpx logs every URL, which contains the token
    try:
        await bot.ask(QUESTION)
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    assert any("/bot<TELEGRAM_BOT_TOKEN>/" in r.getMessage() for r in caplog.records)
    assert bot.api.token not in caplog.text
    assert all(bot.api.token not in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- other settings


async def test_access_control_gates_every_handler(corpus):
    settings, answerer, store, embedder = corpus
    allowed = await start_bot(settings.model_copy(update={"allowed_user_ids": [USER]}), answerer, store, embedder)
    try:
        api = allowed.api
        for text in (QUESTION, "/start", "/sources", "/reindex", f"/ask {QUESTION}"):
            since = api.mark()
            api.inject_text(text, user_id=2002)
            reply = await api.wait_for("sendMessage", since=since, chat_id=2002)
            await api.quiet(0.2)
            sent = api.calls("sendMessage", since, chat_id=2002)
            assert len(sent) == 1 and reply[0].params["text"] == refusal(2002)
            assert "2002" in reply[0].params["text"]
            assert not api.calls("sendChatAction", since, chat_id=2002)

        since = api.mark()
        api.inject_text(QUESTION, user_id=2002, chat_id=-42, chat_type="group")  # not addressed: silence
        await asyncio.sleep(0.5)
        assert not api.calls("sendMessage", since)

        ok = await allowed.ask(QUESTION, user_id=USER)
        assert quotes_of(ok)
        since = api.mark()
        api.inject_callback(
            next(d for t, d in buttons(ok[-1]) if t == "More quotes"), bot_message(api, ok[-1]), user_id=2002
        )
        ack = await api.wait_for("answerCallbackQuery", since=since)
        assert ack[0].params["text"] == refusal(2002)
        await api.quiet(0.2)
        assert not api.calls("sendMessage", since)

        refused = await allowed.ask("/reindex", user_id=USER)
        assert refused[0].params["text"] == ADMIN_ONLY
    finally:
        await allowed.close()
        await allowed.api.stop()


async def test_per_user_rate_limit(corpus):
    settings, answerer, store, embedder = corpus
    limited = await start_bot(settings.model_copy(update={"rate_limit_per_minute": 2}), answerer, store, embedder)
    try:
        assert quotes_of(await limited.ask(QUESTION, user_id=USER))
        assert quotes_of(await limited.ask(QUESTION, user_id=USER))
        third = await limited.ask(QUESTION, user_id=USER)
        assert "please wait" in third[0].params["text"] and "<blockquote>" not in third[0].params["text"]
        assert quotes_of(await limited.ask(QUESTION, user_id=USER + 1))  # others are not affected
    finally:
        await limited.close()
        await limited.api.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_with_secret_token(corpus):
    settings, answerer, store, embedder = corpus
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    hooked = await start_bot(
        settings.model_copy(
            update={
                "telegram_webhook_url": url,
                "telegram_webhook_listen": "127.0.0.1",
                "telegram_webhook_port": port,
            }
        ),
        answerer,
        store,
        embedder,
    )
    try:
        api = hooked.api
        assert api.webhook["url"] == url
        secret = api.webhook["secret_token"]
        assert re.fullmatch(r"[A-Za-z0-9_-]{20,256}", secret)
        update = {"update_id": 77, "message": api.message(QUESTION, user_id=USER)}
        since = api.mark()
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
                assert resp.status == 403
            async with session.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
                assert resp.status == 200
        replies = await hooked.replies(USER, since)
        assert quotes_of(replies)
        assert not api.calls("getUpdates", since)
    finally:
        await hooked.close()
        await hooked.api.stop()


async def test_unreachable_bot_api_is_one_line_and_exit_code_3(corpus, monkeypatch, capsys):
    from pydantic import SecretStr

    from bot.telegram import app

    settings = corpus[0].model_copy(
        update={
            "telegram_bot_token": SecretStr("42:unreachable-token"),
            "telegram_api_base_url": f"http://127.0.0.1:{_free_port()}",
        }
    )
    monkeypatch.setattr(app, "STARTUP_ATTEMPTS", 2)
    code = await app.serve(settings, answerer=corpus[1], store=corpus[2], embedder=corpus[3], handle_signals=False)
    err = capsys.readouterr().err.strip()
    assert code == 3 and len(err.splitlines()) == 1
    assert err.startswith("Cannot reach the Telegram Bot API") and "unreachable-token" not in err
