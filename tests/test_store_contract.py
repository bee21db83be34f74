"""The store interface's contract, run against both engines: Qdrant Edge in a temporary folder and
qdrant-client in memory, as local mode and through the server code path (the in-memory client standing
in for a server's API).

Small synthetic vectors (8 dimensions): the store does not care where vectors come from.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import REPO
from fixtures.support import make_test_settings

from bot.components.resources import StoreResources, TextCache
from indexing.store import (
    SENTENCES,
    TITLE,
    ChunkPoint,
    ChunkQuery,
    ModelMismatchError,
    SearchFilter,
    Store,
    StoreFormatError,
    StoreLockedError,
    chunk_point_id,
)

DIM = 8
MODEL = "test-model"
ENGINES = ["edge", "local", "server"]


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def chunk(article_id: str, index: int, *, seed: int, terms: list[int], **meta) -> ChunkPoint:
    sentences = np.stack([unit(seed), unit(seed + 1000)])
    dense = sentences.mean(axis=0)
    dense /= np.linalg.norm(dense)
    payload = {
        "article_id": article_id,
        "chunk_index": index,
        "text": f"{article_id} chunk {index}",
        "start": 0,
        "end": 10,
        "sentences": [[0, 5], [6, 10]],
        "title": meta.get("title", article_id),
        "source": meta.get("source", "Wire"),
        "published": meta.get("published", "2023-03-15"),
        "content_hash": meta.get("content_hash", "h1"),
    }
    return ChunkPoint(
        id=chunk_point_id(article_id, index),
        dense=dense.tolist(),
        sentences=sentences.tolist(),
        title=unit(seed + 2000).tolist(),
        sparse_indices=sorted(terms),
        sparse_values=[1.0] * len(terms),
        payload=payload,
    )


def record(article_id: str, n_chunks: int, **fields) -> dict:
    return {
        "article_id": article_id,
        "title": article_id.title(),
        "source": fields.pop("source", "Wire"),
        "published": fields.pop("published", "2023-03-15"),
        "content_hash": fields.pop("content_hash", "h1"),
        "text": f"full text of {article_id}",
        "term_df": {"bridg": 2},
        "n_sentences": 2,
        "n_chunks": n_chunks,
        "origin": f"/data/{article_id}.txt",
        **fields,
    }


ARTICLES = {  # article_id: (chunks, source, published)
    "bridge": (3, "Wire", "2023-03-15"),
    "library": (2, "City Post", "2023-03-14T09:30:00"),
    "glacier": (2, "Wire", "2024-06-20"),
    "centcom": (1, "Dawn", "2022-08-05"),
}


def fill(store: Store) -> dict[str, list[ChunkPoint]]:
    """Write the four articles (chunks, then records) and end the run."""
    store.ensure(MODEL, DIM)
    written = {}
    for number, (article_id, (count, source, published)) in enumerate(ARTICLES.items()):
        points = [
            chunk(article_id, i, seed=10 * number + i, terms=[number, 100 + i], source=source, published=published)
            for i in range(count)
        ]
        store.upsert_chunks(points)
        store.write_records([record(article_id, count, source=source, published=published)])
        written[article_id] = points
    store.finish_run()
    return written


@pytest.fixture(params=ENGINES)
def store(request, tmp_path):
    """Edge in a folder; qdrant-client's local mode in memory; and the server code path of the same
    class over an in-memory client (payload indexes, cached existence, writes beside reads)."""
    if request.param == "edge":
        opened = Store.open(make_test_settings(tmp_path / "qdrant", qdrant_collection="contract"))
    elif request.param == "local":
        opened = Store.open(make_test_settings(":memory:", qdrant_collection="contract", qdrant_engine="local"))
    else:
        from qdrant_client import QdrantClient

        from indexing.store_qdrant import QdrantStore

        settings = make_test_settings(":memory:", qdrant_collection="contract")
        opened = QdrantStore(QdrantClient(location=":memory:"), settings, "server")
    yield opened
    opened.close()


def test_a_new_store_is_empty_until_ensured(store):
    assert not store.exists() and store.metadata() == {}
    assert (store.count_articles(), store.count_chunks(), store.generation()) == (0, 0, 0)
    assert store.query([ChunkQuery(limit=3, dense=unit(1).tolist())]) == [[]]
    assert list(store.article_records()) == [] and store.article_record("x") is None
    assert store.sweep_orphans() == 0
    assert store.ensure(MODEL, DIM) is True and store.exists()
    meta = store.metadata()
    assert (meta["model"], meta["dimension"], meta["schema"]) == (MODEL, DIM, 2)
    assert store.ensure(MODEL, DIM) is False


def test_model_mismatch_is_refused_until_recreate(store):
    fill(store)
    with pytest.raises(ModelMismatchError, match="--recreate"):
        store.ensure("other-model", DIM)
    with pytest.raises(ModelMismatchError):
        store.check_model(MODEL, DIM + 1)
    store.check_model(MODEL, DIM)
    before = store.generation()
    assert store.ensure("other-model", DIM, recreate=True) is True
    assert store.metadata()["model"] == "other-model"
    assert (store.count_articles(), store.count_chunks()) == (0, 0)
    assert store.generation() > before  # readers of the dropped store must reload


def test_dense_and_sparse_queries_return_vectors_and_filter(store):
    written = fill(store)
    target = written["library"][1]
    dense_hits, sparse_hits = store.query(
        [ChunkQuery(limit=3, dense=target.dense), ChunkQuery(limit=10, sparse=([1], [1.0]))]
    )
    best = dense_hits[0]
    assert best.id == target.id and best.score == pytest.approx(1.0, abs=1e-5)
    assert best.payload["article_id"] == "library" and best.payload["chunk_index"] == 1
    assert np.allclose(best.vectors[SENTENCES], target.sentences, atol=1e-6)
    assert np.allclose(best.vectors[TITLE], target.title, atol=1e-6)
    assert [h.score for h in dense_hits] == sorted((h.score for h in dense_hits), reverse=True)
    assert {h.payload["article_id"] for h in sparse_hits} == {"library"}  # term 1 is the library's only
    assert len(sparse_hits) == 2 and sparse_hits[0].score > 0

    def ids(**filters) -> set[str]:
        flt = SearchFilter(**filters)
        (hits,) = store.query([ChunkQuery(limit=20, dense=target.dense, filters=flt)])
        return {h.payload["article_id"] for h in hits}

    assert ids(article_id="glacier") == {"glacier"}
    assert ids(source="Wire") == {"bridge", "glacier"}
    assert ids(date_from="2023-01-01", date_to="2023-12-31") == {"bridge", "library"}
    assert ids(date_to="2023-03-14") == {"library", "centcom"}  # a date-only end covers its whole day
    assert ids(date_from="2023-03-15") == {"bridge", "glacier"}
    assert ids(date_from="2030-01-01") == set()
    assert ids(source="Wire", date_to="2023-12-31") == {"bridge"}
    (plain,) = store.query([ChunkQuery(limit=2, dense=target.dense, vectors=())])
    assert plain[0].vectors == {}


def test_exact_and_wider_graph_search_find_the_same_chunks(store):
    """The recall check's two knobs (exact search, a wider HNSW search) reach the engine and agree here."""
    written = fill(store)
    target = written["bridge"][0]
    flt = SearchFilter(source="Wire")
    default, exact, wide = store.query(
        [
            ChunkQuery(limit=5, dense=target.dense, filters=flt, vectors=()),
            ChunkQuery(limit=5, dense=target.dense, filters=flt, vectors=(), exact=True),
            ChunkQuery(limit=5, dense=target.dense, filters=flt, vectors=(), hnsw_ef=256),
        ]
    )
    assert [h.id for h in exact] == [h.id for h in default] == [h.id for h in wide]
    assert exact[0].id == target.id and {h.payload["article_id"] for h in exact} <= {"bridge", "glacier"}


