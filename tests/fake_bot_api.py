"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests and the latency benchmark.

It speaks the Bot API's JSON over HTTP for every method the bot calls (getMe, getUpdates with long polling
and offsets, sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage, sendChatAction,
answerCallbackQuery, answerInlineQuery, setMyCommands / getMyCommands with scopes, deleteWebhook,
setWebhook, getFile and file downloads under /file/bot<token>/<path>). It refuses what Telegram refuses:
unsupported tags or attributes, unbalanced tags, nested blockquotes, `expandable` outside a blockquote,
links that are not URLs, text over 4,096 UTF-16 code units after entities parsing, replies to missing
messages, callback data over 64 bytes. It records every request, injects messages, edited messages,
button presses and inline queries (deep-link `/start PAYLOAD` is a message), and answers 429 (with
retry_after) or 5xx on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnop"
BOT_ID = 123456789
BOT_USERNAME = "quote_test_bot"

# Parameters sent as plain strings by clients (everything else is JSON-encoded in form data).
STRING_FIELDS = {
    "text",
    "parse_mode",
    "callback_query_id",
    "file_id",
    "action",
    "url",
    "secret_token",
    "inline_message_id",
    "caption",
    "language_code",
    "business_connection_id",
    "ip_address",
}
ALLOWED_TAGS = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "tg-spoiler": set(),
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
MAX_TEXT = 4096  # UTF-16 code units of the text after entities parsing
MAX_CAPTION = 1024
MAX_INLINE_RESULTS = 50
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);")


class TelegramHTMLError(ValueError):
    """What Telegram answers as 'Bad Request: can't parse entities'."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _unescape(text: str) -> str:
    """Decode HTML entities the way Telegram does: &lt; &gt; &amp; &quot; and numeric ones; others stay."""

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return NAMED_ENTITIES.get(name, match.group(0))

    return _ENTITY.sub(one, text)


@dataclass
class ParsedHTML:
    """A message's HTML as Telegram would see it."""

    text: str
    links: list[str]
    blockquotes: list[str]
    expandable: list[bool] = field(default_factory=list)  # per blockquote
    bold: list[str] = field(default_factory=list)  # text of each <b>/<strong>


def parse_telegram_html(markup: str) -> ParsedHTML:
    """Parse like Telegram: supported tags and attributes only, balanced, no nested blockquote, `expandable`
    only on a blockquote, links with an http(s) or tg: URL; entities decoded. Raises TelegramHTMLError."""
    text = ""
    stack: list[tuple[str, int]] = []  # (tag, where its text starts)
    parsed = ParsedHTML("", [], [])
    position = 0
    for match in re.finditer(r"<[^<]*?>|<", markup):
        text += _unescape(markup[position : match.start()])
        position = match.end()
        token = _TAG.fullmatch(match.group(0))
        if token is None:
            raise TelegramHTMLError(f"Unsupported start tag at byte offset {len(markup[: match.start()].encode())}")
        closing, tag, attributes = token.group(1), token.group(2).lower(), token.group(3)
        if closing:
            if attributes.strip() or not stack or stack[-1][0] != tag:
                raise TelegramHTMLError(f'Unmatched end tag "{tag}" at byte offset {match.start()}')
            begin = stack.pop()[1]
            if tag == "blockquote":
                parsed.blockquotes.append(text[begin:])
            elif tag in ("b", "strong"):
                parsed.bold.append(text[begin:])
            continue
        _check_start_tag(tag, attributes, stack, parsed)
        stack.append((tag, len(text)))
    text += _unescape(markup[position:])
    if stack:
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    parsed.text = text
    return parsed


