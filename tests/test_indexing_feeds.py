"""Feeds over time, served from 127.0.0.1: entries that roll off stay, a removed feed's entries go, a failing
page keeps its last good version, summaries only when no page was ever read, a cap per run, clean summaries."""

from __future__ import annotations

import pytest
from hostile_web import page, web  # noqa: F401  (web is a fixture)
from test_indexing_job import assert_consistent, records, write_articles

from indexing.job import run_index


def story(key: str) -> str:
    sentences = " ".join(
        f"Paragraph sentence {i} of story {key} gives more details about the harbour works." for i in range(6)
    )
    return (
        f"<html><head><title>Story {key}</title></head><body><article><p>Story {key} is a long report about "
        f"the harbour.</p><p>{sentences}</p></article></body></html>"
    )


def rss(items: list[tuple[str, str | None, str]], title: str = "Harbour Wire") -> bytes:
    """items: (title, link or None, description as it appears in the XML); dated by the title's last character."""
    guid = '<guid isPermaLink="false">{}</guid>'
    body = "".join(
        f"<item><title>{t}</title>{f'<link>{link}</link>' if link else guid.format(t)}"
        f"<description>{description}</description>"
        f"<pubDate>{1 + ord(t[-1]) % 28:02d} Sep 2024 09:00:00 GMT</pubDate></item>"
        for t, link, description in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{body}</channel></rss>'.encode()


def serve_feed(web, path: str, keys: str, title: str = "Harbour Wire") -> str:  # noqa: F811
    web.routes[path] = page(
        content_type="application/rss+xml",
        body=rss([(f"Story {k}", f"{web.base}/story/{k}", f"Short summary of story {k}.") for k in keys], title),
    )
    return f"{web.base}{path}"


@pytest.fixture
def settings(make_settings):
    return make_settings(fetch_timeout=5, fetch_allow_private_networks=True)


def ids(settings) -> set[str]:
    return {article_id.rsplit("/", 1)[-1] for article_id in records(settings)}


def test_rolled_off_entries_stay_and_a_removed_feed_goes(web, settings, embedder):  # noqa: F811
    for key in "abcdz":
        web.routes[f"/story/{key}"] = page(body=story(key))
    first = serve_feed(web, "/feeds/one.xml", "ab")
    second = serve_feed(web, "/feeds/two.xml", "z", "Other Wire")
    summary = run_index(settings, [first, second], prune=True, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.failed) == (3, 0)

    serve_feed(web, "/feeds/one.xml", "bd")  # the feed moved on: 'a' rolled off, 'd' is new
    summary = run_index(settings, [first, second], prune=True, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.unchanged, summary.removed) == (1, 2, 0)
    assert ids(settings) == {"a", "b", "d", "z"}

    # a run over the articles folder alone leaves web articles alone
    write_articles(settings.articles_dir, {"local.txt": "Local\n\nA local note about the harbour."})
    summary = run_index(settings, prune=True, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.removed) == (1, 0)

    # the first feed is no longer among the sources: its entries go, the other feed's stay
    summary = run_index(settings, [second], prune=True, embedder=embedder, show_progress_bar=False)
    assert summary.removed == 3 and ids(settings) == {"z", "local"}
    assert_consistent(settings)


def test_failing_page_keeps_its_last_good_version(web, settings, embedder):  # noqa: F811
    web.routes["/story/p"] = page(body=story("p"))
    web.routes["/story/q"] = page(503, "text/plain", b"down")
    feed = serve_feed(web, "/feeds/failing.xml", "pq")

    summary = run_index(settings, [feed], prune=True, embedder=embedder, show_progress_bar=False)
    recs = {key.rsplit("/", 1)[-1]: value for key, value in records(settings).items()}
    assert summary.added == 2
    assert recs["q"]["summary_only"] is True and recs["q"]["text"] == "Short summary of story q."
    assert not recs["p"]["summary_only"] and "long report" in recs["p"]["text"]
    assert [reason for origin, reason in summary.failures if origin.endswith("/q")] == [
        "HTTP 503 Service Unavailable; indexed the feed's summary until the page can be read"
    ]

    web.routes["/story/p"] = page(503, "text/plain", b"down")  # p's page fails once: its text stays
    web.routes["/story/q"] = page(body=story("q"))  # q's page is back: the summary is replaced
    summary = run_index(settings, [feed], prune=True, embedder=embedder, show_progress_bar=False)
    recs = {key.rsplit("/", 1)[-1]: value for key, value in records(settings).items()}
    assert (summary.updated, summary.removed, summary.failed) == (1, 0, 1)
    assert summary.failures[0][1] == "HTTP 503 Service Unavailable; kept the version indexed earlier"
    assert "long report" in recs["p"]["text"] and not recs["p"]["summary_only"]
    assert "long report" in recs["q"]["text"] and not recs["q"]["summary_only"]
    assert_consistent(settings)


def test_linkless_feed_capped_sorted_and_summaries_unescaped(web, settings, embedder):  # noqa: F811
    items = [
        (f"Results {n}", None, f"AT&amp;amp;T shares rose {n}% after the results, analysts said.") for n in range(8)
    ]
    web.routes["/feeds/linkless.xml"] = page(content_type="application/rss+xml; charset=utf-8", body=rss(items))
    settings = settings.model_copy(update={"feed_max_entries": 3})
    summary = run_index(settings, [f"{web.base}/feeds/linkless.xml"], embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.failed) == (3, 0)  # a valid feed without links is not "broken"
    assert summary.notes == [
        (f"{web.base}/feeds/linkless.xml", "feed has 8 entries; read the first 3 (FEED_MAX_ENTRIES)")
    ]
    recs = records(settings).values()
    assert sorted(r["text"] for r in recs) == [
        f"AT&T shares rose {n}% after the results, analysts said."
        for n in (5, 6, 7)  # the newest three
    ]
    assert all(r["summary_only"] for r in recs)