def test_filter_from_the_pipeline_dict():
    assert SearchFilter.from_dict(None) is None
    assert SearchFilter.from_dict({"article_id": None, "source": ""}) is None
    made = SearchFilter.from_dict({"source": "Wire", "date_to": "2023-03-14"})
    assert made == SearchFilter(source="Wire", date_to="2023-03-14")
    assert made.date_until == "2023-03-14T23:59:59.999999"
    assert SearchFilter(date_to="2023-03-14T10:00:00").date_until == "2023-03-14T10:00:00"


def test_records_scroll_retrieve_and_update(store):
    fill(store)
    light = {r.payload["article_id"]: r.payload for r in store.article_records()}
    assert set(light) == set(ARTICLES)
    assert all("text" not in p and "term_df" not in p for p in light.values())
    assert light["bridge"]["n_chunks"] == 3 and light["bridge"]["content_hash"] == "h1"
    full = {r.payload["article_id"]: r.payload for r in store.article_records(with_text=True)}
    assert full["bridge"]["text"] == "full text of bridge" and full["bridge"]["term_df"] == {"bridg": 2}
    few = list(store.article_records(fields=["n_sentences"]))
    assert all(set(r.payload) == {"n_sentences"} for r in few) and len(few) == 4
    assert store.article_record("library")["text"] == "full text of library"
    assert "text" not in store.article_record("library", with_text=False)
    assert store.article_record("missing") is None
    found = store.get_records(["glacier", "missing", "centcom"], fields=["content_hash"])
    assert set(found) == {"glacier", "centcom"} and set(found["glacier"]) == {"content_hash", "article_id"}
    assert store.update_record("glacier", {"fingerprint": "fp", "origin": "/elsewhere.txt"}) is True
    assert store.update_record("missing", {"fingerprint": "fp"}) is False
    updated = store.article_record("glacier")
    assert (updated["fingerprint"], updated["origin"], updated["text"]) == (
        "fp",
        "/elsewhere.txt",
        "full text of glacier",
    )
    assert (store.count_articles(), store.count_chunks()) == (4, 8)


