"""The indexing job end to end: real model, real embedded Qdrant in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_ARTICLES

import indexing.job as job
import indexing.plan as plan_module
import indexing.writer as writer
from indexing.__main__ import main as cli_main
from indexing.job import run_index
from indexing.store import ModelMismatchError, SearchFilter, Store, StoredPoint, StoreLockedError

ARTICLES = {
    "alpha.txt": "Alpha river\n\nThe Alpha river floods every spring. Farmers plant rice after the water recedes. "
    "The delta holds many birds. Fishermen sell carp at dawn. The dam was built in 1961.",
    "beta.txt": "Beta mountain\n\nBeta mountain is 3,200 metres high. Climbers start from the northern village. "
    "Snow covers the top all year.",
    "gamma.md": "# Gamma city\n\nGamma city has a **new** metro line. It opened in May with twelve stations.",
}


def write_articles(folder: Path, files: dict[str, str | bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def chunks_of(store: Store, article_id: str) -> list[StoredPoint]:
    return list(store.chunks(SearchFilter(article_id=article_id)))


def records(settings) -> dict[str, dict]:
    store = Store.open(settings)
    try:
        return {r.payload["article_id"]: r.payload for r in store.article_records(with_text=True)}
    finally:
        store.close()


def assert_consistent(settings) -> None:
    """Every article's chunks are exactly those of its current record: none stale, none missing."""
    store = Store.open(settings)
    try:
        recs = {r.payload["article_id"]: r.payload for r in store.article_records()}
        all_chunks = list(store.chunks())
        assert {c.payload["article_id"] for c in all_chunks} == set(recs)
        for article_id, payload in recs.items():
            chunks = chunks_of(store, article_id)
            assert len(chunks) == payload["n_chunks"]
            assert {c.payload["content_hash"] for c in chunks} == {payload["content_hash"]}
    finally:
        store.close()


def test_sample_folder_sentence_spans_in_store(make_settings, embedder):
    settings = make_settings(articles_dir=SAMPLE_ARTICLES)
    summary = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert summary.ok and summary.added == 1 and summary.chunks_written > 0
    record = records(settings)["centcom-chief-visits-pakistan"]
    text = record["text"]
    assert "Also Read" not in text and "syndicated" not in text
    # where "Also Read" stood between two lines a blank line stays (the plan cleans, the job must not clean again)
    assert text.count("\n\n") == 1 and "Afghanistan.\n\nThe new Centcom chief" in text
    store = Store.open(settings)
    try:
        for chunk in chunks_of(store, "centcom-chief-visits-pakistan"):
            assert text[chunk.payload["start"] : chunk.payload["end"]] == chunk.payload["text"]
            for start, end in chunk.payload["sentences"]:
                assert text[start:end] in chunk.payload["text"]
    finally:
        store.close()


