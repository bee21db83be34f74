"""Admin features end to end over the fake Bot API: /reindex in the background with one edited status
message, a second /reindex refused, document upload and /add making a new article answerable."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time

import pytest
from aiohttp import web

from bot.telegram.access import ADMIN_ONLY
from bot.telegram.uploads import BUSY
from indexing.job import IndexSummary
from tests.fake_bot_api import parse_telegram_html, start_bot
from tests.test_telegram_e2e import ADMIN, SAMPLE, USER, make_module_settings

pytestmark = pytest.mark.slow

NEW_ARTICLE = """Zorblat festival draws record crowds in Lisbon

The annual Zorblat festival of mechanical puppetry opened in Lisbon on Saturday with a record 40,000 visitors.
Organisers said the festival's giant brass heron, built by engineer Marta Quintela, took three years to finish.
The heron walked along the Tagus riverfront for two hours before a cheering crowd.
Next year's festival will move to the city of Porto, the organisers announced.
"""


@pytest.fixture(scope="module")
def admin_corpus(tmp_path_factory, embedder):
    from bot.pipeline import QuestionAnswerer
    from indexing.store import Store

    root = tmp_path_factory.mktemp("telegram-admin")
    settings = make_module_settings(root, fetch_allow_private_networks=True)  # /add fetches from 127.0.0.1
    settings.articles_dir.mkdir(parents=True)
    shutil.copy(SAMPLE, settings.articles_dir / SAMPLE.name)
    store = Store.open(settings)
    answerer = QuestionAnswerer(settings, store=store, embedder=embedder)
    yield settings, answerer, store, embedder
    answerer.close()
    store.close()


@pytest.fixture(scope="module")
async def admin_bot(admin_corpus):
    running = await start_bot(*admin_corpus)
    yield running
    assert await running.close() == 0
    await running.api.stop()


async def wait_for_summary(api, since, timeout=120.0):
    """The job's result: a new message (it notifies) starting with ✅ / ⚠️ / ❌."""
    sent = await api.wait_for(
        "sendMessage",
        since=since,
        timeout=timeout,
        predicate=lambda r: r.params["text"].startswith(("✅", "⚠️", "❌")),
    )
    return sent[0]


async def test_reindex_edits_one_status_message_and_refuses_a_second_run(admin_bot, monkeypatch):
    api = admin_bot.api
    reindexer = admin_bot.services.reindexer
    release = threading.Event()
    calls = []

    def slow_job(settings, sources=None, **kwargs):
        calls.append((sources, kwargs))
        for done in range(1, 4):
            kwargs["progress"]("embedding", done, 3)
            time.sleep(0.3)
        release.wait(10)
        return IndexSummary(added=1, unchanged=2, chunks_written=3, seconds=1.5)

    monkeypatch.setattr(reindexer, "run_index", slow_job)
    monkeypatch.setattr(reindexer, "edit_interval", 0.1)
    since = api.mark()
    api.inject_text("/reindex", user_id=ADMIN)
    api.inject_text("/reindex", user_id=ADMIN)
    refusal = await api.wait_for(
        "sendMessage", since=since, chat_id=ADMIN, predicate=lambda r: r.params["text"] == BUSY
    )
    assert refusal
    progress = await api.wait_for(
        "editMessageText", since=since, predicate=lambda r: "embedding 3 of 3 sentences" in r.params["text"]
    )
    release.set()
    summary = await wait_for_summary(api, since)
    status = [r for r in api.calls("sendMessage", since, chat_id=ADMIN) if r.params["text"].startswith("⏳")]
    assert len(status) == 1, "exactly one status message"
    message_id = status[0].result["message_id"]
    assert progress[0].params["message_id"] == message_id
    assert api.calls("deleteMessage", since, message_id=message_id), "the result replaces the status message"
    command = status[0].params["reply_parameters"]["message_id"]
    assert summary.params["reply_parameters"]["message_id"] == command, "the result replies to the command"
    text = parse_telegram_html(summary.params["text"]).text
    for part in ("1 added", "0 updated", "2 unchanged", "0 removed", "0 failed"):
        assert part in text
    assert len(calls) == 1 and calls[0][0] is None
    assert calls[0][1]["embedder"] is admin_bot.services.embedder
    await asyncio.wait_for(reindexer._task, 5)
    await asyncio.sleep(0)
    assert not reindexer.running

    non_admin = await admin_bot.ask("/reindex", user_id=USER)
    assert non_admin[0].params["text"] == ADMIN_ONLY