def test_chunk_scroll_pages_filters_and_fields(store):
    fill(store)
    every = list(store.chunks(page=3))
    assert len(every) == 8 and len({c.id for c in every}) == 8
    bridge = list(store.chunks(SearchFilter(article_id="bridge"), fields=["chunk_index"], vectors=[SENTENCES]))
    assert sorted(c.payload["chunk_index"] for c in bridge) == [0, 1, 2]
    assert all(set(c.payload) == {"chunk_index"} and len(c.vectors[SENTENCES]) == 2 for c in bridge)
    assert {c.id for c in bridge} == {chunk_point_id("bridge", i) for i in range(3)}


def test_delete_by_ids_and_in_progress_marks(store):
    fill(store)
    assert store.delete_article("bridge") is True
    assert store.article_record("bridge") is None
    assert list(store.chunks(SearchFilter(article_id="bridge"))) == []
    assert store.delete_article("bridge") is False
    assert (store.count_articles(), store.count_chunks()) == (3, 5)
    store.delete_chunks("centcom", [0])  # a prune killed after the chunks: the record still lists them
    assert store.delete_article("centcom") is True and store.article_record("centcom") is None
    assert (store.count_articles(), store.count_chunks()) == (2, 4)

    # an update to 1 chunk of an article that had 2: marked in progress, n_chunks covers both
    held = store.mark_in_progress({"library": 1, "new-one": 4})
    assert held == {"library": 2}
    marked = store.article_record("library")
    assert marked.get("content_hash") is None and marked.get("fingerprint") is None and marked["n_chunks"] == 2
    store.delete_chunks("library", range(1, held["library"]))
    assert [c.payload["chunk_index"] for c in store.chunks(SearchFilter(article_id="library"))] == [0]
    # growing to 5 chunks: the mark keeps the larger count until the new record is written
    assert store.mark_in_progress({"glacier": 5}) == {"glacier": 5}
    assert store.article_record("glacier")["n_chunks"] == 5


def test_sweep_removes_chunks_without_a_record_or_beyond_it(store):
    fill(store)
    store.upsert_chunks([chunk("ghost", i, seed=90 + i, terms=[7]) for i in range(3)])  # no record: a killed run
    store.upsert_chunks([chunk("centcom", 4, seed=95, terms=[7])])  # beyond the record's n_chunks (1)
    assert store.count_chunks() == 12
    assert store.sweep_orphans(grace=0) == 2
    assert store.count_chunks() == 8 and store.count_articles() == 4
    assert list(store.chunks(SearchFilter(article_id="ghost"))) == []
    assert [c.payload["chunk_index"] for c in store.chunks(SearchFilter(article_id="centcom"))] == [0]
    assert store.sweep_orphans(grace=0) == 0


