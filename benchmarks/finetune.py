"""What the fine-tuning scripts share (train_reranker.py, train_answer_pointer.py, train_answer_check.py): AdamW
over the trained tensors with a linear warm-up and decay, one clipped update, and saving only the trained tensors
in fp16 (the frozen ones are the bundled model's, so they need not ship)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def optimiser_for(model: Any, trained: list[str], lr: float, steps: int, warmup: int, floor: float) -> tuple[Any, Any]:
    """(AdamW, schedule): the rate climbs over `warmup` steps, then falls linearly to `floor` of it by `steps`."""
    import torch

    optimiser = torch.optim.AdamW([model.get_parameter(n) for n in trained], lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(floor, 1 - s / steps)
    )
    return optimiser, schedule


def update(model: Any, loss: Any, optimiser: Any, schedule: Any) -> None:
    """One step: back-propagate `loss`, clip the gradient norm at 1, step, advance the schedule, clear."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimiser.step()
    schedule.step()
    optimiser.zero_grad()


def save_trained(model: Any, trained: list[str], out: Path, metadata: dict[str, str] | None = None) -> None:
    """Write the `trained` tensors (fp16 safetensors) to `out`."""
    from safetensors.torch import save_file

    tensors = {n: model.get_parameter(n).detach().half().contiguous() for n in trained}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=metadata)