@pytest.fixture
def real_job():
    return pytest.importorskip("indexing.job")


async def test_real_reindex_indexes_the_articles_folder(admin_bot, real_job):
    api = admin_bot.api
    since = api.mark()
    api.inject_text("/reindex", user_id=ADMIN)
    summary = await wait_for_summary(api, since)
    text = parse_telegram_html(summary.params["text"]).text
    assert text.startswith("✅") and "1 added" in text, text
    replies = await admin_bot.ask("Who did the Centcom chief meet?", user_id=USER)
    assert any(parse_telegram_html(r.params["text"]).blockquotes for r in replies)


async def test_document_upload_makes_a_new_article_answerable(admin_bot, real_job, monkeypatch):
    api = admin_bot.api
    resources = admin_bot.services.answerer.resources
    # the caches also follow the store's generation every few seconds; here only the reindex's refresh may
    monkeypatch.setattr(resources, "check_interval", 3600)
    if admin_bot.services.answerer.store.count_articles() == 0:  # run on its own: index the sample first
        since = api.mark()
        api.inject_text("/reindex", user_id=ADMIN)
        await wait_for_summary(api, since)
    before = await admin_bot.ask("Where did the Zorblat festival of mechanical puppetry open?", user_id=USER)
    assert not any("Lisbon" in q for r in before for q in parse_telegram_html(r.params["text"]).blockquotes)

    document = api.add_file("zorblat festival.txt", NEW_ARTICLE.encode())
    since = api.mark()
    api.inject(api.message(None, user_id=ADMIN, document=document))
    summary = await wait_for_summary(api, since)
    text = parse_telegram_html(summary.params["text"]).text
    assert text.startswith("✅") and "1 added" in text and "ask about it now" in text, text
    assert api.calls("getFile", since) and api.calls("<download>", since)
    saved = admin_bot.settings.articles_dir / "zorblat festival.txt"
    assert saved.read_text() == NEW_ARTICLE

    after = await admin_bot.ask("Where did the Zorblat festival of mechanical puppetry open?", user_id=USER)
    quotes = [q for r in after for q in parse_telegram_html(r.params["text"]).blockquotes]
    assert any("Lisbon" in q for q in quotes), quotes
    # the answer was scored with statistics that know the new article: the reindex refreshed the bot's
    # caches (a bot that kept its statistics from before the upload still finds the article by its meaning)
    from bot.lexicon import canon
    from indexing.sparse import tokenize

    stats = resources.corpus_stats()
    assert stats.df.get(canon(tokenize("Zorblat")[0]), 0) > 0, "answers still use statistics from before the upload"


async def test_documents_refused_when_unsupported_or_not_admin(admin_bot):
    api = admin_bot.api
    pdf = api.add_file("report.pdf", b"%PDF-1.4", mime_type="application/pdf")
    since = api.mark()
    api.inject(api.message(None, user_id=ADMIN, document=pdf))
    reply = await api.wait_for("sendMessage", since=since, chat_id=ADMIN)
    assert ".txt, .md, .html or .json" in reply[0].params["text"]

    huge = {**api.add_file("huge.txt", b"x"), "file_size": 50_000_000}
    since = api.mark()
    api.inject(api.message(None, user_id=ADMIN, document=huge))
    reply = await api.wait_for("sendMessage", since=since, chat_id=ADMIN)
    assert "too large" in reply[0].params["text"] and not api.calls("getFile", since)

    txt = api.add_file("notes.txt", b"Some text.")
    since = api.mark()
    api.inject(api.message(None, user_id=USER, document=txt))
    reply = await api.wait_for("sendMessage", since=since, chat_id=USER)
    assert "only the bot's admins" in reply[0].params["text"]
    assert not api.calls("getFile", since)