def test_incremental_add_unchanged_update_dry_run_prune(make_settings, embedder, monkeypatch):
    settings = make_settings()
    write_articles(settings.articles_dir, ARTICLES)
    first = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (first.added, first.updated, first.unchanged, first.failed) == (3, 0, 0, 0)
    assert first.format().startswith("added 3, updated 0, unchanged 0, removed 0, failed 0;")
    assert set(records(settings)) == {"alpha", "beta", "gamma"}
    assert records(settings)["gamma"]["title"] == "Gamma city"

    # rerun: nothing is parsed again (file fingerprints match), nothing written
    monkeypatch.setattr(plan_module, "read_file", lambda *a: pytest.fail("unchanged file was parsed"))
    again = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (again.added, again.updated, again.unchanged, again.chunks_written) == (0, 0, 3, 0)
    monkeypatch.undo()

    # same content, new bytes (trailing spaces): unchanged by hash, fingerprint refreshed
    (settings.articles_dir / "beta.txt").write_text(ARTICLES["beta.txt"] + "   \n\n", encoding="utf-8")
    touched = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (touched.unchanged, touched.chunks_written) == (3, 0)

    # update to a shorter text: replaced, no stale chunk left
    before = records(settings)["alpha"]["n_chunks"]
    (settings.articles_dir / "alpha.txt").write_text("Alpha river\n\nThe Alpha river dried up.", encoding="utf-8")
    updated = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (updated.updated, updated.unchanged) == (1, 2)
    assert records(settings)["alpha"]["n_chunks"] < before
    assert_consistent(settings)

    # another source outside ARTICLES_DIR, then prune only ARTICLES_DIR
    other = settings.articles_dir.parent / "other"
    write_articles(other, {"delta.txt": "Delta port\n\nShips dock at Delta port."})
    assert run_index(settings, [str(other)], embedder=embedder, show_progress_bar=False).added == 1
    (settings.articles_dir / "gamma.md").unlink()

    dry = run_index(settings, prune=True, dry_run=True, embedder=embedder, show_progress_bar=False)
    assert dry.dry_run and dry.removed == 1 and dry.changes == [("removed", "gamma")]
    assert dry.format().startswith("dry run")
    assert "gamma" in records(settings)

    pruned = run_index(settings, prune=True, embedder=embedder, show_progress_bar=False)
    assert (pruned.removed, pruned.unchanged) == (1, 2)
    assert set(records(settings)) == {"alpha", "beta", "delta"}
    assert_consistent(settings)


def test_bad_inputs_are_reported_and_skipped(make_settings, embedder, monkeypatch, capsys):
    settings = make_settings(max_file_bytes=3000)
    good = "Good news\n\nThe bridge reopened on Monday. Traffic is flowing again."
    write_articles(
        settings.articles_dir,
        {
            "good.txt": good,
            "kept.txt": "Kept story\n\nThis story was fine when first indexed.",
            "binary.txt": b"\x00\x01\x02\x89PNG garbage\x00" * 20,
            "empty.txt": "  \n\n",
            "big.txt": "Big\n\n" + "Too long a sentence. " * 400,
            "latin.txt": "Caf\xe9 news\n\nLe caf\xe9 a r\xe9ouvert apr\xe8s la gr\xe8ve.".encode("cp1252"),
            "broken.html": "<html><body><div><script>var x;</script>",
            "feed.jsonl": '{"title": "J1", "text": "Jay one text."}\n{broken\n',
            "scan.pdf": b"%PDF-1.4",
            "only-boilerplate.txt": "Title here\n\nAlso Read\nAdvertisement\n",
        },
    )
    run_index(settings, embedder=embedder, show_progress_bar=False)
    (settings.articles_dir / "kept.txt").write_bytes(b"\x00\x00binary now\x00")  # breaks after indexing

    monkeypatch.setenv("QDRANT_PATH", str(settings.qdrant_path))
    monkeypatch.setenv("ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("MAX_FILE_BYTES", "3000")
    assert cli_main(["--prune", "--quiet"]) == 1
    out = capsys.readouterr().out
    for name, reason in [
        ("binary.txt", "binary"),
        ("empty.txt", "empty"),
        ("big.txt", "too large"),
        ("broken.html", "HTML"),
        ("feed.jsonl line 2", "invalid JSON"),
        ("scan.pdf", "unsupported"),
        ("only-boilerplate.txt", "no article text"),
        ("kept.txt", "binary"),
    ]:
        assert any(name in line and reason in line for line in out.splitlines()), (name, out)
    assert "failed 8;" in out

    recs = records(settings)
    assert set(recs) == {"good", "kept", "latin", "feed#1"}  # the broken file kept its last good version
    assert recs["latin"]["text"] == "Le café a réouvert après la grève."
    assert recs["latin"]["title"] == "Café news"
    assert_consistent(settings)


def test_interrupted_run_leaves_store_usable_and_next_run_completes(make_settings, embedder, monkeypatch):
    settings = make_settings()
    write_articles(settings.articles_dir, ARTICLES)
    monkeypatch.setattr(job, "BATCH_TEXTS", 1)  # one article per batch
    calls = {"n": 0}
    real_record = writer._record

    def dying_record(item, extra=None):
        calls["n"] += 1
        if calls["n"] == 2:  # the second article's chunks are written, its commit record is not
            raise KeyboardInterrupt("killed")
        return real_record(item, extra)

    monkeypatch.setattr(writer, "_record", dying_record)
    with pytest.raises(KeyboardInterrupt):
        run_index(settings, embedder=embedder, show_progress_bar=False)
    monkeypatch.setattr(writer, "_record", real_record)

    assert len(records(settings)) == 1  # store opens fine, first article committed
    summary = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.unchanged, summary.failed) == (2, 1, 0)
    assert_consistent(settings)
    assert run_index(settings, embedder=embedder, show_progress_bar=False).unchanged == 3


