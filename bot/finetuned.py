"""Load a model fine-tuned from the bundled embedding model: only its trained tensors ship, in bot/models/.

The reranker (bot/rerank.py), the answer pointer (bot/pointer.py) and the answer checker (bot/answer_check.py)
are all-MiniLM-L6-v2 with their top layers and a small head fine-tuned on the SQuAD dev set's tuning half. Their
frozen lower layers are the bundled embedding model's, so each ships as a few MB of fp16 tensors laid over it at
load, and nothing is downloaded. A setting may instead name another model's folder (or a hub name, with internet).

On the CPU the pointer runs with int8 weights by default (POINTER_PRECISION): torch's dynamic quantization of
its linear layers takes a read from 24.0 to 13.9 ms (benchmarks/bench_pointer_precision.py). The reranker and
the answer checker stay float32: int8 cost the reranker most of its news gain and let the checker pass more
off-collection questions (docs/quality.md, round 12). The question embedder is never quantized: its vectors must
match the stored ones.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indexing.settings import RERANKER_OFF

log = logging.getLogger(__name__)

BUNDLED = "bundled"

_lock = threading.Lock()
_loaded: dict[tuple[str, str, str, str], Any] = {}


def disabled(spec: str | None) -> bool:
    """RERANKER / ANSWER_POINTER = off (or empty): the step is skipped (the fused ranking, the lexical lead)."""
    return spec is None or spec.strip().lower() in RERANKER_OFF


def shared(
    what: str, factory: Callable[[str, str, str], Any], spec: str, device: str = "cpu", precision: str = "float32"
) -> Any:
    """The process-wide `factory(spec, device, precision)` (loaded once, shared by every pipeline and thread)."""
    key = (what, spec, device, precision)
    with _lock:
        if key not in _loaded:
            log.info("loading %s %s (%s)", what, spec if spec == BUNDLED else Path(spec).name, precision)
            _loaded[key] = factory(spec, device, precision)
        return _loaded[key]


def load_finetuned(
    spec: str, auto_class: Any, weights: Path, device: str = "cpu", precision: str = "float32", **kwargs: Any
) -> tuple[Any, Any]:
    """(tokenizer, model in eval mode) for `spec`: "bundled" (the bundled model with `weights` laid over it),
    a model folder or a hub name; `auto_class` is the transformers Auto class of the task; `precision` "int8"
    quantizes its linear layers (CPU only)."""
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
    model = model.to(device).eval()
    if precision == "int8" and device != "cpu":
        log.info("int8 applies on the CPU only; %s keeps float32", device)
    elif precision == "int8":
        int8 = quantized(model)
        if int8 is None:  # the model may be half converted: load it afresh
            return load_finetuned(spec, auto_class, weights, device, "float32", **kwargs)
        model = int8
    return tokenizer, model


def quantized(model: Any) -> Any | None:
    """`model` with int8 linear layers, converted in place (torch dynamic quantization: int8 weights with
    per-channel scales, activations quantized per call; a copy would raise the peak memory by ~50 MB), or None
    when this torch cannot (a warning says so)."""
    import torch

    try:
        with warnings.catch_warnings():  # torch.ao's quantization is deprecated in favour of torchao, not gone
            warnings.filterwarnings("ignore", message=".*deprecated.*")
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
    except (ImportError, AttributeError, RuntimeError, NotImplementedError) as exc:
        log.warning("int8 is not available in torch %s (%s): float32 instead", torch.__version__, exc)
        return None


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
