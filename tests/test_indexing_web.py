"""Web sources served from a local HTTP server on 127.0.0.1: article pages, a feed, and failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from test_indexing_job import records
from test_indexing_sources import ARTICLE_HTML

from indexing.job import run_index

PAGE_2 = """<html><head><title>Port expands</title></head><body><header>Menu Home About</header>
<main><article><h1>Port expands</h1><p>The harbour added two new berths for container ships this week.</p>
<p>Officials expect cargo volume to double by 2030 as trade grows.</p></article></main>
<footer>Subscribe to our newsletter</footer></body></html>"""


def rss(base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Valley Wire</title><link>{base}/</link><description>news</description>
<item><title>Dam opens (feed title)</title><link>{base}/dam</link>
<pubDate>Tue, 05 Mar 2024 09:30:00 GMT</pubDate></item>
<item><title>Port expands</title><link>{base}/port?utm_source=rss</link>
<pubDate>Wed, 06 Mar 2024 10:00:00 GMT</pubDate></item>
<item><title>Gone page</title><link>{base}/gone</link><pubDate>Thu, 07 Mar 2024 08:00:00 GMT</pubDate>
<description>&lt;p&gt;The summary survives when the page is gone.&lt;/p&gt;</description></item>
<item><title>Nothing at all</title><link>{base}/also-gone</link></item>
</channel></rss>"""


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}

    def do_GET(self) -> None:
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.routes = {
        "/dam": (200, "text/html; charset=utf-8", ARTICLE_HTML.encode()),
        "/port?utm_source=rss": (200, "text/html", PAGE_2.encode()),
        "/feed.xml": (200, "application/rss+xml", rss(base).encode()),
        "/broken-feed.xml": (200, "application/rss+xml", b"<?xml version='1.0'?><rss><channel><item><title>x"),
        "/image.html": (200, "text/html", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_article_url(site, make_settings, embedder):
    settings = make_settings(fetch_timeout=5, fetch_allow_private_networks=True)
    summary = run_index(settings, [f"{site}/dam"], embedder=embedder, show_progress_bar=False)
    assert summary.ok and summary.added == 1
    record = records(settings)[f"{site}/dam"]
    assert record["url"] == f"{site}/dam"
    assert "six years of construction" in record["text"] and "cheap watches" not in record["text"]
    assert record["published"].startswith("2024-03-05") and record["source"] == "Valley News"


def test_feed_entries_with_fallback_and_failures(site, make_settings, embedder):
    settings = make_settings(fetch_timeout=5, fetch_allow_private_networks=True)
    unreachable = f"http://127.0.0.1:{closed_port()}/story"
    sources = [f"{site}/feed.xml", f"{site}/broken-feed.xml", f"{site}/image.html", unreachable, f"{site}/missing"]
    summary = run_index(settings, sources, embedder=embedder, show_progress_bar=False)
    recs = records(settings)
    assert set(recs) == {f"{site}/dam", f"{site}/port", f"{site}/gone"}
    dam = recs[f"{site}/dam"]
    assert dam["title"] == "Dam opens (feed title)"  # title, link and date from the feed
    assert dam["published"] == "2024-03-05T09:30:00+00:00" and dam["source"] == "Valley Wire"
    assert recs[f"{site}/port"]["url"] == f"{site}/port?utm_source=rss"
    assert recs[f"{site}/gone"]["text"] == "The summary survives when the page is gone."
    assert recs[f"{site}/gone"]["summary_only"] is True and not recs[f"{site}/dam"]["summary_only"]
    reasons = dict(summary.failures)
    assert set(reasons) == {
        f"{site}/gone",
        f"{site}/also-gone",
        f"{site}/broken-feed.xml",
        f"{site}/image.html",
        unreachable,
        f"{site}/missing",
    }
    assert "404" in reasons[f"{site}/also-gone"] and "404" in reasons[f"{site}/missing"]
    assert "404" in reasons[f"{site}/gone"] and "summary" in reasons[f"{site}/gone"]
    assert "broken feed" in reasons[f"{site}/broken-feed.xml"]
    assert "binary" in reasons[f"{site}/image.html"]
    assert "unreachable" in reasons[unreachable]
    assert (summary.added, summary.failed) == (3, 6)

    # rerun: unchanged by content hash; a feed with a failing entry is never pruned
    again = run_index(settings, sources, prune=True, embedder=embedder, show_progress_bar=False)
    assert (again.unchanged, again.added, again.removed) == (3, 0, 0)
