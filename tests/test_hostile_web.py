"""The hostile web, end to end: one indexing run with the default fetch policy over a local server reached
through public-looking names. Redirect chains into private addresses, drips, a gzip bomb, 50 MB bodies, wrong
content types, a 10,000-entry feed, feeds linking inside the network, non-UTF-8 pages and a page that is one
sentence: each bad source gets a clear one-line reason, nothing outlives its deadline, the rest is indexed."""

from __future__ import annotations

import gzip
import json
import time

from hostile_web import PUBLIC_IP, drip, endless, internet, page, redirect, web  # noqa: F401  (fixtures)
from test_indexing_job import assert_consistent, records

from indexing.job import run_index
from indexing.sentences import MAX_SENTENCE_CHARS

STORY = (
    "<html><head><title>Harbour bridge reopens</title></head><body><nav>Home News</nav><article>"
    "<h1>Harbour bridge reopens</h1><p>The harbour bridge reopened on Tuesday after two years of repairs.</p>"
    "<p>Engineers replaced every steel cable and repainted the towers.</p></article></body></html>"
)
ADMIN = (
    "<html><head><title>Internal admin</title></head><body><article><p>The database root password is hunter2 "
    "and the admin panel lives on port 9000.</p></article></body></html>"
)


def slow_headers(handler) -> None:
    """The status line itself arrives one byte every 0.3 s."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok":
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.3)
    handler.close_connection = True


def feed(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><description>Summary of {title}.</description></item>"
        for title, link in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'.encode()


def test_hostile_web_sources(web, internet, make_settings, embedder):  # noqa: F811
    internet.names.update(
        {name: [PUBLIC_IP] for name in ("news.example", "slow.example", "big.example", "evil.example")}
    )
    internet.names["intranet.example"] = ["192.168.1.10"]
    url = web.url
    one_sentence = " ".join(f"word{i} of the endless council minutes" for i in range(600))
    routes = {
        "/story": page(body=STORY),
        "/hop1": redirect(url("evil.example", "/hop2")),
        "/hop2": redirect(url("evil.example", "/hop3"), 301),
        "/hop3": redirect(f"{web.base}/internal-admin", 307),
        "/internal-admin": page(content_type="application/octet-stream", body=ADMIN),
        "/drip": drip("text/html", total=30, interval=0.7),
        "/slow-headers": slow_headers,
        "/bomb": page(body=gzip.compress(b"\0" * 20_000_000), Content_Encoding="gzip"),
        "/huge": endless("text/html", b"<p>" + b"x" * 65533, 50_000_000, declare=True),
        "/huge-undeclared": endless("text/html", b"<p>" + b"x" * 65533, 50_000_000, declare=False),
        "/image": page(content_type="image/png", body=b"\x89PNG\r\n\x1a\n" + bytes(100)),
        "/big-feed": page(
            content_type="application/rss+xml",
            body=feed([(f"Story {i}", url("news.example", f"/feed-story/{i}")) for i in range(10_000)]),
        ),
        "/evil-feed": page(
            content_type="application/rss+xml",
            body=feed(
                [
                    ("Loopback", f"{web.base}/internal-admin"),
                    ("Metadata", "http://169.254.169.254/latest/meta-data/"),
                    ("Private", "http://10.0.0.1/admin"),
                    ("IPv6 loopback", f"http://[::1]:{web.port}/internal-admin"),
                    ("Intranet", url("intranet.example", "/wiki")),
                    ("Local file", "file:///etc/passwd"),
                    ("Script", "javascript:alert(1)"),
                    ("Fine", url("news.example", "/feed-story/fine")),
                ]
            ),
        ),
        "/cp1252": page(
            content_type="text/html; charset=windows-1252",
            body="<html><head><title>Café</title></head><body><article><p>Le café du marché a rouvert après la "
            "grève, a annoncé la mairie.</p></article></body></html>".encode("cp1252"),
        ),
        "/latin1-meta": page(
            content_type="text/html",
            body='<html><head><meta charset="iso-8859-1"><title>Grève</title></head><body><article><p>La grève des '
            "éboueurs est terminée, selon le syndicat.</p></article></body></html>".encode("latin-1"),
        ),
        "/one-sentence": page(
            body=f"<html><head><title>Minutes</title></head><body><article><p>{one_sentence}</p></article></body></html>"
        ),
        "/doc.json": page(
            content_type="application/json",
            body=json.dumps({"id": "wire-1", "title": "Ferry line", "text": "The ferry line reopened on Friday."}),
        ),
        "/notes.txt": page(content_type="text/plain; charset=utf-8", body="Tram notes\n\nThe tram depot closed."),
    }
    web.routes.update(routes)
    for key in [*map(str, range(10_000)), "fine"]:
        web.routes[f"/feed-story/{key}"] = page(body=STORY.replace("Tuesday", f"Tuesday (story {key})"))

    sources = {
        "story": url("news.example", "/story"),
        "redirect": url("news.example", "/hop1"),
        "drip": url("slow.example", "/drip"),
        "slow-headers": url("slow.example", "/slow-headers"),
        "bomb": url("big.example", "/bomb"),
        "huge": url("big.example", "/huge"),
        "huge-undeclared": url("big.example", "/huge-undeclared"),
        "octet": url("news.example", "/internal-admin"),
        "image": url("news.example", "/image"),
        "big-feed": url("news.example", "/big-feed"),
        "evil-feed": url("news.example", "/evil-feed"),
        "cp1252": url("news.example", "/cp1252"),
        "latin1": url("news.example", "/latin1-meta"),
        "one-sentence": url("news.example", "/one-sentence"),
        "json": url("news.example", "/doc.json"),
        "text": url("news.example", "/notes.txt"),
        "direct-loopback": f"{web.base}/story",
    }
    settings = make_settings(fetch_timeout=2.0, feed_max_entries=10)
    started = time.monotonic()
    summary = run_index(settings, list(sources.values()), embedder=embedder, show_progress_bar=False)
    elapsed = time.monotonic() - started

    reasons = dict(summary.failures)
    assert all("\n" not in reason for reason in reasons.values())
    expected = {
        sources["redirect"]: "refused: 127.0.0.1 is a loopback address",
        sources["drip"]: "timed out after 2 s (FETCH_TIMEOUT)",
        sources["slow-headers"]: "timed out after 2 s (FETCH_TIMEOUT)",
        sources["bomb"]: "response too large (> MAX_FILE_BYTES 5,000,000 bytes) after decompression",
        sources["huge"]: "response too large (50,000,000 bytes > MAX_FILE_BYTES 5,000,000)",
        sources["huge-undeclared"]: "response too large (> MAX_FILE_BYTES 5,000,000 bytes)",
        sources["octet"]: "unsupported content type application/octet-stream",
        sources["image"]: "unsupported content type image/png",
        sources["direct-loopback"]: "refused: 127.0.0.1 is a loopback address",
        f"{web.base}/internal-admin": "refused: 127.0.0.1 is a loopback address",
        "http://169.254.169.254/latest/meta-data/": "refused: 169.254.169.254 is a link-local address",
        "http://10.0.0.1/admin": "refused: 10.0.0.1 is a private address",
        f"http://[::1]:{web.port}/internal-admin": "refused: ::1 is a loopback address",
        url("intranet.example", "/wiki"): "refused: intranet.example resolves to 192.168.1.10, a private address",
        "file://etc/passwd": "refused: unsupported URL 'file://etc/passwd' (only http and https)",  # as feedparser has it
        "javascript:alert(1)": "refused: unsupported URL 'javascript:alert(1)' (only http and https)",
    }
    assert set(reasons) == set(expected), sorted(reasons.items())
    for origin, start in expected.items():
        assert reasons[origin].startswith(start), (origin, reasons[origin])
    assert summary.notes == [(sources["big-feed"], "feed has 10,000 entries; read the first 10 (FEED_MAX_ENTRIES)")]

    recs = records(settings)
    by_url = {r["url"]: r for r in recs.values()}
    assert "reopened on Tuesday" in by_url[sources["story"]]["text"]
    assert sum(1 for r in recs.values() if r["origin"] == sources["big-feed"]) == 10
    assert {r["url"] for r in recs.values() if r["origin"] == sources["evil-feed"]} == {
        url("news.example", "/feed-story/fine")
    }
    assert "Le café du marché a rouvert après la grève" in by_url[sources["cp1252"]]["text"]
    assert "La grève des éboueurs est terminée" in by_url[sources["latin1"]]["text"]
    minutes = by_url[sources["one-sentence"]]
    assert minutes["text"] == one_sentence and minutes["n_sentences"] >= len(one_sentence) // MAX_SENTENCE_CHARS
    assert max(end - start for start, end in minutes["sentences"]) <= MAX_SENTENCE_CHARS
    assert recs["wire-1"]["text"] == "The ferry line reopened on Friday."
    assert by_url[sources["text"]]["title"] == "Tram notes"
    assert not any("hunter2" in r["text"] for r in recs.values())
    assert summary.added == len(recs) == 1 + 10 + 1 + 2 + 1 + 1 + 1
    assert_consistent(settings)

    # nothing ran past its deadline: two drips of 14 s and 19 s, each cut at 2 s; feeds parsed, 13 articles embedded
    assert elapsed < 60, summary.stage_seconds
    assert set(internet.connected) == {PUBLIC_IP}  # not one connection to 127.0.0.1, 10.0.0.1, 169.254.169.254...
