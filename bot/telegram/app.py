"""Build and run the Telegram application: `python -m bot run` calls `main(settings)`.

Long polling by default; webhook mode when TELEGRAM_WEBHOOK_URL is set (with a secret token). The Bot API
base URL comes from TELEGRAM_API_BASE_URL, so a self-hosted Bot API server (or the tests' fake) works too.
In embedded mode the bot owns the Qdrant folder: one Store and one Embedder serve both the answers and
the indexing jobs started from Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from telegram import (
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseRateLimiter, Defaults

from bot.telegram import handlers
from bot.telegram.access import AccessPolicy
from bot.telegram.catalog import ArticleCatalog
from bot.telegram.feedback import FeedbackStore
from bot.telegram.messaging import ChatSequencer
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex import Reindexer, job_threads_alive
from bot.telegram.services import Services
from indexing.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
PIPELINE_WORKERS = 4
STARTUP_ATTEMPTS = 5


# --------------------------------------------------------------------------- logging


class _Redactor:
    """A log record factory that replaces the bot token in every message and traceback."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.secrets: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        if not self.secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:
            return record
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            clean = self.redact(text)
            if clean != text:
                record.exc_text, record.exc_info = clean, None
        return record

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<TELEGRAM_BOT_TOKEN>")
        return text


def install_token_redaction(token: str) -> None:
    """Make sure the token never reaches a log line (httpx logs request URLs, which contain it)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _Redactor):
        factory = _Redactor(factory)
        logging.setLogRecordFactory(factory)
    if token:
        factory.secrets.add(token)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def redact(text: str) -> str:
    """`text` without any registered secret (for lines printed outside logging)."""
    factory = logging.getLogRecordFactory()
    return factory.redact(text) if isinstance(factory, _Redactor) else text


def configure_logging(settings: Settings) -> None:
    """Plain one-line logs on stderr at LOG_LEVEL (a long-running service logs at INFO by default)."""
    level = getattr(logging, str(settings.log_level).upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "haystack", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _token(settings: Settings) -> str:
    return settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""


# --------------------------------------------------------------------------- building


def build_application(
    settings: Settings,
    answerer: Any = None,
    store: Any = None,
    embedder: Any = None,
    *,
    rate_limiter: BaseRateLimiter | None = None,
    run_index: Any = None,
) -> Application:
    """The configured Application with its handlers and shared services (in `bot_data["services"]`).

    answerer/store/embedder may be attached later with `attach_services` (the bot checks its token first).
    """
    token = _token(settings)
    if not token:
        raise InvalidToken("TELEGRAM_BOT_TOKEN is not set")
    install_token_redaction(token)
    base = settings.telegram_api_base_url.rstrip("/")
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .concurrent_updates(True)
        .connection_pool_size(64)
        .connect_timeout(10.0)
        .read_timeout(30.0)
        .write_timeout(30.0)
        .pool_timeout(10.0)
        .job_queue(None)
        .build()
    )
    reindexer_kwargs = {"run_index": run_index} if run_index else {}
    services = Services(
        settings=settings,
        answerer=None,
        store=None,
        embedder=None,
        feedback=FeedbackStore(settings.feedback_db),
        limiter=SlidingWindowLimiter(settings.rate_limit_per_minute, 60.0),
        access=AccessPolicy.from_settings(settings),
        executor=ThreadPoolExecutor(max_workers=PIPELINE_WORKERS, thread_name_prefix="pipeline"),
        reindexer=Reindexer(settings, None, None, None, **reindexer_kwargs),
        catalog=ArticleCatalog(
            lambda: services.answerer.articles() if services.answerer is not None else [],
            generation=lambda: services.store.generation() if services.store is not None else 0,
        ),
        chats=ChatSequencer(),
    )
    services.reindexer.on_refresh = services.catalog.invalidate
    application.bot_data["services"] = services
    if answerer is not None:
        attach_services(application, answerer, store, embedder)
    handlers.register(application)
    return application


def attach_services(application: Application, answerer: Any, store: Any, embedder: Any) -> None:
    """Plug the pipeline and the store into an application built without them."""
    svc: Services = application.bot_data["services"]
    svc.answerer, svc.store, svc.embedder = answerer, store, embedder
    svc.reindexer.answerer, svc.reindexer.store, svc.reindexer.embedder = answerer, store, embedder
    svc.catalog.invalidate()


def open_services(settings: Settings) -> tuple[Any, Any, Any]:
    """Open the store and the model once, and the pipeline on them (blocking: run in a thread)."""
    from bot.pipeline import QuestionAnswerer
    from indexing.embedding import Embedder
    from indexing.store import Store

    store = Store.open(settings)
    try:
        embedder = Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
        answerer = QuestionAnswerer(settings, store=store, embedder=embedder)
    except BaseException:
        store.close()
        raise
    return answerer, store, embedder


# --------------------------------------------------------------------------- running


class StartupError(Exception):
    """Start-up cannot go on; the message is the one line shown to the operator."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