async def test_add_url_indexes_an_article_from_the_web(admin_bot, real_job):
    api = admin_bot.api
    page = (
        "<html><head><title>Harbour seals return to the Thames estuary</title></head><body><article>"
        "<h1>Harbour seals return to the Thames estuary</h1>"
        "<p>Scientists counted 1,200 harbour seal pups in the Thames estuary this summer, the highest number on record.</p>"
        "<p>The survey was carried out from small aircraft by the Zoological Society of London over three days in August.</p>"
        "<p>Researchers credit cleaner water and a ban on fishing nets near the sandbanks for the recovery.</p>"
        "</article></body></html>"
    )

    async def article(_request):
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/news/seals.html", article)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/news/seals.html"
    try:
        since = api.mark()
        api.inject_text(f"/add {url}", user_id=ADMIN)
        summary = await wait_for_summary(api, since)
        text = parse_telegram_html(summary.params["text"]).text
        assert text.startswith("✅"), f"the indexing job could not fetch from 127.0.0.1: {text}"
        replies = await admin_bot.ask("How many harbour seal pups were counted in the Thames estuary?", user_id=USER)
        quotes = [q for r in replies for q in parse_telegram_html(r.params["text"]).blockquotes]
        assert any("1,200" in q for q in quotes), quotes
    finally:
        await runner.cleanup()
    usage = await admin_bot.ask("/add not-a-url", user_id=ADMIN)
    assert "Usage" in usage[0].params["text"]


def texts_since(api, since) -> list[str]:
    return [parse_telegram_html(r.params["text"]).text for r in api.calls("sendMessage", since)]


async def test_sources_search_and_remove_an_article(admin_bot, real_job):
    api = admin_bot.api
    articles = admin_bot.settings.articles_dir
    (articles / "ferry timetable.txt").write_text(
        "Harbour ferry timetable changes\n\nThe harbour ferry will run every twenty minutes from Monday.\n",
        encoding="utf-8",
    )
    since = api.mark()
    api.inject_text("/reindex", user_id=ADMIN)
    await wait_for_summary(api, since)

    found = await admin_bot.ask("/sources harbour FERRY", user_id=USER)
    text = parse_telegram_html(found[0].params["text"]).text
    assert "Harbour ferry timetable changes" in text and "Centcom" not in text and "(1," in text
    assert "<code>" not in found[0].params["text"], "ids are for admins"
    nothing = await admin_bot.ask("/sources zeppelin", user_id=USER)
    assert "No indexed article" in nothing[0].params["text"]

    listing = await admin_bot.ask("/sources", user_id=ADMIN)
    assert "<code>ferry timetable</code>" in listing[0].params["text"], "admins see the ids"
    trash = [
        b["callback_data"]
        for row in listing[0].params["reply_markup"]["inline_keyboard"]
        for b in row
        if "🗑" in b["text"]
    ]
    assert len(trash) >= 2 and all(len(data.encode()) <= 64 for data in trash)

    user_view = await admin_bot.ask("/sources", user_id=USER)
    assert "🗑" not in str(user_view[0].params.get("reply_markup")), "only admins get removal buttons"
    refused = await admin_bot.ask("/remove ferry timetable", user_id=USER)
    assert refused[0].params["text"] == ADMIN_ONLY

    before = await admin_bot.ask("How often will the harbour ferry run from Monday?", user_id=USER)
    assert any("twenty minutes" in q for r in before for q in parse_telegram_html(r.params["text"]).blockquotes)
    since = api.mark()
    api.inject_text("/remove ferry timetable", user_id=ADMIN)
    result = await api.wait_for("sendMessage", since=since, timeout=60, predicate=lambda r: "🗑" in r.params["text"])
    text = parse_telegram_html(result[0].params["text"]).text
    assert "Harbour ferry timetable changes" in text and "removed" in text.lower() and str(articles) not in text
    assert not (articles / "ferry timetable.txt").exists()
    assert (admin_bot.settings.data_dir / "removed" / "ferry timetable.txt").exists()
    after = await admin_bot.ask("How often will the harbour ferry run from Monday?", user_id=USER)
    assert not any("twenty minutes" in q for r in after for q in parse_telegram_html(r.params["text"]).blockquotes)

    since = api.mark()
    api.inject_text("/reindex", user_id=ADMIN)
    summary = await wait_for_summary(api, since)
    assert "0 added" in parse_telegram_html(summary.params["text"]).text, "/reindex must not bring it back"
    missing = await admin_bot.ask("/remove no-such-article", user_id=ADMIN)
    assert "No indexed article" in missing[0].params["text"]


