"""Shared fixtures: the real bundled model (loaded once) and settings pointing at temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = REPO / "data" / "articles"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole test session."""
    from indexing.embedding import Embedder
    from indexing.settings import bundled_model_path

    return Embedder(bundled_model_path())


@pytest.fixture(scope="module")
def qa(tmp_path_factory, embedder):
    """A QuestionAnswerer over the session's shared fixture index (fixtures/support.py `shared_index`)."""
    from fixtures.support import shared_index

    from bot.pipeline import QuestionAnswerer

    settings, store = shared_index(tmp_path_factory, embedder)
    answerer = QuestionAnswerer(settings, store, embedder)
    yield answerer
    answerer.close()


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Factory for settings isolated in tmp_path (embedded store, articles, data folder), ignoring any .env."""
    from indexing.settings import Settings

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name in Settings.model_fields or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)

    def factory(**overrides):
        values = {
            "qdrant_path": tmp_path / "qdrant",
            "articles_dir": tmp_path / "articles",
            "data_dir": tmp_path / "data",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return factory
