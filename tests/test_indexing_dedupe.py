"""The same text from several sources is indexed once and lists every source; it stays while any source has it."""

from __future__ import annotations

from hostile_web import page, web  # noqa: F401  (web is a fixture)
from test_indexing_feeds import rss, story
from test_indexing_job import assert_consistent, records, write_articles

from indexing.job import run_index

NOTE = "Harbour notes\n\nThe harbour bridge reopened on Tuesday. Engineers replaced every steel cable.\n"


def test_an_upload_and_its_url_are_one_article(web, make_settings, embedder):  # noqa: F811
    settings = make_settings(fetch_timeout=5, fetch_allow_private_networks=True)
    write_articles(settings.articles_dir, {"harbour notes.txt": NOTE})
    web.routes["/notes.txt"] = page(content_type="text/plain; charset=utf-8", body=NOTE)
    web.routes["/mirror.txt"] = page(content_type="text/plain; charset=utf-8", body=NOTE)
    url, mirror = f"{web.base}/notes.txt", f"{web.base}/mirror.txt"
    assert run_index(settings, embedder=embedder, show_progress_bar=False).added == 1

    summary = run_index(settings, [url], embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.unchanged, summary.duplicates, summary.failed) == (0, 0, 1, 0)
    assert summary.format().startswith("added 0, updated 0, unchanged 0, removed 0, failed 0, 1 same text as another")
    assert summary.notes == [(url, "same text as 'harbour notes': indexed once, listed as another source")]
    recs = records(settings)
    assert list(recs) == ["harbour notes"]
    assert recs["harbour notes"]["also_at"] == [{"id": url, "url": url, "source": None, "origin": url}]
    run_index(settings, [mirror], embedder=embedder, show_progress_bar=False)  # a third source is added to the list
    assert [h["id"] for h in records(settings)["harbour notes"]["also_at"]] == [url, mirror]

    # the uploaded file goes: the URLs still have the text, so the article stays
    (settings.articles_dir / "harbour notes.txt").unlink()
    summary = run_index(settings, prune=True, embedder=embedder, show_progress_bar=False)
    assert summary.removed == 0 and list(records(settings)) == ["harbour notes"]
    # the file is still gone and the first URL leaves this run's list of web sources: the mirror, read
    # this run, now holds the text (indexed under its own id, the old record goes)
    summary = run_index(
        settings, [str(settings.articles_dir), mirror], prune=True, embedder=embedder, show_progress_bar=False
    )
    assert (summary.added, summary.removed) == (1, 1)
    assert list(records(settings)) == [mirror] and not records(settings)[mirror]["also_at"]
    # and when no source has it any more, it goes
    summary = run_index(
        settings,
        [str(settings.articles_dir), f"{web.base}/other"],
        prune=True,
        embedder=embedder,
        show_progress_bar=False,
    )
    assert summary.removed == 1 and records(settings) == {}
    assert_consistent(settings)


def test_two_feeds_syndicating_one_story(web, make_settings, embedder):  # noqa: F811
    settings = make_settings(fetch_timeout=5, fetch_allow_private_networks=True)
    web.routes["/wire-a/s"] = page(body=story("s"))
    web.routes["/wire-b/s"] = page(body=story("s"))
    web.routes["/wire-a/t"] = page(body=story("t"))
    web.routes["/a.xml"] = page(
        content_type="application/rss+xml",
        body=rss([("Story s", f"{web.base}/wire-a/s", "s"), ("Story t", f"{web.base}/wire-a/t", "t")], "Wire A"),
    )
    web.routes["/b.xml"] = page(
        content_type="application/rss+xml", body=rss([("Story s", f"{web.base}/wire-b/s", "s")], "Wire B")
    )
    feed_a, feed_b = f"{web.base}/a.xml", f"{web.base}/b.xml"
    summary = run_index(settings, [feed_a, feed_b], prune=True, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.unchanged, summary.duplicates) == (2, 0, 1)
    recs = records(settings)
    assert set(recs) == {f"{web.base}/wire-a/s", f"{web.base}/wire-a/t"}
    assert recs[f"{web.base}/wire-a/s"]["also_at"] == [
        {"id": f"{web.base}/wire-b/s", "url": f"{web.base}/wire-b/s", "source": "Wire B", "origin": feed_b}
    ]
    again = run_index(settings, [feed_a, feed_b], prune=True, embedder=embedder, show_progress_bar=False)
    assert (again.unchanged, again.duplicates) == (2, 1)

    # wire A leaves the sources: its own story goes, the shared one now comes from wire B
    summary = run_index(settings, [feed_b], prune=True, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.removed) == (1, 2)
    recs = records(settings)
    assert list(recs) == [f"{web.base}/wire-b/s"] and recs[f"{web.base}/wire-b/s"]["source"] == "Wire B"
    assert not recs[f"{web.base}/wire-b/s"]["also_at"]
    assert_consistent(settings)