async def test_remove_from_a_sources_button_asks_first(admin_bot, real_job):
    api = admin_bot.api
    (admin_bot.settings.articles_dir / "kite festival.txt").write_text(
        "Kite festival moves to the dunes\n\nThe kite festival will be held on the northern dunes this year.\n",
        encoding="utf-8",
    )
    since = api.mark()
    api.inject_text("/reindex", user_id=ADMIN)
    await wait_for_summary(api, since)
    listing = await admin_bot.ask("/sources kite", user_id=ADMIN)
    [trash] = [
        b["callback_data"]
        for row in listing[0].params["reply_markup"]["inline_keyboard"]
        for b in row
        if "🗑" in b["text"]
    ]
    message = {k: v for k, v in api.messages[(ADMIN, listing[0].result["message_id"])].items() if k != "html"}
    since = api.mark()
    api.inject_callback(trash, message, user_id=ADMIN)
    confirm = await api.wait_for("sendMessage", since=since, chat_id=ADMIN)
    assert "Kite festival moves to the dunes" in confirm[0].params["text"]
    labels = {
        b["text"]: b["callback_data"] for row in confirm[0].params["reply_markup"]["inline_keyboard"] for b in row
    }
    assert (admin_bot.settings.articles_dir / "kite festival.txt").exists(), "nothing removed before confirming"

    stranger = {k: v for k, v in api.messages[(ADMIN, confirm[0].result["message_id"])].items() if k != "html"}
    since = api.mark()
    api.inject_callback(labels["Yes, remove it"], stranger, user_id=USER)
    ack = await api.wait_for("answerCallbackQuery", since=since)
    assert "admins" in ack[0].params["text"] and (admin_bot.settings.articles_dir / "kite festival.txt").exists()

    since = api.mark()
    api.inject_callback(labels["Yes, remove it"], stranger, user_id=ADMIN)
    await api.wait_for("sendMessage", since=since, timeout=60, predicate=lambda r: "🗑" in r.params["text"])
    assert not (admin_bot.settings.articles_dir / "kite festival.txt").exists()
    gone = await admin_bot.ask("/sources kite", user_id=ADMIN)
    assert "No indexed article" in gone[0].params["text"]


async def test_uploads_lists_what_became_of_each_file(admin_bot, real_job):
    api = admin_bot.api
    document = api.add_file(
        "../secret/lighthouse notes.md",
        b"# Lighthouse restored\n\nThe old lighthouse was repainted red and white in May.\n",
    )
    since = api.mark()
    api.inject(api.message(None, user_id=ADMIN, document=document))
    summary = await wait_for_summary(api, since)
    text = parse_telegram_html(summary.params["text"]).text
    assert "Lighthouse restored" in text and "lighthouse notes.md" in text
    assert (admin_bot.settings.articles_dir / "lighthouse notes.md").exists()
    listing = await admin_bot.ask("/uploads", user_id=ADMIN)
    text = parse_telegram_html(listing[0].params["text"]).text
    assert "lighthouse notes.md" in text and "added" in text and "Lighthouse restored" in text
    assert str(admin_bot.settings.articles_dir) not in text
    refused = await admin_bot.ask("/uploads", user_id=USER)
    assert refused[0].params["text"] == ADMIN_ONLY
