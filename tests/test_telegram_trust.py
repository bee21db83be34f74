"""The bot's share of "trust the index" (issue 9): answers are never lost or leaked, locks stay short,
uploads never clobber or hide files. End to end over the fake Bot API, on a real embedded store."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3

import pytest

from tests.fake_bot_api import parse_telegram_html, start_bot
from tests.fake_llm import FakeLLM
from tests.test_telegram_e2e import (
    ADMIN,
    QUESTION,
    SAMPLE,
    USER,
    bot_message,
    buttons,
    html_of,
    make_module_settings,
    quotes_of,
)

pytestmark = pytest.mark.slow

NEW_ARTICLE = """Zorblat festival draws record crowds in Lisbon

The annual Zorblat festival of mechanical puppetry opened in Lisbon on Saturday with a record 40,000 visitors.
Organisers said the festival's giant brass heron, built by engineer Marta Quintela, took three years to finish.
"""


def harbour_notes(body: str) -> bytes:
    return (
        "---\ntitle: Harbour notes\nsource: Port Gazette\npublished: 2024-03-02\n---\n"
        f"{body}\nThe harbour master said the work would finish before the summer season.\n"
    ).encode()


@pytest.fixture(scope="module")
def trust_corpus(tmp_path_factory, embedder):
    """(settings, answerer, store, embedder): the sample article in the articles folder and indexed."""
    from bot.pipeline import QuestionAnswerer
    from indexing.job import run_index
    from indexing.store import Store

    root = tmp_path_factory.mktemp("telegram-trust")
    settings = make_module_settings(root)
    settings.articles_dir.mkdir(parents=True)
    shutil.copy(SAMPLE, settings.articles_dir / SAMPLE.name)
    store = Store.open(settings)
    run_index(settings, store=store, embedder=embedder, show_progress_bar=False)  # the folder, as /reindex reads it
    answerer = QuestionAnswerer(settings, store=store, embedder=embedder)
    yield settings, answerer, store, embedder
    answerer.close()
    store.close()


@pytest.fixture(scope="module")
async def trust_bot(trust_corpus):
    running = await start_bot(*trust_corpus)
    yield running
    assert await running.close() == 0
    await running.api.stop()


def all_texts(api, since: int = 0) -> list[str]:
    return [r.params.get("text", "") for r in api.requests[since:] if r.method in ("sendMessage", "editMessageText")]


# --------------------------------------------------------------------------- answers are not lost


async def test_feedback_database_error_does_not_cost_the_answer(trust_bot, monkeypatch, caplog):
    def disk_full(**_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(trust_bot.services.feedback, "record_question", disk_full)
    replies = await trust_bot.ask(QUESTION)
    assert quotes_of(replies), [html_of(r) for r in replies]
    assert not any("went wrong" in html_of(r) for r in replies)
    await trust_bot.api.quiet(0.2)
    assert "disk is full" in caplog.text  # logged for the maintainers


def test_follow_up_context_keeps_the_newest_questions(trust_corpus):
    from bot.pipeline import QuestionAnswerer

    settings, _answerer, store, embedder = trust_corpus
    qa = QuestionAnswerer(settings, store=store, embedder=embedder)
    seen: dict = {}
    run_raw = qa.run_raw

    def spy(query, **kwargs):
        seen.update(query=query, **kwargs)
        return run_raw(query, **kwargs)

    qa.run_raw = spy
    thread = " ".join(f"Earlier question number {i:02d} about the Centcom chief visit?" for i in range(1, 13))
    qa.ask("And when did that happen?", context=thread)
    assert "number 12" in seen["context"] and "number 01" not in seen["context"]
    assert len(seen["context"]) <= settings.max_question_chars
    assert thread.endswith(seen["context"]) and thread[-len(seen["context"]) - 1] == " "  # cut between words


# --------------------------------------------------------------------------- nothing leaks across chats


async def test_buttons_are_bound_to_their_chat(trust_bot):
    api = trust_bot.api
    replies = await trust_bot.ask(QUESTION, user_id=USER)
    # "More quotes" when the answer has more, else "Context": a button that sends the chat's text
    more = next(data for text, data in buttons(replies[-1]) if text.startswith(("More quotes", "Context")))
    stranger_chat = 7007
    forged = {**bot_message(api, replies[-1]), "chat": api.chat(stranger_chat)}
    since = api.mark()
    api.inject_callback(more, forged, user_id=stranger_chat)
    await api.wait_for("answerCallbackQuery", since=since)
    await api.quiet(0.3)
    assert not api.calls("sendMessage", since), "another chat's quotes were sent"
    for data in (d for _, d in buttons(replies[-1])):
        since = api.mark()
        api.inject_callback(data, forged, user_id=stranger_chat)
        await api.wait_for("answerCallbackQuery", since=since)
        await api.quiet(0.2)
        assert not api.calls("sendMessage", since) and not api.calls("editMessageText", since)


# --------------------------------------------------------------------------- limits


async def test_sources_and_start_are_rate_limited_and_the_notice_is_sent_once(trust_corpus):
    settings, answerer, store, embedder = trust_corpus
    limited = await start_bot(settings.model_copy(update={"rate_limit_per_minute": 2}), answerer, store, embedder)
    try:
        api = limited.api
        since = api.mark()
        for text in ("/sources", "/start", "/sources", "/start", "/sources", QUESTION, QUESTION):
            api.inject_text(text, user_id=USER)
        await api.wait_for("sendMessage", since=since, count=3, chat_id=USER)
        await api.quiet(0.5)
        sent = [parse_telegram_html(html_of(r)).text for r in api.calls("sendMessage", since, chat_id=USER)]
        notices = [t for t in sent if "please wait" in t]
        assert len(sent) == 3 and len(notices) == 1, sent
    finally:
        await limited.close()
        await limited.api.stop()


async def test_article_list_is_cached_and_light(trust_bot):
    store = trust_bot.services.store
    fetched: list[set[str]] = []
    article_records = store.article_records

    def spy(*args, **kwargs):
        keys: set[str] = set()
        fetched.append(keys)
        for record in article_records(*args, **kwargs):
            keys.update(record.payload or {})
            yield record

    store.article_records = spy
    try:
        for text in ("/sources", "/start", "/sources", "/start"):
            await trust_bot.ask(text)
    finally:
        del store.article_records
    assert len(fetched) <= 1, f"{len(fetched)} reads of every article record for 4 commands"
    assert all(not keys & {"sentences", "text", "term_df"} for keys in fetched), fetched


# --------------------------------------------------------------------------- generated answers, locks


@pytest.fixture(scope="module")
def llm():
    server = FakeLLM(reply="The Centcom chief met General Bajwa [1].").start()
    yield server
    server.stop()


async def test_generated_answers_are_labelled_and_quotes_follow(trust_corpus, llm):
    from bot.pipeline import QuestionAnswerer

    settings, _answerer, store, embedder = trust_corpus
    llm_settings = settings.model_copy(update={"llm_base_url": llm.base_url, "llm_model": "fake", "llm_timeout": 30})
    llm.mode, llm.delay = "ok", 0
    answerer = QuestionAnswerer(llm_settings, store=store, embedder=embedder)
    running = await start_bot(llm_settings, answerer, store, embedder)
    try:
        replies = await running.ask(QUESTION)
        text = parse_telegram_html(html_of(replies[0])).text
        assert "generated" in text.lower() and "General Bajwa [1]" in text
        assert text.lower().index("generated") < text.index("General Bajwa [1]")
        assert quotes_of(replies), "quotes must follow a generated answer"
    finally:
        await running.close()
        await running.api.stop()


async def test_a_slow_llm_does_not_hold_the_store_lock(trust_corpus, llm):
    """A /reindex that must write waits for store work only, never for the LLM."""
    from bot.pipeline import QuestionAnswerer

    settings, _answerer, store, embedder = trust_corpus
    llm_settings = settings.model_copy(update={"llm_base_url": llm.base_url, "llm_model": "fake", "llm_timeout": 60})
    answerer = QuestionAnswerer(llm_settings, store=store, embedder=embedder)
    running = await start_bot(llm_settings, answerer, store, embedder)
    api = running.api
    (settings.articles_dir / "zorblat.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    llm.mode, llm.delay, llm.requests, llm.responses = "slow", 12.0, [], 0
    try:
        since = api.mark()
        api.inject_text(QUESTION, user_id=USER)
        for _ in range(300):  # the question is now inside the LLM call
            if llm.requests:
                break
            await asyncio.sleep(0.05)
        assert llm.requests
        api.inject_text("/reindex", user_id=ADMIN)
        summary = await api.wait_for(
            "sendMessage",
            since=since,
            chat_id=ADMIN,
            timeout=60,
            predicate=lambda r: "added" in parse_telegram_html(html_of(r)).text,
        )
        assert llm.responses == 0, "the reindex waited for the LLM"
        assert "1 added" in parse_telegram_html(html_of(summary[0])).text
        replies = await running.replies(USER, since, timeout=60)
        assert quotes_of(replies)
    finally:
        llm.mode, llm.delay = "ok", 0
        await running.close()
        await running.api.stop()


# --------------------------------------------------------------------------- uploads


async def upload(running, name: str, content: bytes) -> list[str]:
    """Send `content` as a document named `name` from the admin; the bot's texts until the job's summary."""
    api = running.api
    document = api.add_file(name, content)
    since = api.mark()
    api.inject(api.message(None, user_id=ADMIN, document=document))
    await api.wait_for(
        "sendMessage",
        since=since,
        chat_id=ADMIN,
        timeout=120,
        predicate=lambda r: parse_telegram_html(html_of(r)).text.startswith(("✅", "⚠️", "❌", "⏹", "ℹ️")),
    )
    await api.quiet(0.3)
    return [parse_telegram_html(t).text for t in all_texts(api, since)]


async def test_upload_names_keep_unicode_letters(trust_bot):
    articles = trust_bot.settings.articles_dir
    for name in ("café.txt", "ünïcødé.md"):
        texts = await upload(trust_bot, name, NEW_ARTICLE.replace("Lisbon", name.split(".")[0]).encode())
        assert (articles / name).exists(), sorted(p.name for p in articles.iterdir())
        assert any(name in t for t in texts), texts
    texts = await upload(trust_bot, ".txt", b"Dotless notes\n\nThe ferry timetable changes on Monday morning.\n")
    saved = sorted(p.name for p in articles.iterdir())
    assert ".txt" not in saved and "txt" not in saved
    assert any(p.endswith(".txt") and len(p) > 4 and p not in (SAMPLE.name, "café.txt") for p in saved), saved


async def test_upload_never_replaces_a_different_article_and_says_what_happened(trust_bot):
    articles = trust_bot.settings.articles_dir
    first = harbour_notes("The harbour bridge repairs began in March with new steel cables.")
    second = harbour_notes("The harbour ferry gained two new electric boats built in Gdansk.")
    texts = await upload(trust_bot, "harbour notes.txt", first)
    assert (articles / "harbour notes.txt").read_bytes() == first
    joined = "\n".join(texts)
    assert "Harbour notes" in joined and "Port Gazette" in joined and "2 Mar 2024" in joined, texts
    texts = await upload(trust_bot, "harbour notes.txt", second)
    assert (articles / "harbour notes.txt").read_bytes() == first, "the first upload was overwritten"
    kept = [p for p in articles.iterdir() if p.read_bytes() == second]
    assert kept and kept[0].name != "harbour notes.txt"
    joined = "\n".join(texts)
    assert kept[0].name in joined and "already" in joined.lower(), texts
    steel = await trust_bot.ask("What did the harbour bridge repairs use?")
    assert any("steel cables" in q for q in quotes_of(steel))
    boats = await trust_bot.ask("Where were the new electric ferry boats built?")
    assert any("Gdansk" in q for q in quotes_of(boats))


async def test_rejected_upload_leaves_the_articles_folder_and_no_path_is_shown(trust_bot):
    settings = trust_bot.settings
    texts = await upload(trust_bot, "empty page.html", b"<html><head><title>x</title></head><body></body></html>")
    assert not (settings.articles_dir / "empty page.html").exists()
    assert any((settings.data_dir / "rejected").glob("empty page*.html"))
    root = str(settings.articles_dir.parent)
    assert not any(root in t or str(settings.articles_dir) in t for t in all_texts(trust_bot.api)), "server path shown"
    assert any("empty page.html" in t for t in texts), texts

    api = trust_bot.api
    since = api.mark()
    api.inject_text("/reindex", user_id=ADMIN)
    summary = await api.wait_for(
        "sendMessage",
        since=since,
        chat_id=ADMIN,
        timeout=120,
        predicate=lambda r: parse_telegram_html(html_of(r)).text.startswith(("✅", "⚠️", "❌")),
    )
    assert "0 failed" in parse_telegram_html(html_of(summary[0])).text
