"""Fast unit tests of the Telegram front end's plain functions (no Telegram): rate limit, feedback database,
access policy, token redaction, retries, callback data, upload names, deep links, the article list, job
summaries and progress, the store fence. Rendering is in test_telegram_render.py."""

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
from bot.types import Answer, ArticleRef
from tests.fake_bot_api import parse_telegram_html
from tests.test_telegram_render import quote


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


# --------------------------------------------------------------------------- plain functions behind the handlers


def test_rate_limit_notice_once_per_window():
    now = [0.0]
    limiter = SlidingWindowLimiter(1, 60.0, clock=lambda: now[0])
    assert limiter.check(1) == 0.0
    waits = [limiter.check(1) for _ in range(5)]
    assert all(wait > 0 for wait in waits)
    assert [limiter.should_notify(1, wait) for wait in waits] == [True, False, False, False, False]
    assert limiter.should_notify(2, 10.0), "other users are told separately"
    now[0] = 61.0
    assert limiter.check(1) == 0.0
    assert limiter.should_notify(1, limiter.check(1)), "a new window, a new notice"


def test_feedback_ids_shown_pages_reasons_and_uploads(tmp_path):
    from bot.telegram.feedback import Upload

    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    first = store.new_question_id()
    answer = Answer("Who?", "Him.", False, quotes=[quote("Him.", window=(0, 3))])
    assert (
        store.record_question(question_id=first, chat_id=5, user_id=7, update_id=1, answer=answer, message_id=40)
        == first
    )
    store.link_messages(first, 5, [41, 42])
    assert store.answer_to(5, 40) == (first, [41, 42])
    assert store.get(first).quotes[0].window == (0, 3)
    assert store.mark_shown(first, "more", 1) and not store.mark_shown(first, "more", 1)
    assert store.mark_shown(first, "context", 1)
    store.record_feedback(first, 7, -1)
    assert store.record_reason(first, 7, "outdated") and store.reason(first, 7) == "outdated"
    store.record_feedback(first, 7, 1)
    assert store.reason(first, 7) is None and not store.record_reason(first, 7, "outdated")
    store.record_upload(Upload("", 7, "a.txt", "a.txt", 10, "added", "A"))
    assert [u.saved_as for u in store.recent_uploads()] == ["a.txt"]
    store.close()
    reopened = FeedbackStore(tmp_path / "feedback.sqlite3")
    assert reopened.new_question_id() == first + 1, "ids continue after a restart"
    reopened.close()


def test_feedback_database_from_an_older_version_is_migrated(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, chat_id INTEGER "
            "NOT NULL, user_id INTEGER, update_id INTEGER, question TEXT NOT NULL, context TEXT, answer TEXT NOT NULL, "
            "abstained INTEGER NOT NULL, quotes TEXT NOT NULL, more_quotes TEXT NOT NULL, latency_ms REAL);"
            "CREATE TABLE feedback (question_id INTEGER NOT NULL, user_id INTEGER NOT NULL, vote INTEGER NOT NULL, "
            "created_at TEXT NOT NULL, PRIMARY KEY (question_id, user_id));"
            "INSERT INTO questions VALUES (7, 'x', 1, 1, 1, 'q', NULL, 'a', 0, '[]', '[]', 1.0);"
        )
    store = FeedbackStore(path)
    assert store.new_question_id() == 8 and store.get(7).message_id is None
    store.record_feedback(7, 1, -1, reason="wrong article")
    flagged = Answer("Who?", "Him.", False, quotes=[quote("Him.")], tentative=True)
    new = store.record_question(chat_id=1, user_id=1, update_id=2, answer=flagged)
    store.close()
    with sqlite3.connect(path) as db:  # the added column records which answers were shown as closest passages
        assert db.execute("SELECT id, tentative FROM questions ORDER BY id").fetchall() == [(7, 0), (new, 1)]