def _check_start_tag(tag: str, attributes: str, stack: list[tuple[str, int]], parsed: ParsedHTML) -> None:
    if tag not in ALLOWED_TAGS:
        raise TelegramHTMLError(f'Unsupported start tag "{tag}"')
    attrs = {name.lower(): (value or "").strip("\"'") for name, value in _ATTR.findall(attributes)}
    for name in attrs:
        if name not in ALLOWED_TAGS[tag]:
            raise TelegramHTMLError(f'Unsupported attribute "{name}" in tag "{tag}"')
    if tag == "blockquote":
        if any(open_tag == "blockquote" for open_tag, _ in stack):
            raise TelegramHTMLError("Nested blockquotes are not allowed")
        parsed.expandable.append("expandable" in attrs)
    elif tag == "a":
        href = _unescape(attrs.get("href", ""))
        if not re.match(r"(https?://[^\s/?#]+|tg://)", href):
            raise TelegramHTMLError(f"Can't parse URL {href!r}")
        parsed.links.append(href)
    elif tag == "span" and attrs.get("class") != "tg-spoiler":
        raise TelegramHTMLError('Tag "span" must have class "tg-spoiler"')


@dataclass
class Request:
    """One recorded call."""

    method: str
    params: dict[str, Any]
    at: float  # monotonic arrival time (getUpdates: when it returned)
    status: int = 200
    result: Any = None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str


