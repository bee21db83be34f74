"""Fetching web sources safely: public addresses only, a deadline per fetch, bounded bodies, known types.

URLs come from admins and, through feeds, from feed authors, so every fetch assumes a hostile web:
- each connection resolves its host once, refuses the connection when any address is not public
  (loopback, private, link-local, CGNAT, multicast, reserved, unspecified, IPv6 unique-local and
  IPv4-mapped, ...; `FETCH_ALLOW_PRIVATE_NETWORKS=true` lifts this for intranets) and connects to
  the very address it checked, so a DNS answer cannot change between check and use (rebinding).
  TLS still verifies the host name (SNI and Host header are the URL's host);
- redirects are followed here, at most `MAX_REDIRECTS`, each hop checked like the first;
- `FETCH_TIMEOUT` bounds the whole fetch (resolving, connecting, every read of every hop): each
  socket operation gets only the time that is left;
- only HTML, XHTML, XML/RSS/Atom, JSON and plain text are accepted, checked before the body is read;
- the body is capped at `MAX_FILE_BYTES`, after decompression too (gzip and deflate are decoded
  here in bounded steps, so a gzip bomb stops at the cap).

`resolve_host` and `open_tcp` are the only two places that touch the network; tests replace them
with a fake internet on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import httpcore
import httpx
from httpcore._backends.sync import SyncStream  # httpcore's socket stream; its backend API takes no resolver

from indexing.decoding import SourceError
from indexing.settings import Settings

MAX_REDIRECTS = 5
READ_CHUNK = 65_536
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,application/json;q=0.8,text/plain;q=0.7"
)
# Media type -> kind of document. XML that is not a feed is read as a page (XHTML served as XML).
_KINDS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/rdf+xml": "feed",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
    "text/plain": "text",
}
ACCEPTED_TYPES = "HTML, XHTML, RSS/Atom/XML, JSON or plain text"
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_REDIRECTS = {301, 302, 303, 307, 308}


class BlockedAddressError(SourceError):
    """A URL whose host resolves to an address the fetch policy refuses."""


@dataclass
class Fetched:
    """A successful response: the decoded body and what it is."""

    url: str  # after redirects
    body: bytes
    content_type: str  # the header as sent
    media_type: str  # e.g. "text/html"
    kind: str  # html | feed | xml | json | text

    @property
    def charset(self) -> str | None:
        match = _CHARSET.search(self.content_type)
        return match.group(1) if match else None


# ------------------------------------------------------------------ the two network seams


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses of `host`, in the order the system resolver gives them."""
    addresses: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def open_tcp(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an address that was already checked."""
    return socket.create_connection((address, port), timeout)


# ------------------------------------------------------------------ address policy


def address_problem(address: str) -> str | None:
    """Why a fetch must not connect to `address` (None for a public unicast address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and address_problem(str(embedded)):
            return f"an IPv6 address embedding {embedded}"
    checks = [
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.version == 4 and ip in ipaddress.ip_network("100.64.0.0/10"), "a shared (CGNAT) address"),
        (ip.version == 6 and ip in ipaddress.ip_network("fc00::/7"), "a unique-local IPv6 address"),
        (ip.version == 6 and ip.is_site_local, "a site-local IPv6 address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ]
    return next((reason for hit, reason in checks if hit), None)


# ------------------------------------------------------------------ deadline-aware network backend

_deadline = threading.local()


def _remaining() -> float | None:
    """Seconds left for the fetch running in this thread (None outside a fetch)."""
    deadline = getattr(_deadline, "at", None)
    return None if deadline is None else deadline - time.monotonic()


def _clip(timeout: float | None, error: type[Exception]) -> float | None:
    left = _remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error("fetch deadline reached")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write gets at most the time left for the current fetch."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves once, checks every address, connects to the checked one, within the deadline."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout=None, local_address=None, socket_options=None):
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        addresses = _resolve_within(host, port, timeout)
        if not self.allow_private:
            for address in addresses:
                problem = address_problem(address)
                if problem:
                    where = f"{host} is" if host == address else f"{host} resolves to {address},"
                    raise BlockedAddressError(
                        f"refused: {where} {problem} (FETCH_ALLOW_PRIVATE_NETWORKS=true allows it)"
                    )
        failure: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for address in addresses:  # every one of them was checked above
            try:
                sock = open_tcp(address, port, _clip(timeout, httpcore.ConnectTimeout))
            except TimeoutError:
                failure = httpcore.ConnectTimeout("timed out connecting")
                continue
            except OSError as error:
                failure = httpcore.ConnectError(str(error))
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _DeadlineStream(SyncStream(sock))
        raise failure


def _resolve_within(host: str, port: int, timeout: float | None) -> list[str]:
    """`resolve_host` bounded by `timeout` (the system resolver cannot be interrupted, so it runs aside)."""
    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["addresses"] = resolve_host(host, port)
        except Exception as error:  # reported to the waiting thread
            result["error"] = error

    worker = threading.Thread(target=work, name="resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"timed out resolving {host}")
    if "error" in result:
        raise httpcore.ConnectError(f"cannot resolve {host}: {result['error']}")
    addresses = result.get("addresses") or []
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return list(addresses)  # type: ignore[arg-type]


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend (httpx does not take a backend as an argument)."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=backend)


# ------------------------------------------------------------------ the fetcher


class Fetcher:
    """Fetches URLs under the policy above; one per run, usable from several threads."""

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.max_file_bytes
        self.client = httpx.Client(
            transport=_GuardedTransport(_GuardedBackend(settings.fetch_allow_private_networks)),
            timeout=settings.fetch_timeout,
            follow_redirects=False,
            trust_env=False,  # a proxy would resolve names itself, beyond the address checks
            headers={"User-Agent": settings.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, kinds: frozenset[str] | None = None) -> Fetched:
        """The body of `url` after redirects; SourceError with a one-line reason for any failure.

        `kinds` narrows the accepted kinds of document (e.g. pages only for feed entries).
        """
        _deadline.at = time.monotonic() + self.timeout
        try:
            return self._fetch(url, kinds)
        except httpx.TimeoutException:
            raise SourceError(f"timed out after {self.timeout:g} s (FETCH_TIMEOUT)") from None
        except httpx.InvalidURL as error:  # e.g. a malformed Location header
            raise SourceError(f"invalid URL: {error}") from None
        except httpx.HTTPError as error:
            raise SourceError(f"unreachable: {error.__class__.__name__}: {error}".rstrip(": ")) from None
        finally:
            _deadline.at = None

    def _fetch(self, url: str, kinds: frozenset[str] | None) -> Fetched:
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url)
            with self.client.stream("GET", url) as response:
                if response.status_code in _REDIRECTS and response.headers.get("location"):
                    url = str(response.url.join(response.headers["location"]))
                    continue
                if response.status_code >= 300:
                    raise SourceError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
                content_type = response.headers.get("content-type", "")
                media_type = content_type.split(";")[0].strip().lower()
                kind = _KINDS.get(media_type)
                if kind is None and media_type.endswith("+xml"):
                    kind = "xml"
                elif kind is None and media_type.endswith("+json"):
                    kind = "json"
                if kind is None or (kinds is not None and kind not in kinds):
                    raise SourceError(f"unsupported content type {media_type or '(none)'} (accepted: {ACCEPTED_TYPES})")
                body = self._read_body(response)
                return Fetched(str(response.url), body, content_type, media_type, kind)
        raise SourceError(f"too many redirects (more than {MAX_REDIRECTS})")

    def _read_body(self, response: httpx.Response) -> bytes:
        """The decoded body, refusing it once it grows past MAX_FILE_BYTES (compressed or not)."""
        limit = self.max_bytes
        too_large = f"response too large (> MAX_FILE_BYTES {limit:,} bytes)"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SourceError(f"response too large ({int(declared):,} bytes > MAX_FILE_BYTES {limit:,})")
        decoder = _decoder(response.headers.get("content-encoding", ""))
        body = bytearray()
        for raw in response.iter_raw(READ_CHUNK):  # each read gets only the time left (_DeadlineStream)
            body += decoder(raw, limit + 1 - len(body))
            if len(body) > limit:
                raise SourceError(too_large + ("" if decoder is _identity else " after decompression"))
        return bytes(body)


def check_url(url: str) -> None:
    """Only http(s) URLs with a host are fetched (a feed may link to file:, ftp:, javascript:...)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise SourceError(f"invalid URL: {error}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SourceError(f"refused: unsupported URL {url[:80]!r} (only http and https)")


def _identity(data: bytes, _room: int) -> bytes:
    return data


def _decoder(encoding: str) -> Callable[[bytes, int], bytes]:
    """A function decompressing one raw chunk into at most `room` more bytes (beyond that is an error)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return _identity
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    else:
        raise SourceError(f"unsupported content encoding {encoding!r}")

    def decode(data: bytes, room: int) -> bytes:
        # At most `room` bytes come out; a full `room` means the body is over the cap and the caller stops.
        try:
            return inflater.decompress(data, max(room, 1))
        except zlib.error as error:
            raise SourceError(f"broken {encoding} response: {error}") from None

    return decode
