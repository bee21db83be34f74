"""The fetch policy: only public addresses (checked at every hop, connected to as checked), a deadline for the
whole fetch, bounded bodies, accepted content types. Served from 127.0.0.1 through a fake internet."""

from __future__ import annotations

import gzip
import re
import time
from pathlib import Path

import pytest
from hostile_web import (  # noqa: F401  (web is a fixture)
    PUBLIC_IP,
    drip,
    endless,
    internet,
    page,
    redirect,
    web,
)

from indexing.decoding import SourceError
from indexing.fetch import Fetcher, address_problem

ARTICLE = (
    "<html><head><title>Harbour report</title></head><body><article><p>The harbour bridge reopened on "
    "Tuesday after two years of repairs.</p><p>Engineers replaced every steel cable.</p></article></body></html>"
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
        "ff02::1",
        "192.0.2.10",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert address_problem(address)


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_problem(address) is None


@pytest.fixture
def fetcher(make_settings):
    made = []

    def factory(**overrides):
        made.append(Fetcher(make_settings(**{"fetch_timeout": 5, **overrides})))
        return made[-1]

    yield factory
    for item in made:
        item.close()


def test_public_name_resolving_to_loopback_is_refused(web, internet, fetcher):  # noqa: F811
    web.routes["/admin"] = page(body=ARTICLE)
    internet.names["news.example"] = [PUBLIC_IP]
    internet.names["sneaky.example"] = ["127.0.0.1"]
    assert b"harbour bridge" in fetcher().fetch(web.url("news.example", "/admin")).body
    with pytest.raises(SourceError, match=r"refused: sneaky\.example resolves to 127\.0\.0\.1, a loopback address"):
        fetcher().fetch(web.url("sneaky.example", "/admin"))
    with pytest.raises(SourceError, match="FETCH_ALLOW_PRIVATE_NETWORKS"):
        fetcher().fetch(f"{web.base}/admin")
    assert internet.connected == [PUBLIC_IP]  # the refused ones were never connected to
    # decimal, octal-ish and IPv6 spellings of private addresses are checked after resolution too
    for url in ["http://2130706433/", "http://0x7f.1/", "http://[::ffff:7f00:1]/", "http://[::1]/", "http://0/"]:
        with pytest.raises(SourceError, match="refused"):
            fetcher().fetch(url)
    # FETCH_ALLOW_PRIVATE_NETWORKS=true lifts the policy (an intranet)
    assert b"harbour" in fetcher(fetch_allow_private_networks=True).fetch(web.url("sneaky.example", "/admin")).body


def test_redirect_into_the_private_network_is_refused_at_that_hop(web, internet, fetcher):  # noqa: F811
    internet.names["news.example"] = [PUBLIC_IP]
    web.routes["/story"] = page(body=ARTICLE)
    web.routes["/r1"] = redirect(web.url("news.example", "/r2"), 301)
    web.routes["/r2"] = redirect("/story")  # relative, same public host: followed
    web.routes["/evil1"] = redirect(web.url("news.example", "/evil2"))
    web.routes["/evil2"] = redirect(f"{web.base}/story", 307)
    web.routes["/loop"] = redirect("/loop")
    web.routes["/file"] = redirect("file:///etc/passwd")
    got = fetcher().fetch(web.url("news.example", "/r1"))
    assert got.url == web.url("news.example", "/story") and b"harbour bridge" in got.body
    with pytest.raises(SourceError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        fetcher().fetch(web.url("news.example", "/evil1"))
    with pytest.raises(SourceError, match="too many redirects"):
        fetcher().fetch(web.url("news.example", "/loop"))
    with pytest.raises(SourceError, match="only http and https"):
        fetcher().fetch(web.url("news.example", "/file"))
    assert set(internet.connected) == {PUBLIC_IP}


def test_host_is_resolved_once_and_the_checked_address_is_used(web, internet, fetcher):  # noqa: F811
    """DNS rebinding: the answer changes to 127.0.0.1 after the check; the connection still goes to the
    address that was checked, and a name whose answers mix public and private addresses is refused."""
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    internet.names["rebind.example"] = lambda: next(answers)
    internet.names["mixed.example"] = [PUBLIC_IP, "10.0.0.7"]
    web.routes["/story"] = page(body=ARTICLE)
    assert b"harbour" in fetcher().fetch(web.url("rebind.example", "/story")).body
    assert internet.resolved.count("rebind.example") == 1 and internet.connected == [PUBLIC_IP]
    with pytest.raises(SourceError, match=r"10\.0\.0\.7, a private address"):
        fetcher().fetch(web.url("mixed.example", "/story"))


def test_deadline_bounds_the_whole_fetch(web, internet, fetcher):  # noqa: F811
    """A server dripping a byte every 0.7 s would hold a per-read timeout forever; FETCH_TIMEOUT=1 ends
    the fetch after about one second."""
    internet.names["slow.example"] = [PUBLIC_IP]
    web.routes["/drip"] = drip("text/html", total=20, interval=0.7)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"timed out after 1 s \(FETCH_TIMEOUT\)"):
        fetcher(fetch_timeout=1.0).fetch(web.url("slow.example", "/drip"))
    assert time.monotonic() - started < 3.0  # 14 s of dripping without the deadline


def test_bodies_are_capped_after_decompression_and_types_checked(web, internet, fetcher):  # noqa: F811
    internet.names["big.example"] = [PUBLIC_IP]
    bomb = gzip.compress(b"\0" * 20_000_000, 9)  # 20 KB that inflate to 20 MB
    web.routes["/bomb"] = page(content_type="text/html", body=bomb, Content_Encoding="gzip")
    web.routes["/declared"] = endless("text/html", b"x" * 65536, 50_000_000, declare=True)
    web.routes["/undeclared"] = endless("text/html", b"x" * 65536, 50_000_000, declare=False)
    web.routes["/small-gzip"] = page(
        content_type="text/html", body=gzip.compress(ARTICLE.encode()), Content_Encoding="gzip"
    )
    web.routes["/binary"] = page(content_type="application/octet-stream", body=ARTICLE)
    web.routes["/png"] = page(content_type="image/png", body=b"\x89PNG\r\n\x1a\n")
    web.routes["/none"] = page(content_type=None, body=ARTICLE)
    web.routes["/br"] = page(content_type="text/html", body=b"xx", Content_Encoding="br")
    get = fetcher(max_file_bytes=1_000_000).fetch
    with pytest.raises(
        SourceError, match=r"response too large \(> MAX_FILE_BYTES 1,000,000 bytes\) after decompression"
    ):
        get(web.url("big.example", "/bomb"))
    with pytest.raises(SourceError, match=r"response too large \(50,000,000 bytes > MAX_FILE_BYTES"):
        get(web.url("big.example", "/declared"))
    with pytest.raises(SourceError, match=r"response too large \(> MAX_FILE_BYTES 1,000,000 bytes\)$"):
        get(web.url("big.example", "/undeclared"))
    assert get(web.url("big.example", "/small-gzip")).body == ARTICLE.encode()
    for path, shown in [("/binary", "application/octet-stream"), ("/png", "image/png"), ("/none", "(none)")]:
        with pytest.raises(SourceError, match=re.escape(f"unsupported content type {shown} (accepted:")):
            get(web.url("big.example", path))
    with pytest.raises(SourceError, match="unsupported content encoding 'br'"):
        get(web.url("big.example", "/br"))


TLS = Path(__file__).resolve().parent / "fixtures" / "tls"  # a self-signed certificate for news.example (test only)


def test_https_connects_to_the_checked_address_and_verifies_the_host_name(internet, fetcher, monkeypatch):  # noqa: F811
    """The connection goes to the address that was checked while TLS still checks the URL's host: the
    certificate for news.example is accepted for news.example and refused for another name at the same address."""
    import http.server
    import ssl
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ARTICLE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "news.example.pem", TLS / "news.example.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "news.example.pem"))  # trust the test certificate
    internet.names["news.example"] = internet.names["other.example"] = [PUBLIC_IP]
    try:
        assert b"harbour bridge" in fetcher().fetch(f"https://news.example:{port}/story").body
        with pytest.raises(SourceError, match=r"not valid for 'other\.example'"):
            fetcher().fetch(f"https://other.example:{port}/story")
        assert internet.connected == [PUBLIC_IP, PUBLIC_IP]
    finally:
        server.shutdown()
        server.server_close()