def test_follow_up_thread_keeps_the_newest_words():
    from bot.pipeline import newest_words
    from bot.telegram.feedback import StoredQuestion
    from bot.telegram.questions import thread_context

    assert newest_words("one two three four", 100) == "one two three four"
    assert newest_words("one two three four", 12) == "three four"
    assert newest_words("alpha beta", 6) == "beta"
    earlier = StoredQuestion(1, 1, 1, "Newest question here?", "Oldest question. Middle question.", "a")
    assert thread_context(earlier, 40) == "Middle question. Newest question here?"
    assert thread_context(None, 40) is None


def test_callback_data_round_trips_and_fits():
    from bot.telegram.keyboards import AnswerButtons, Callback, sources_data

    buttons = AnswerButtons(123456789, page=2, next_page=3, vote=-1, asking_reason=True)
    markup = buttons.markup()
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert all(len(d.encode()) <= 64 for d in data)
    assert AnswerButtons.from_markup(markup) == AnswerButtons(123456789, page=2, next_page=3)
    assert Callback.parse("why:5:outdated").text == "outdated"
    for bad in ("why:5:evil", "more:x:1", "nope:1", ""):
        with pytest.raises(ValueError):
            Callback.parse(bad)
    long = sources_data(12, "harbour " * 20)
    assert len(long.encode()) <= 64 and Callback.parse(long).text.startswith("harbour harbour")


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("café.txt", "café.txt"),
        ("ünïcødé.md", "ünïcødé.md"),
        ("Report 2024.TXT", "Report 2024.txt"),
        (".txt", "upload.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.html", "win.html"),
        (".hidden.md", "hidden.md"),
        ("a/b:c*d?.json", "b c d.json"),
        ("  spaced   name .txt", "spaced name.txt"),
        ("日本語の記事.txt", "日本語の記事.txt"),
        ("x" * 400 + ".txt", "x" * 150 + ".txt"),
    ],
)
def test_upload_file_names(name, saved):
    from bot.telegram.uploads import clean_file_name

    assert clean_file_name(name) == saved


def test_upload_placement_never_replaces_a_different_article(tmp_path):
    from bot.telegram.uploads import move_out, place_upload, save_new

    (tmp_path / "harbour notes.txt").write_bytes(b"first")
    (tmp_path / "other.md").write_bytes(b"other")
    assert place_upload(tmp_path, "harbour notes.txt", b"first").duplicate
    second = place_upload(tmp_path, "harbour notes.txt", b"second")
    assert second.path.name == "harbour notes (2).txt" and second.renamed and not second.duplicate
    save_new(second.path, b"second")
    assert place_upload(tmp_path, "harbour notes.txt", b"second").path.name == "harbour notes (2).txt"
    assert place_upload(tmp_path, "HARBOUR NOTES.md", b"third").path.name == "HARBOUR NOTES (3).md"
    assert place_upload(tmp_path, "other.txt", b"x").path.name == "other (2).txt", "same article id, other suffix"
    with pytest.raises(FileExistsError):
        save_new(tmp_path / "other.md", b"x")
    assert (tmp_path / "other.md").read_bytes() == b"other"
    moved = move_out(tmp_path / "other.md", tmp_path / "rejected")
    assert moved == tmp_path / "rejected" / "other.md" and not (tmp_path / "other.md").exists()
    assert not list(tmp_path.glob(".upload-*")), "no temporary file left behind"


@pytest.mark.parametrize(
    "question", ["Who met the army chief", "Who met the army chief?", "Où est la gare ? 🚉", "q-trick"]
)
def test_deep_link_payloads_round_trip(question):
    import re

    from bot.telegram.deeplinks import deep_link, deep_link_payload, deep_link_question

    payload = deep_link_payload(question)
    assert payload and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    assert deep_link_question(payload) == " ".join(question.split())
    assert deep_link("quote_bot", question) == f"https://t.me/quote_bot?start={payload}"
    assert deep_link_question("Who_met_the_army_chief") == "Who met the army chief"
    assert deep_link_question("bad payload!") is None and deep_link_payload("x" * 200) is None