async def _initialize(application: Application, settings: Settings) -> None:
    """getMe with retries on network errors; a rejected token is fatal at once."""
    delay = 1.0
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise StartupError(
                "Telegram rejected TELEGRAM_BOT_TOKEN (getMe answered Unauthorized): check the token from @BotFather.",
                2,
            ) from None
        except NetworkError as error:
            if attempt == STARTUP_ATTEMPTS:
                raise StartupError(
                    f"Cannot reach the Telegram Bot API at {settings.telegram_api_base_url}: {error}", 3
                ) from None
            log.warning("Bot API not reachable (%s); retrying in %.0f s", error, delay)
            await asyncio.sleep(delay)
            delay *= 2


async def _set_commands(application: Application, settings: Settings) -> None:
    """The commands menu per chat type; admins also see the admin commands in their private chat."""
    bot = application.bot
    menus = [
        (handlers.COMMANDS, None),
        (handlers.PRIVATE_COMMANDS, BotCommandScopeAllPrivateChats()),
        (handlers.GROUP_COMMANDS, BotCommandScopeAllGroupChats()),
    ]
    for commands, scope in menus:
        try:
            await bot.set_my_commands(commands, scope=scope)
        except TelegramError as error:
            log.warning("setMyCommands (%s) failed: %s", scope.type if scope else "default", error)
    for admin in settings.admin_user_ids:
        try:
            await bot.set_my_commands(
                handlers.PRIVATE_COMMANDS + handlers.ADMIN_COMMANDS, scope=BotCommandScopeChat(admin)
            )
        except TelegramError as error:  # e.g. the admin never opened a chat with the bot
            log.info("admin commands not registered for %s: %s", admin, error)


async def _start_updates(application: Application, settings: Settings, poll_timeout: float) -> str:
    """Start the webhook server (TELEGRAM_WEBHOOK_URL set) or long polling; returns a description."""
    if not settings.telegram_webhook_url:
        await application.updater.start_polling(
            timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES, error_callback=_polling_error
        )
        return "long polling"
    url = settings.telegram_webhook_url
    secret = (
        settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
    ) or secrets.token_urlsafe(32)
    install_token_redaction(secret)
    await application.updater.start_webhook(
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        url_path=urlparse(url).path.lstrip("/"),
        webhook_url=url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
    return f"webhook on {settings.telegram_webhook_listen}:{settings.telegram_webhook_port}"


def _polling_error(error: TelegramError) -> None:
    log.warning("getUpdates failed: %s (retrying with backoff)", error)


async def serve(
    settings: Settings,
    *,
    answerer: Any = None,
    store: Any = None,
    embedder: Any = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    poll_timeout: float = 25.0,
    started: asyncio.Future | None = None,
    rate_limiter: BaseRateLimiter | None = None,
) -> int:
    """Run the bot until `stop` is set (or SIGTERM/SIGINT); returns the process exit code.

    Pass answerer/store/embedder to reuse opened ones (tests); otherwise they are opened here, after the
    token has been checked, and closed on exit. `started` receives the running Application.
    """
    if not _token(settings):
        print("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env.", file=sys.stderr)
        return 2
    application = build_application(settings, answerer, store, embedder, rate_limiter=rate_limiter)
    svc: Services = application.bot_data["services"]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    owned = None
    initialized = False
    try:
        await _initialize(application, settings)
        initialized = True
        if svc.answerer is None:
            log.info("opening the store and loading the model")
            try:
                owned = await asyncio.to_thread(open_services, settings)
            except Exception as error:
                raise StartupError(f"Cannot open the article store: {error}", 1) from None
            attach_services(application, *owned)
        await _set_commands(application, settings)
        try:
            mode = await _start_updates(application, settings, poll_timeout)
        except (OSError, TelegramError) as error:
            raise StartupError(f"Cannot start receiving updates: {error}", 1) from None
        await application.start()
        log.info("bot @%s is running (%s)", application.bot.username, mode)
        if started is not None and not started.done():
            started.set_result(application)
        await stop.wait()
        log.info("stopping")
        return 0
    except StartupError as error:
        print(redact(str(error)), file=sys.stderr)
        log.debug("start-up failed", exc_info=True)
        if started is not None and not started.done():
            started.set_exception(error)
        return error.code
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        with contextlib.suppress(Exception):
            if application.updater and application.updater.running:
                await application.updater.stop()
        with contextlib.suppress(Exception):
            if application.running:
                await application.stop()
        await svc.reindexer.shutdown()
        with contextlib.suppress(Exception):
            if initialized:
                await application.shutdown()
            else:  # getMe failed: close the HTTP clients the bot opened
                await application.bot.shutdown()
        await asyncio.to_thread(svc.executor.shutdown, True)
        svc.feedback.close()
        if owned is not None:
            answerer_, store_, _ = owned
            with contextlib.suppress(Exception):
                answerer_.close()
            with contextlib.suppress(Exception):
                store_.close()
            log.info("store closed")


def main(settings: Settings) -> int:
    """Entry point of `python -m bot run`: configure logging, run until SIGTERM, return the exit code."""
    # Haystack's telemetry would try to reach the internet at exit and delay a SIGTERM stop by a minute.
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    configure_logging(settings)
    try:
        code = asyncio.run(serve(settings))
    except KeyboardInterrupt:
        code = 130
    if job_threads_alive():
        # A stopped job's thread may still be inside the model (native code); finalising the interpreter
        # under it aborts the process. The store is closed and the thread fenced off it: leave now.
        log.info("exiting without waiting for the stopped indexing job's thread")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