def test_update_killed_then_file_reverted_is_redone(make_settings, embedder, monkeypatch):
    """A run dies mid-update; the file goes back to its old content; the next run still repairs it."""
    settings = make_settings()
    write_articles(settings.articles_dir, {"alpha.txt": ARTICLES["alpha.txt"]})
    run_index(settings, embedder=embedder, show_progress_bar=False)
    write_articles(settings.articles_dir, {"alpha.txt": ARTICLES["alpha.txt"] + " A second dam followed in 1975."})

    def dying_record(item, extra=None):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(writer, "_record", dying_record)
    with pytest.raises(KeyboardInterrupt):
        run_index(settings, embedder=embedder, show_progress_bar=False)
    monkeypatch.undo()

    write_articles(settings.articles_dir, {"alpha.txt": ARTICLES["alpha.txt"]})  # reverted
    summary = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert summary.unchanged == 0 and summary.failed == 0
    assert_consistent(settings)
    assert run_index(settings, embedder=embedder, show_progress_bar=False).unchanged == 1


def test_model_mismatch_refused_and_recreate(make_settings, embedder, monkeypatch, capsys):
    settings = make_settings()
    write_articles(settings.articles_dir, {"beta.txt": ARTICLES["beta.txt"]})
    store = Store.open(settings)
    store.ensure("some-other-model", embedder.dimension)
    store.close()
    with pytest.raises(ModelMismatchError, match="--recreate"):
        run_index(settings, embedder=embedder, show_progress_bar=False)

    monkeypatch.setenv("QDRANT_PATH", str(settings.qdrant_path))
    monkeypatch.setenv("ARTICLES_DIR", str(settings.articles_dir))
    assert cli_main(["--quiet"]) == 2
    err = capsys.readouterr().err
    assert "some-other-model" in err and "--recreate" in err and len(err.strip().splitlines()) == 1

    summary = run_index(settings, embedder=embedder, recreate=True, show_progress_bar=False)
    assert summary.added == 1
    store = Store.open(settings)
    assert store.metadata()["model"] == embedder.name
    store.close()


def test_locked_store_fails_fast(make_settings, embedder):
    settings = make_settings()
    write_articles(settings.articles_dir, {"beta.txt": ARTICLES["beta.txt"]})
    holder = Store.open(settings)  # plays the running bot
    try:
        with pytest.raises(StoreLockedError, match="/reindex"):
            run_index(settings, show_progress_bar=False)
        env = dict(os.environ, QDRANT_PATH=str(settings.qdrant_path), ARTICLES_DIR=str(settings.articles_dir))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        started = time.monotonic()
        done = subprocess.run(  # run from tmp_path (the cwd), away from any .env in the repository
            [sys.executable, "-m", "indexing"], env=env, capture_output=True, text=True, timeout=60
        )
        assert time.monotonic() - started < 30
        assert done.returncode == 2
        assert "/reindex" in done.stderr and "QDRANT_URL" in done.stderr

        # the bot's own store is reused and left open
        stages = []
        summary = run_index(
            settings,
            store=holder,
            embedder=embedder,
            show_progress_bar=False,
            progress=lambda stage, n, total: stages.append((stage, n, total)),
        )
        assert summary.added == 1 and holder.count_articles() == 1
        assert ("reading", 1, 1) in stages and ("writing", 1, 1) in stages
        embedding = [s for s in stages if s[0] == "embedding"]
        assert embedding and embedding[-1][1] == embedding[-1][2]
    finally:
        holder.close()


