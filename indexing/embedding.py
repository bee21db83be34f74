"""The sentence-transformers model, loaded once per process and shared by indexing and the bot."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_lock = threading.Lock()
_models: dict[tuple[str, str], object] = {}


def model_id(model: str) -> str:
    """A stable name for the model, recorded in the collection (a folder's name, not its full path).

    The bundled model lives inside the virtual environment, whose path differs per machine.
    """
    path = Path(model)
    if path.is_dir():
        bundled = _bundled_path()
        if bundled and path.resolve() == Path(bundled).resolve():
            return "sentence-transformers/all-MiniLM-L6-v2"
        return path.name
    return model


def _bundled_path() -> str | None:
    try:
        from indexing.settings import bundled_model_path

        return bundled_model_path()
    except ImportError:
        return None


def load_model(model: str, device: str = "cpu"):
    """Load (once) a SentenceTransformer from a local path or, with internet, a hub name."""
    key = (model, device)
    with _lock:
        if key not in _models:
            if Path(model).is_dir():
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

            log.info("loading embedding model %s", model_id(model))
            _models[key] = SentenceTransformer(model, device=device)
        return _models[key]


class Embedder:
    """Normalised, batched dense embeddings."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 64) -> None:
        self.model_name = model
        self.model = load_model(model, device)
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return model_id(self.model_name)

    @property
    def dimension(self) -> int:
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        ).astype(np.float32)