def test_sweep_with_a_grace_spares_chunks_another_writer_is_committing(store):
    """On a server another process may sit between an article's chunks and its record."""
    fill(store)
    store.upsert_chunks([chunk("in-flight", 0, seed=70, terms=[7])])
    assert store.sweep_orphans(grace=0.3) == 0  # first seen now: spared
    store.write_records([record("in-flight", 1)])  # the other writer commits
    store.upsert_chunks([chunk("ghost", 0, seed=71, terms=[7])])
    assert store.sweep_orphans(grace=0.3) == 0
    time.sleep(0.35)
    assert store.sweep_orphans(grace=0.3) == 1  # the ghost, stray for longer than the grace
    assert store.count_chunks() == 9 and store.article_record("in-flight") is not None
    assert store.metadata().get("stray_since") == []
    expected = 600.0 if store.engine == "server" else 0.0
    assert store.sweep_grace == expected


def test_generation_follows_runs_that_change_something(store):
    fill(store)
    first = store.generation()
    assert first >= 1
    assert store.finish_run() == first  # nothing written since: no new generation
    store.update_record("bridge", {"fingerprint": "x"})
    assert store.finish_run() == first + 1 == store.generation()
    store.upsert_chunks([chunk("ghost", 0, seed=1, terms=[1])])
    store.delete_chunks("ghost", [0])
    assert store.finish_run() == first + 2


def test_concurrent_questions_while_one_job_writes(store):
    """Readers and one writer on several threads: no error, every read sees whole points."""
    if store.engine == "server":
        pytest.skip("the in-memory client standing in for a server is not thread-safe; a server is")
    written = fill(store)
    target = written["glacier"][0]
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                dense, sparse = store.query(
                    [ChunkQuery(limit=5, dense=target.dense), ChunkQuery(limit=5, sparse=([2], [1.0]))]
                )
                assert dense and dense[0].id == target.id
                assert all(len(h.vectors[SENTENCES]) == 2 for h in dense + sparse)
                store.get_records(["glacier"], fields=["text"])
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    def writer() -> None:
        try:
            for round_ in range(15):
                article_id = f"extra-{round_}"
                store.upsert_chunks([chunk(article_id, i, seed=500 + 3 * round_ + i, terms=[9]) for i in range(3)])
                store.write_records([record(article_id, 3)])
                if round_ % 3 == 2:
                    store.delete_article(f"extra-{round_ - 1}")
            store.finish_run()
        except BaseException as error:
            errors.append(error)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert store.count_articles() == 4 + 15 - 5


def test_edge_persists_across_reopen_and_refuses_a_second_opener(tmp_path):
    settings = make_test_settings(tmp_path / "qdrant", qdrant_collection="contract")
    store = Store.open(settings)
    fill(store)
    generation = store.generation()
    with pytest.raises(StoreLockedError, match="QDRANT_URL"):
        Store.open(settings)  # the same process, a second time
    code = (
        "from indexing.store import Store, StoreLockedError\n"
        "from fixtures.support import make_test_settings\n"
        f"try:\n    Store.open(make_test_settings({str(settings.qdrant_path)!r}, qdrant_collection='contract'))\n"
        "except StoreLockedError:\n    print('locked')\n"
    )
    env_path = f"{REPO}:{REPO / 'tests'}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PYTHONPATH": env_path}
    )
    assert done.stdout.strip() == "locked", done.stderr
    store.close()

    again = Store.open(settings)
    try:
        assert (again.count_articles(), again.count_chunks(), again.generation()) == (4, 8, generation)
        assert again.metadata()["model"] == MODEL
        (hits,) = again.query([ChunkQuery(limit=1, sparse=([3], [1.0]))])
        assert hits[0].payload["article_id"] == "centcom"
    finally:
        again.close()