def test_duplicate_ids_reported_every_run(make_settings, embedder):
    settings = make_settings()
    write_articles(settings.articles_dir, {"same.txt": ARTICLES["beta.txt"], "same.md": ARTICLES["gamma.md"]})
    for _ in range(2):
        summary = run_index(settings, embedder=embedder, show_progress_bar=False)
        assert summary.failed == 1 and "duplicate article id 'same'" in summary.failures[0][1]
        assert summary.added + summary.unchanged == 1
    assert "failed: " in summary.format() and not summary.ok


def test_processing_version_reprocesses_old_articles_once(make_settings, embedder, monkeypatch):
    """Articles split by a faulty splitter stay damaged while their bytes and text are unchanged; the
    processing version in fingerprints and content hashes makes the fixed code re-process them once."""
    import indexing.prepare as prepare

    settings = make_settings()
    write_articles(settings.articles_dir, ARTICLES)
    real = prepare.split_sentences
    monkeypatch.setattr(prepare, "split_sentences", lambda text: real(text)[:1])  # loses sentences
    run_index(settings, embedder=embedder, show_progress_bar=False)
    assert records(settings)["alpha"]["n_sentences"] == 1
    monkeypatch.setattr(prepare, "split_sentences", real)  # the fix, same version: nothing to redo
    assert run_index(settings, embedder=embedder, show_progress_bar=False).unchanged == 3

    monkeypatch.setattr(prepare, "PROCESSING_VERSION", prepare.PROCESSING_VERSION + 1)  # the fix bumps it
    again = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (again.updated, again.unchanged) == (3, 0)
    assert records(settings)["alpha"]["n_sentences"] == 5
    assert_consistent(settings)
    assert run_index(settings, embedder=embedder, show_progress_bar=False).unchanged == 3


def test_article_longer_than_max_article_chars_is_refused_with_its_reason(make_settings, embedder):
    settings = make_settings(max_article_chars=2000)
    write_articles(
        settings.articles_dir,
        {"long.txt": "Long\n\n" + "The council met again. " * 200, "beta.txt": ARTICLES["beta.txt"]},
    )
    summary = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert summary.added == 1 and summary.failed == 1
    origin, reason = summary.failures[0]
    assert origin.endswith("long.txt") and "MAX_ARTICLE_CHARS" in reason and "4,599 characters" in reason


def test_collection_larger_than_max_file_bytes_is_indexed_article_by_article(make_settings, embedder, monkeypatch):
    """MAX_FILE_BYTES belongs to each article of a .jsonl collection, not to the file (a 16 MB export of
    1,700 news articles was refused whole); the file is streamed and its unchanged rerun costs one hash."""
    import json

    settings = make_settings(max_file_bytes=4_000)
    lines = [
        json.dumps({"id": f"n{n}", "title": f"Dock {n}", "text": f"Dock {n} handled {n} ships in May. " * 12})
        for n in range(30)
    ]
    write_articles(settings.articles_dir, {"export.jsonl": "\n".join(lines) + "\n"})
    assert (settings.articles_dir / "export.jsonl").stat().st_size > 3 * settings.max_file_bytes
    summary = run_index(settings, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.failed) == (30, 0)
    monkeypatch.setattr(plan_module, "read_file", lambda *a: pytest.fail("unchanged collection was parsed"))
    assert run_index(settings, embedder=embedder, show_progress_bar=False).unchanged == 30