def test_article_catalog_is_cached_until_refreshed():
    from bot.telegram.catalog import ArticleCatalog, article_token

    now, generation = [0.0], [1]
    refs = [
        ArticleRef("z", "Zürich reopens its lake baths", origin="/a/z.txt"),
        ArticleRef("b", "Bridge", origin="u", also_from=("/a/copy.txt",)),
    ]
    catalog = ArticleCatalog(lambda: refs, generation=lambda: generation[0], check_interval=2.0, clock=lambda: now[0])
    for _ in range(5):
        catalog.get()
    assert catalog.loads == 1
    assert [r.article_id for r in catalog.search("zurich LAKE")] == ["z"]
    assert catalog.find("b").title == "Bridge" and catalog.by_origin("/a/z.txt")[0].article_id == "z"
    assert [r.article_id for r in catalog.by_origin("/a/copy.txt")] == ["b"], "a copy finds the article it repeats"
    assert catalog.by_token(article_token("z")).article_id == "z" and len(article_token("z")) == 12
    catalog.invalidate()  # the bot's own job changed the index
    catalog.get()
    generation[0] = 2  # another process indexed
    catalog.get()
    assert catalog.loads == 2, "the generation is checked at most every check_interval"
    now[0] = 3.0
    catalog.get()
    catalog.get()
    assert catalog.loads == 3


def test_summaries_never_show_server_paths_nor_cut_entities(tmp_path):
    from types import SimpleNamespace

    from bot.telegram.reindex import display_origin
    from indexing.settings import Settings

    settings = Settings(_env_file=None, articles_dir=tmp_path / "articles", data_dir=tmp_path / "data")
    failures = [
        (str(tmp_path / "articles" / "sub" / "bad.html"), "no article text after cleaning"),
        (str(tmp_path / "articles" / "feed.jsonl") + " [item-3]", "empty text"),
        ("https://example.org/a?" + "x=1&" * 120 + "y=2", "HTTP 404 Not Found"),
        ("/elsewhere/secret/file.txt", f"unreadable: {tmp_path}/articles/sub/bad.html is locked"),
    ]
    summary = SimpleNamespace(
        added=0, updated=0, unchanged=0, removed=0, failed=4, seconds=1.0, failures=failures, duplicates=2
    )
    text = format_summary(summary, "Reindex", settings)
    assert "2 same text as another article" in text
    parsed = parse_telegram_html(text)  # valid HTML: an entity was never cut in half
    assert str(tmp_path) not in parsed.text and "/elsewhere" not in parsed.text
    assert "sub/bad.html: no article text" in parsed.text and "feed.jsonl [item-3]" in parsed.text
    assert display_origin("https://e.org/x", None) == "https://e.org/x"


def test_progress_is_told_in_words_with_units():
    from bot.telegram.reindex import progress_words

    assert progress_words("embedding", 512, 811) == "embedding 512 of 811 sentences"
    assert progress_words("preparing", 1, 3) == "splitting 1 of 3 articles into sentences"
    assert progress_words("preparing", 3, 3) == "split 3 articles into sentences; embedding their sentences next"
    assert progress_words("reading", 1, 1) == "read 1 source; comparing with the index"
    assert progress_words("writing", 2, 5) == "writing 2 of 5 articles to the index"


def test_a_stopped_job_cannot_touch_the_store():
    import threading

    from bot.telegram.jobfence import FencedStore, StoreClosedError

    class Store:
        calls = 0
        engine = "test"

        def write_records(self, payloads):
            Store.calls += 1

        def article_records(self):
            for n in range(3):
                Store.calls += 1
                yield n

    stopped = threading.Event()
    job_store = FencedStore(Store(), stopped)
    assert job_store.engine == "test"
    job_store.write_records([])
    pages = job_store.article_records()
    assert next(pages) == 0
    in_flight, release = threading.Event(), threading.Event()

    def slow(payloads):
        in_flight.set()
        release.wait(5)

    Store.write_records = lambda self, payloads: slow(payloads)
    writer = threading.Thread(target=job_store.write_records, args=([],))
    writer.start()
    in_flight.wait(5)
    stopped.set()
    assert not job_store.fence(0.2), "a bounded wait gives up while a call is in flight"
    release.set()
    writer.join()
    assert job_store.fence(1.0)
    with pytest.raises(StoreClosedError):
        job_store.write_records([])
    with pytest.raises(StoreClosedError):
        next(pages)  # an iterator it returned is fenced too, page by page
    assert Store.calls == 2