def test_edge_store_from_before_the_segment_settings_gets_them_on_open(tmp_path):
    """A store written without the optimizer settings (phase 1) is opened with them: no daily whole-graph rebuild."""
    from indexing.store_edge import MERGE_CHUNKS, TARGET_SEGMENTS, edge_root

    settings = make_test_settings(tmp_path / "qdrant", qdrant_collection="contract")
    with Store.open(settings) as store:
        fill(store)
    config_file = edge_root(settings) / "chunks" / "edge_config.json"
    config = json.loads(config_file.read_text())
    config.pop("optimizers", None)
    config_file.write_text(json.dumps(config))
    with Store.open(settings) as again:
        assert (again.count_articles(), again.count_chunks()) == (4, 8)
        optimizers = json.loads(config_file.read_text())["optimizers"]
        assert optimizers["default_segment_number"] == TARGET_SEGMENTS
        assert optimizers["max_segment_size"] == MERGE_CHUNKS * max(1, settings.chunk_sentences * DIM * 4 // 1024)
        again.upsert_chunks([chunk("library", 9, seed=99, terms=[1])])
        again.write_records([record("library", 10)])
        assert again.finish_run() > 0


def test_local_mode_folder_is_recognised(tmp_path):
    """A folder in the old local-mode format: the default engine says what to run; --recreate upgrades."""
    path = tmp_path / "qdrant"
    old = Store.open(make_test_settings(path, qdrant_engine="local"))
    old.ensure(MODEL, DIM)
    old.write_records([record("bridge", 0)])
    old.close()
    with pytest.raises(StoreFormatError) as caught:
        Store.open(make_test_settings(path))
    message = str(caught.value)
    assert "python -m indexing --recreate" in message and "QDRANT_ENGINE=local" in message
    assert "\n" not in message
    kept = Store.open(make_test_settings(path, qdrant_engine="local"))  # still usable as it is
    assert kept.count_articles() == 1
    kept.close()
    upgraded = Store.open(make_test_settings(path), upgrade=True)
    assert upgraded.ensure(MODEL, DIM) is True and upgraded.engine == "edge"
    upgraded.close()
    reopened = Store.open(make_test_settings(path))  # an Edge store now: no more complaint
    assert reopened.exists() and reopened.count_articles() == 0
    reopened.close()
    edge_only = Store.open(make_test_settings(path, qdrant_collection="fresh"))
    edge_only.ensure(MODEL, DIM)
    edge_only.close()
    with pytest.raises(StoreFormatError, match="unset QDRANT_ENGINE"):
        Store.open(make_test_settings(path, qdrant_engine="local", qdrant_collection="fresh"))


def test_edge_needs_a_folder():
    from indexing.store import StoreError

    with pytest.raises(StoreError, match="QDRANT_PATH"):
        Store.open(make_test_settings(":memory:"))


# ------------------------------------------------------------------ the answer side's caches


def test_caches_follow_the_generation_and_load_once(store):
    fill(store)
    resources = StoreResources(store=store, check_interval=0.0)
    barrier = threading.Barrier(4)
    results = []

    def ask() -> None:
        barrier.wait()
        results.append(resources.corpus_stats())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert resources.loads == 1 and all(r is results[0] for r in results)
    assert results[0].n_sentences == 8 and results[0].df["bridg"] == 8
    assert resources.article_texts({"bridge": "h1", "library": "stale-hash"}) == {"bridge": "full text of bridge"}

    store.write_records([record("extra", 0, content_hash="h9")])
    store.finish_run()  # a new generation: the next question reloads
    stats = resources.corpus_stats()
    assert resources.loads == 2 and stats.n_sentences == 10
    assert resources.corpus_stats() is stats and resources.loads == 2


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_a_reader_sees_another_writers_generation_within_the_interval():
    """Two stores over one Qdrant: the bot and a separate indexer against a server (docker-compose)."""
    from qdrant_client import QdrantClient

    from indexing.store_qdrant import QdrantStore

    client = QdrantClient(location=":memory:")
    settings = make_test_settings(":memory:", qdrant_collection="contract")
    writer, reader = QdrantStore(client, settings, "server"), QdrantStore(client, settings, "server")
    fill(writer)
    resources = StoreResources(store=reader, check_interval=0.2)
    assert resources.corpus_stats().n_sentences == 8
    writer.write_records([record("extra", 0)])
    writer.finish_run()
    assert resources.corpus_stats().n_sentences == 8  # checked less than 0.2 s ago: still cached
    time.sleep(0.25)
    assert resources.corpus_stats().n_sentences == 10


def test_text_cache_is_bounded():
    cache = TextCache(max_chars=10)
    cache.put("a", "12345")
    cache.put("b", "12345")
    assert cache.get("a") == "12345"  # a is now the most recent
    cache.put("c", "123")
    assert cache.get("b") is None and cache.get("a") == "12345" and cache.get("c") == "123"
    assert len(cache) == 2
