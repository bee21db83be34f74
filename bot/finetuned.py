"""Load a model fine-tuned from the bundled embedding model: only its trained tensors ship, in bot/models/.

The reranker (bot/rerank.py) and the answer pointer (bot/pointer.py) are all-MiniLM-L6-v2 with their top
layers and a small head fine-tuned on the SQuAD dev set's tuning half. Their frozen lower layers are the
bundled embedding model's, so each ships as a few MB of fp16 tensors laid over it at load, and nothing is
downloaded. A setting may instead name another model's folder (or a hub name, with internet).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indexing.settings import RERANKER_OFF

log = logging.getLogger(__name__)

BUNDLED = "bundled"

_lock = threading.Lock()
_loaded: dict[tuple[str, str, str], Any] = {}


def disabled(spec: str | None) -> bool:
    """RERANKER / ANSWER_POINTER = off (or empty): the step is skipped (the fused ranking, the lexical lead)."""
    return spec is None or spec.strip().lower() in RERANKER_OFF


def shared(what: str, factory: Callable[[str, str], Any], spec: str, device: str = "cpu") -> Any:
    """The process-wide `factory(spec, device)` (loaded once, shared by every pipeline and thread)."""
    key = (what, spec, device)
    with _lock:
        if key not in _loaded:
            log.info("loading %s %s", what, spec if spec == BUNDLED else Path(spec).name)
            _loaded[key] = factory(spec, device)
        return _loaded[key]


def load_finetuned(spec: str, auto_class: Any, weights: Path, device: str = "cpu", **kwargs: Any) -> tuple[Any, Any]:
    """(tokenizer, model in eval mode) for `spec`: "bundled" (the bundled model with `weights` laid over it),
    a model folder or a hub name; `auto_class` is the transformers Auto class of the task."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()  # the bundled head is laid over after loading: no "MISSING" table
    if spec == BUNDLED:
        from indexing.settings import bundled_model_path

        source = bundled_model_path()
    else:
        source = spec
    if Path(source).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = auto_class.from_pretrained(source, **kwargs)
    if spec == BUNDLED:
        overlay(model, weights)
    return tokenizer, model.to(device).eval()


def overlay(model: Any, path: Path) -> None:
    """Lay the fine-tuned tensors of `path` over `model` (names as in the model's state dict)."""
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    own = model.state_dict()
    unknown = sorted(set(tensors) - set(own))
    if unknown:
        raise ValueError(f"{path.name} holds tensors the model lacks: {unknown[:3]}")
    for name, tensor in tensors.items():
        own[name].copy_(tensor.to(own[name].dtype))
