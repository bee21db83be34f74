"""A small web on 127.0.0.1 for fetch tests: a real HTTP server with scripted routes, and a fake internet
(DNS answers and routing for public-looking names) so the default fetch policy can be tested without any
traffic leaving the machine: every connection the fetcher opens is checked to go to 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import indexing.fetch as fetch

PUBLIC_IP = "93.184.216.34"  # what the fake DNS answers for public names; never contacted (routed to 127.0.0.1)

Route = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append((self.headers.get("Host"), self.path))
        route = self.server.routes.get(self.path.split("?")[0]) or self.server.routes.get(self.path)
        try:
            if route is None:
                send(self, 404, "text/plain", b"not found")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (too large, too slow)

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str | None, str]] = []


def send(handler: BaseHTTPRequestHandler, status: int, content_type: str | None, body: bytes, **headers: str) -> None:
    """A complete response with Content-Length."""
    handler.send_response(status)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def page(status: int = 200, content_type: str | None = "text/html; charset=utf-8", body: bytes | str = b"", **headers):
    data = body.encode() if isinstance(body, str) else body
    return lambda handler: send(handler, status, content_type, data, **headers)


def redirect(location: str, status: int = 302) -> Route:
    return lambda handler: send(handler, status, "text/plain", b"", Location=location)


def drip(content_type: str, total: int, interval: float) -> Route:
    """A body of `total` bytes sent one byte every `interval` seconds (no Content-Length)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.flush()
        for _ in range(total):
            handler.wfile.write(b"a")
            handler.wfile.flush()
            time.sleep(interval)
        handler.close_connection = True

    return route


def endless(content_type: str, chunk: bytes, total: int, declare: bool) -> Route:
    """`total` bytes of `chunk` repeated, with or without a Content-Length; stops when the client hangs up."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if declare:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        sent = 0
        while sent < total:
            handler.wfile.write(chunk)
            sent += len(chunk)

    return route


class Web:
    """The running server: `base` is http://127.0.0.1:PORT; `url(name, path)` the same server under a public name."""

    def __init__(self) -> None:
        self.server = _Server()
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def routes(self) -> dict[str, Route]:
        return self.server.routes

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def web():
    running = Web()
    yield running
    running.close()


class FakeInternet:
    """Fake DNS (`names` -> addresses) and routing: public addresses lead to the local server; any
    connection to a non-loopback address that is not routed fails the test instead of leaving the machine."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.resolved: list[str] = []
        self.connected: list[str] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append(host)
        try:  # numeric spellings (2130706433, 0x7f.1, ::1) as the system reads them, without any lookup
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
            return [str(info[4][0]) for info in infos]
        except socket.gaierror:
            pass
        answer = self.names.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown host {host}")
        return answer() if callable(answer) else list(answer)

    def open_tcp(self, address: str, port: int, timeout: float) -> socket.socket:
        self.connected.append(address)
        target = "127.0.0.1" if address == PUBLIC_IP else address
        if not ipaddress.ip_address(target).is_loopback:
            raise AssertionError(f"the fetcher tried to connect to {address}")
        return socket.create_connection((target, port), timeout)


@pytest.fixture
def internet(monkeypatch) -> FakeInternet:
    fake = FakeInternet()
    monkeypatch.setattr(fetch, "resolve_host", fake.resolve)
    monkeypatch.setattr(fetch, "open_tcp", fake.open_tcp)
    return fake