@dataclass
class FakeBotAPI:
    """The server. Use `await start()` / `await stop()`, `inject(...)`, `wait_for(...)`."""

    token: str = TOKEN
    bot_id: int = BOT_ID
    username: str = BOT_USERNAME
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    messages: dict[tuple[int, int], dict] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, list[dict]] = field(default_factory=dict)  # scope (JSON) -> commands
    inline_answers: dict[str, dict] = field(default_factory=dict)  # inline query id -> answerInlineQuery params
    inline_mode: bool = True  # BotFather's /setinline was done

    def __post_init__(self) -> None:
        self._updates: deque[dict] = deque()
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1000))
        self._callback_ids = itertools.count(1)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.delays: dict[str, float] = {}

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- test controls

    def user(self, user_id: int, first_name: str = "Tester", username: str | None = None) -> dict:
        data = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username:
            data["username"] = username
        return data

    def bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Quote Bot", "username": self.username}

    @staticmethod
    def chat(chat_id: int, chat_type: str = "private") -> dict:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Tester"}
        return {"id": chat_id, "type": chat_type, "title": "Test group"}

    def message(
        self,
        text: str | None,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict | None = None,
        document: dict | None = None,
        extra: dict | None = None,
    ) -> dict:
        """A user's message, with bot_command / mention entities computed like Telegram does."""
        chat_id = user_id if chat_id is None else chat_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": self.user(user_id),
        }
        if text is not None:
            key = "caption" if document else "text"
            message[key] = text
            entities = _entities(text)
            if entities:
                message["caption_entities" if document else "entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if document is not None:
            message["document"] = document
        if extra:
            message.update(extra)
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def inject(self, payload: dict, kind: str = "message") -> int:
        """Queue an update (e.g. `inject(api.message("hi"))`); returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._new_update.set()
        return update_id

    def inject_text(self, text: str, **kwargs: Any) -> int:
        return self.inject(self.message(text, **kwargs))

    def inject_edit(self, message: dict, text: str) -> int:
        """The user edits one of their messages (an `edited_message` update with the new text)."""
        edited = {k: v for k, v in message.items() if k not in ("text", "entities")}
        edited.update(text=text, edit_date=int(time.time()))
        entities = _entities(text)
        if entities:
            edited["entities"] = entities
        self.messages[(edited["chat"]["id"], edited["message_id"])] = edited
        return self.inject(edited, kind="edited_message")

    def inject_inline(self, query: str, user_id: int = 1001, offset: str = "") -> str:
        """`@bot query` typed in any chat (an `inline_query` update); returns the query id."""
        query_id = f"iq{next(self._callback_ids)}"
        payload = {"id": query_id, "from": self.user(user_id), "query": query, "offset": offset, "chat_type": "sender"}
        self.inject(payload, kind="inline_query")
        return query_id

    def inject_callback(self, data: str, message: dict, user_id: int = 1001) -> int:
        """A button press on one of the bot's messages (`message` as returned by sendMessage)."""
        query = {
            "id": str(next(self._callback_ids)),
            "from": self.user(user_id),
            "message": message,
            "chat_instance": "fake-chat-instance",
            "data": data,
        }
        return self.inject(query, kind="callback_query")

    def add_file(self, file_name: str, content: bytes, mime_type: str = "text/plain") -> dict:
        """Register a downloadable file; returns the Document object to put in a message."""
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = (f"documents/{file_id}_{file_name}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }

    def fail_next(
        self, method: str, status: int = 429, *, retry_after: int | None = 1, times: int = 1, description: str = ""
    ) -> None:
        """Answer the next `times` calls of `method` with an error (429 carries retry_after)."""
        if status != 429:
            retry_after = None
        text = description or {429: f"Too Many Requests: retry after {retry_after}"}.get(
            status, "Internal Server Error"
        )
        for _ in range(times):
            self._failures[method].append(_Failure(status, retry_after, text))

    def calls(self, method: str | None = None, since: int = 0, **match: Any) -> list[Request]:
        """Recorded successful calls, optionally of one method and with matching parameters."""
        out = []
        for request in self.requests[since:]:
            if method and request.method != method:
                continue
            if request.status != 200:
                continue
            if all(request.params.get(key) == value for key, value in match.items()):
                out.append(request)
        return out

    def mark(self) -> int:
        """A position in the request log, for `since=`."""
        return len(self.requests)

    async def wait_for(
        self,
        method: str,
        *,
        since: int = 0,
        count: int = 1,
        timeout: float = 20.0,
        predicate: Callable[[Request], bool] | None = None,
        **match: Any,
    ) -> list[Request]:
        """Wait until `count` successful calls of `method` (matching) arrived after `since`."""

        def found() -> list[Request]:
            hits = self.calls(method, since, **match)
            return [hit for hit in hits if predicate is None or predicate(hit)]

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= count), timeout)
            except TimeoutError:
                got = [(r.method, r.params.get("text", "")[:80]) for r in self.requests[since:]]
                raise AssertionError(f"timed out waiting for {count} x {method} {match}; got {got}") from None
        return found()[:count]

    async def quiet(self, seconds: float = 0.3) -> None:
        """Wait until no request arrived for `seconds` (the bot is idle)."""
        last = -1
        while last != len(self.requests):
            last = len(self.requests)
            await asyncio.sleep(seconds)

    # ----------------------------------------------------------------- HTTP

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    params[key] = value.file.read()
                else:
                    params[key] = value
        return {key: _decode(key, value) for key, value in params.items()}

    async def _record(self, method: str, params: dict, status: int, result: Any, at: float | None = None) -> None:
        async with self._changed:
            self.requests.append(Request(method, params, at or time.monotonic(), status, result))
            self._changed.notify_all()

    async def _handle_method(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await self._params(request)
        delay = self.delays.get(method)
        if delay:
            await asyncio.sleep(delay)
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            await self._record(method, params, failure.status, None)
            if failure.status == 502:
                return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")
            return _error(failure.status, failure.description, retry_after=failure.retry_after)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            await self._record(method, params, 404, None)
            return _error(404, "Not Found")
        try:
            result = await handler(params)
        except _BadRequest as error:
            await self._record(method, params, 400, str(error))
            return _error(400, f"Bad Request: {error}")
        await self._record(method, params, 200, result, at=arrived if method != "getUpdates" else None)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, content in self.files.values():
            if stored_path == path:
                await self._record("<download>", {"path": path}, 200, len(content))
                return web.Response(body=content)
        return web.Response(status=404)

    # ----------------------------------------------------------------- methods

    async def _api_getMe(self, params: dict) -> dict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.inline_mode,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # confirmed by the offset
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline and not self._closing:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        return list(itertools.islice(self._updates, limit))

    async def _api_deleteWebhook(self, params: dict) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setWebhook(self, params: dict) -> bool:
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict) -> dict:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_setMyCommands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise _BadRequest("too many commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise _BadRequest("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _BadRequest("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._scope_key(params)] = commands
        return True

    async def _api_getMyCommands(self, params: dict) -> list[dict]:
        return self.commands.get(self._scope_key(params), [])

    @staticmethod
    def _scope_key(params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        kinds = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
        if scope.get("type") not in kinds | {"chat", "chat_administrators", "chat_member"}:
            raise _BadRequest("wrong scope type")
        if scope["type"] not in kinds and "chat_id" not in scope:
            raise _BadRequest("chat_id is required for this scope")
        return json.dumps(scope, sort_keys=True)

    def commands_for(self, scope_type: str = "default", **scope: Any) -> list[str]:
        """The command names registered for a scope (e.g. `commands_for("chat", chat_id=9001)`)."""
        key = json.dumps({"type": scope_type, **scope}, sort_keys=True)
        return [command["command"] for command in self.commands.get(key, [])]

    async def _api_answerInlineQuery(self, params: dict) -> bool:
        results = params.get("results") or []
        if len(results) > MAX_INLINE_RESULTS:
            raise _BadRequest("RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results]
        if len(set(ids)) != len(ids) or not all(1 <= len(i.encode()) <= 64 for i in ids):
            raise _BadRequest("RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not result.get("title"):
                raise _BadRequest("RESULT_TYPE_INVALID")
            content = result.get("input_message_content") or {}
            self._check_text({"text": content.get("message_text"), "parse_mode": content.get("parse_mode")}, "text")
            self._check_markup(result.get("reply_markup"))
        button = params.get("button")
        if button and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", button.get("start_parameter", "")):
            raise _BadRequest("START_PARAM_INVALID")
        self.inline_answers[str(params.get("inline_query_id"))] = params
        return True

    async def _api_sendChatAction(self, params: dict) -> bool:
        if params.get("action") not in {"typing", "upload_document", "upload_photo", "record_voice"}:
            raise _BadRequest("wrong parameter action in request")
        return True

    async def _api_answerCallbackQuery(self, params: dict) -> bool:
        if len(params.get("text") or "") > 200:
            raise _BadRequest("MESSAGE_TOO_LONG")
        return True

    def _check_text(self, params: dict, key: str = "text") -> str:
        """The text as Telegram would show it; raises what Telegram answers for bad text or markup."""
        text = params.get(key)
        if not isinstance(text, str) or not text.strip():
            raise _BadRequest("message text is empty")
        plain = text
        if str(params.get("parse_mode", "")).upper() == "HTML":
            try:
                plain = parse_telegram_html(text).text
            except TelegramHTMLError as error:
                raise _BadRequest(f"can't parse entities: {error}") from None
        if not plain.strip():
            raise _BadRequest("message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise _BadRequest("message is too long")
        self._check_markup(params.get("reply_markup"))
        return plain

    @staticmethod
    def _check_markup(markup: dict | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise _BadRequest("BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise _BadRequest("BUTTON_DATA_INVALID")

    def _check_reply(self, chat_id: int, params: dict) -> dict | None:
        """The message replied to; Telegram refuses a missing one unless allow_sending_without_reply."""
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id") or params.get("reply_to_message_id")
        if not reply_id:
            return None
        original = self.messages.get((int(reply.get("chat_id") or chat_id), int(reply_id)))
        if original is None and not reply.get("allow_sending_without_reply"):
            raise _BadRequest("message to be replied not found")
        return original

    async def _api_sendMessage(self, params: dict) -> dict:
        plain = self._check_text(params)
        chat_id = int(params["chat_id"])
        original = self._check_reply(chat_id, params)
        message = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": self.chat(chat_id, "private" if chat_id > 0 else "supergroup"),
            "from": self.bot_user(),
            "text": plain,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        if original is not None:
            message["reply_to_message"] = {k: v for k, v in original.items() if k not in ("html", "reply_to_message")}
        self.messages[(chat_id, message["message_id"])] = {**message, "html": params["text"]}
        return message

    def _edit_target(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _BadRequest("message to edit not found")
        return self.messages[key]

    async def _api_editMessageText(self, params: dict) -> dict:
        stored = self._edit_target(params)
        plain = self._check_text(params)
        markup = params.get("reply_markup")
        if stored.get("html") == params["text"] and stored.get("reply_markup") == markup:
            raise _BadRequest(
                "message is not modified: specified new message content and reply markup are exactly the same"
            )
        stored.update(text=plain, html=params["text"], edit_date=int(time.time()))
        return _with_markup(stored, markup)

    async def _api_editMessageReplyMarkup(self, params: dict) -> dict:
        stored = self._edit_target(params)
        markup = params.get("reply_markup")
        if stored.get("reply_markup") == markup:
            raise _BadRequest("message is not modified")
        return _with_markup(stored, markup)

    async def _api_deleteMessage(self, params: dict) -> bool:
        self._edit_target(params)
        del self.messages[(int(params["chat_id"]), int(params["message_id"]))]
        return True

    async def _api_getFile(self, params: dict) -> dict:
        file_id = params.get("file_id")
        if file_id not in self.files:
            raise _BadRequest("invalid file_id")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content), "file_path": path}


class _BadRequest(Exception):
    pass


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _entities(text: str) -> list[dict]:
    """bot_command at the start and @mentions, with UTF-16 offsets like Telegram."""
    entities = []
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
    position = 0
    for word in text.split(" "):
        if word.startswith("@") and len(word) > 1:
            name = word.rstrip(".,!?:;")
            entities.append({"type": "mention", "offset": utf16_len(text[:position]), "length": utf16_len(name)})
        position += len(word) + 1
    return entities


# --------------------------------------------------------------------------- running the real bot against it


@dataclass
class RunningBot:
    """The real application (as `python -m bot run` starts it) polling a FakeBotAPI."""

    api: FakeBotAPI
    application: Any
    settings: Any
    task: asyncio.Task
    stop_event: asyncio.Event

    @property
    def services(self) -> Any:
        return self.application.bot_data["services"]

    async def ask(self, text: str, *, user_id: int = 1001, timeout: float = 30.0, **kwargs: Any) -> list[Request]:
        """Inject a question; return the bot's messages up to the one carrying the buttons (or the first)."""
        chat_id = kwargs.get("chat_id", user_id)
        since = self.api.mark()
        self.api.inject_text(text, user_id=user_id, **kwargs)
        return await self.replies(chat_id, since, timeout=timeout)

    async def replies(self, chat_id: int, since: int, *, timeout: float = 30.0) -> list[Request]:
        first = await self.api.wait_for("sendMessage", since=since, chat_id=chat_id, timeout=timeout)
        if first[0].params.get("reply_markup") or not _looks_like_answer_start(first[0]):
            return first
        last = await self.api.wait_for(
            "sendMessage",
            since=since,
            chat_id=chat_id,
            timeout=timeout,
            predicate=lambda r: bool(r.params.get("reply_markup")),
        )
        return [r for r in self.api.calls("sendMessage", since, chat_id=chat_id) if r.at <= last[0].at]

    async def close(self) -> int:
        self.stop_event.set()
        return await asyncio.wait_for(self.task, 30)


def _looks_like_answer_start(request: Request) -> bool:
    text = request.params.get("text", "")
    return "<blockquote" in text or "Generated from the quotes" in text


async def start_bot(
    settings: Any,
    answerer: Any,
    store: Any,
    embedder: Any,
    *,
    api: FakeBotAPI | None = None,
    poll_timeout: float = 1.0,
    **serve_kwargs: Any,
) -> RunningBot:
    """Start a FakeBotAPI (unless given) and the bot's `serve()` against it, with the given resources."""
    from pydantic import SecretStr

    from bot.telegram.app import serve

    api = api or FakeBotAPI()
    if api._runner is None:
        await api.start()
    settings = settings.model_copy(
        update={"telegram_bot_token": SecretStr(api.token), "telegram_api_base_url": api.base_url}
    )
    stop_event = asyncio.Event()
    started: asyncio.Future = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings,
            answerer=answerer,
            store=store,
            embedder=embedder,
            stop=stop_event,
            handle_signals=False,
            poll_timeout=poll_timeout,
            started=started,
            **serve_kwargs,
        )
    )
    done, _ = await asyncio.wait([started, task], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if started not in done:
        task.cancel()
        raise RuntimeError(f"the bot did not start: {task.result() if task.done() else 'timeout'}")
    return RunningBot(api, started.result(), settings, task, stop_event)


def _with_markup(stored: dict, markup: dict | None) -> dict:
    """Set or clear an edited message's reply markup; the message as the Bot API returns it."""
    if markup:
        stored["reply_markup"] = markup
    else:
        stored.pop("reply_markup", None)
    return {key: value for key, value in stored.items() if key != "html"}
