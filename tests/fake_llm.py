"""A fake OpenAI-compatible chat completion server on 127.0.0.1 (aiohttp, in a background thread)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web


class FakeLLM:
    """Serves POST /v1/chat/completions. `mode`: "ok" (answers `reply`), "error" (HTTP 500),
    "slow" (sleeps `delay` seconds first), "garbage" (a body without choices). Requests are kept, and
    `responses` counts the completions answered (so a test can tell whether a call is still pending)."""

    def __init__(self, reply: str = "The bridge reopened on Tuesday after repairs [1].") -> None:
        self.reply = reply
        self.mode = "ok"
        self.delay = 2.0
        self.requests: list[dict[str, Any]] = []
        self.responses = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"body": body, "headers": dict(request.headers)})
        if self.mode == "error":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        self.responses += 1
        if self.mode == "garbage":
            return web.json_response({"unexpected": True})
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}
                ],
            }
        )

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> FakeLLM:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