def test_list_shows_every_article_newest_first(make_settings, embedder, monkeypatch, capsys):
    import json

    settings = make_settings()
    dated = {
        "old.md": "---\ntitle: Old news\npublished: 2021-03-01\nsource: Wire\nurl: https://example.org/old\n---\nIt rained.",
        "new.md": "---\ntitle: New news\npublished: 2024-05-02\n---\nThe sun came out. Then it rained again.",
        "undated.txt": "Undated\n\nNo date here.",
    }
    write_articles(settings.articles_dir, dated)
    run_index(settings, embedder=embedder, show_progress_bar=False)
    monkeypatch.setenv("QDRANT_PATH", str(settings.qdrant_path))
    monkeypatch.setenv("ARTICLES_DIR", str(settings.articles_dir))
    assert cli_main(["--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["article_id"] for row in rows] == ["new", "old", "undated"]
    stored = records(settings)
    for row in rows:
        for name in ("title", "source", "url", "published", "n_sentences", "n_chunks", "content_hash", "fingerprint"):
            assert row[name] == stored[row["article_id"]][name]
    assert rows[0]["n_sentences"] == 2 and rows[0]["n_chunks"] == 1 and len(rows[0]["content_hash"]) == 64
    assert (rows[1]["source"], rows[1]["url"], rows[1]["published"]) == (
        "Wire",
        "https://example.org/old",
        "2021-03-01",
    )

    assert cli_main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:4] == ["published", "sentences", "chunks", "id"]
    assert lines[1].split("\t")[:5] == ["2024-05-02", "2", "1", "new", "New news"]
    assert lines[-1] == "3 articles"


def test_store_in_the_old_local_format_says_what_to_run(make_settings, embedder, monkeypatch, capsys):
    """A folder written before Qdrant Edge: the indexer and the bot say in one line what to run."""
    from bot.cli import main as bot_main

    settings = make_settings()
    write_articles(settings.articles_dir, {"beta.txt": ARTICLES["beta.txt"]})
    monkeypatch.setenv("QDRANT_PATH", str(settings.qdrant_path))
    monkeypatch.setenv("ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("QDRANT_ENGINE", "local")
    assert cli_main(["--quiet"]) == 0  # the old format, as earlier versions wrote it
    assert (settings.qdrant_path / "meta.json").exists()
    monkeypatch.delenv("QDRANT_ENGINE")
    capsys.readouterr()

    assert cli_main(["--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "python -m indexing --recreate" in err and "QDRANT_ENGINE=local" in err and len(err.splitlines()) == 1
    assert bot_main(["ask", "How high is Beta mountain?"]) == 5
    err = capsys.readouterr().err.strip()
    assert "--recreate" in err and len(err.splitlines()) == 1

    assert cli_main(["--recreate", "--quiet"]) == 0  # rebuilt with Qdrant Edge, beside the old files
    assert records(settings)["beta"]["title"] == "Beta mountain"
    assert (settings.qdrant_path / "meta.json").exists()
    monkeypatch.setenv("QDRANT_ENGINE", "local")
    with Store.open(settings.model_copy(update={"qdrant_engine": "local"})) as old:
        assert old.count_articles() == 1  # untouched, still usable with QDRANT_ENGINE=local


def test_chunks_of_a_killed_write_whose_file_is_gone_are_swept(make_settings, embedder, monkeypatch):
    """Chunks written, record not (killed), then the file deleted: the next run leaves no stray chunk."""
    settings = make_settings()
    write_articles(settings.articles_dir, {"alpha.txt": ARTICLES["alpha.txt"], "beta.txt": ARTICLES["beta.txt"]})
    monkeypatch.setattr(job, "BATCH_TEXTS", 1)  # one article per batch
    calls = {"n": 0}
    real_record = writer._record

    def dying_record(item, extra=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real_record(item, extra)

    monkeypatch.setattr(writer, "_record", dying_record)
    with pytest.raises(KeyboardInterrupt):
        run_index(settings, embedder=embedder, show_progress_bar=False)
    monkeypatch.undo()
    committed = set(records(settings))
    assert len(committed) == 1
    (lost,) = {"alpha", "beta"} - committed
    with Store.open(settings) as store:
        assert chunks_of(store, lost)  # its chunks are in the store, without a record
    (settings.articles_dir / f"{lost}.txt").unlink()

    summary = run_index(settings, prune=True, embedder=embedder, show_progress_bar=False)
    assert (summary.added, summary.unchanged, summary.removed) == (0, 1, 0)
    assert_consistent(settings)  # the stray chunks went with the end-of-run sweep
