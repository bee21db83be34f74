"""`python -m bot run` as a subprocess against the fake Bot API: start-up errors are one clear line,
a question is answered over HTTP, SIGTERM stops cleanly and closes the store, the token is never printed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fake_bot_api import FakeBotAPI, parse_telegram_html
from tests.test_telegram_e2e import ARTICLE_TEXT, _normalise, index_sample, make_module_settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def bot_env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "QDRANT_", "ADMIN_", "ALLOWED_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "QDRANT_PATH": str(root / "qdrant"),
            "ARTICLES_DIR": str(root / "articles"),
            "DATA_DIR": str(root / "data"),
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


async def run_bot(root: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=root,  # no stray .env
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_missing_token_is_one_clear_line(tmp_path):
    process = await run_bot(tmp_path, bot_env(tmp_path))
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode != 0
    text = err.decode()
    assert "TELEGRAM_BOT_TOKEN" in text and "Traceback" not in text


async def test_rejected_token_is_one_clear_line_without_the_token(tmp_path):
    api = FakeBotAPI()
    await api.start()
    wrong = "111111:WrongTokenValue_ABCDEFGHIJKLMNOP"
    try:
        env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=api.base_url)
        process = await run_bot(tmp_path, env)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await api.stop()
    text = (out + err).decode()
    assert process.returncode not in (0, None)
    assert "rejected TELEGRAM_BOT_TOKEN" in text and "Traceback" not in text
    assert wrong not in text and "WrongTokenValue" not in text


async def test_python_m_bot_run_answers_and_stops_on_sigterm(tmp_path, embedder):
    from indexing.store import Store

    settings = make_module_settings(tmp_path)
    store = Store.open(settings)
    index_sample(settings, store, embedder)
    store.close()  # the embedded folder can be held by one process only: the bot's

    api = FakeBotAPI()
    await api.start()
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url, ADMIN_USER_IDS="9001")
    process = await run_bot(tmp_path, env)
    try:
        await api.wait_for("deleteWebhook", timeout=120)  # polling starts next (getUpdates is recorded on return)
        assert api.calls("setMyCommands")
        since = api.mark()
        api.inject_text("Who did the Centcom chief meet?", user_id=1001)
        reply = await api.wait_for(
            "sendMessage", since=since, chat_id=1001, timeout=60, predicate=lambda r: bool(r.params.get("reply_markup"))
        )
        quotes = parse_telegram_html(reply[0].params["text"]).blockquotes
        assert quotes and all(_normalise(q) in ARTICLE_TEXT for q in quotes)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await api.stop()
    text = (out + err).decode()
    assert process.returncode == 0, text[-2000:]
    assert "store closed" in text and "Traceback" not in text
    assert api.token not in text
    reopened = Store.open(settings)  # the lock was released
    reopened.close()


async def test_sigterm_during_a_reindex_stops_without_hanging(tmp_path, embedder):
    """A job stuck in a slow source must not keep the process alive after SIGTERM (nor outlive the store)."""
    from aiohttp import web

    from indexing.store import Store

    settings = make_module_settings(tmp_path)
    store = Store.open(settings)
    index_sample(settings, store, embedder)
    store.close()

    async def drip(request: web.Request) -> web.StreamResponse:  # a page that never finishes
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<html><body><p>")
        for _ in range(1200):
            await response.write(b"a ")
            await asyncio.sleep(0.5)
        return response

    app = web.Application()
    app.router.add_get("/slow.html", drip)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slow.html"

    api = FakeBotAPI()
    await api.start()
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        ADMIN_USER_IDS="9001",
        FETCH_TIMEOUT="600",
        FETCH_ALLOW_PRIVATE_NETWORKS="true",
    )
    process = await run_bot(tmp_path, env)
    try:
        await api.wait_for("deleteWebhook", timeout=120)
        since = api.mark()
        api.inject_text(f"/add {url}", user_id=9001)
        await api.wait_for("sendMessage", since=since, chat_id=9001, timeout=60)
        await asyncio.sleep(1.5)  # the job is now reading the slow page
        process.send_signal(signal.SIGTERM)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 90)
        except TimeoutError:
            pytest.fail("the bot did not exit within 90 s of SIGTERM during a reindex")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await api.stop()
        await runner.cleanup()
    text = (out + err).decode()
    assert process.returncode == 0, text[-2000:]
    assert "store closed" in text and "Traceback" not in text
    reopened = Store.open(settings)
    assert reopened.count_articles() == 1
    reopened.close()


async def test_sigterm_while_a_reindex_embeds_exits_cleanly(tmp_path):
    """SIGTERM while the job's thread is inside the model: the bot stops within its bound, closes the store
    and exits 0 (finalising Python under a thread in native code would abort the process)."""
    from indexing.store import Store

    articles = tmp_path / "articles"
    articles.mkdir()
    for number in range(12):  # about 3,600 sentences: several seconds of embedding on any machine
        sentences = [
            f"Report {number}-{i} says the harbour committee approved budget line {i * 7 + number} "
            f"for the {('northern', 'eastern', 'southern', 'western')[i % 4]} pier on day {i % 28 + 1}."
            for i in range(300)
        ]
        paragraphs = ["\n".join(sentences[i : i + 5]) for i in range(0, 300, 5)]
        (articles / f"report {number}.txt").write_text(f"Harbour report {number}\n\n" + "\n\n".join(paragraphs))

    api = FakeBotAPI()
    await api.start()
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url, ADMIN_USER_IDS="9001")
    process = await run_bot(tmp_path, env)
    try:
        await api.wait_for("deleteWebhook", timeout=120)
        since = api.mark()
        api.inject_text("/reindex", user_id=9001)
        await api.wait_for(
            "editMessageText", since=since, timeout=300, predicate=lambda r: "embedding" in r.params["text"]
        )
        process.send_signal(signal.SIGTERM)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 90)
        except TimeoutError:
            pytest.fail("the bot did not exit within 90 s of SIGTERM while a reindex was embedding")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await api.stop()
    text = (out + err).decode()
    assert process.returncode == 0, text[-2000:]
    assert "store closed" in text and "Traceback" not in text and "terminate called" not in text
    Store.open(make_module_settings(tmp_path)).close()  # the folder's lock was released
