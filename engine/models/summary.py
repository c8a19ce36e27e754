"""A layer-by-layer summary of a model: output shapes and parameter counts, as plain JSON data."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


def _first_tensor(output: Any) -> Tensor | None:
    """The tensor a layer produced; recurrent layers return (outputs, state), so take the first."""
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)) and output:
        return _first_tensor(output[0])
    return None


def summarize(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Each leaf layer's name, type, output shape (without batch) and parameter count, plus totals.

    Runs one dummy batch of two samples in eval mode without gradients, on the model's own
    device, and restores the model's training mode afterwards. Layers the forward pass never
    calls are left out.
    """
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None else torch.float32
    layers: list[dict[str, Any]] = []

    def record(name: str):
        def hook(module: nn.Module, _inputs: Any, output: Any) -> None:
            tensor = _first_tensor(output)
            layers.append(
                {
                    "name": name,
                    "type": type(module).__name__,
                    "output_shape": list(tensor.shape[1:]) if tensor is not None else [],
                    "params": sum(p.numel() for p in module.parameters(recurse=False)),
                }
            )

        return hook

    leaves = [(name, module) for name, module in model.named_modules() if not any(module.children())]
    handles = [module.register_forward_hook(record(name)) for name, module in leaves]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            # Two samples, not one: some layers (batch norm in training) refuse a batch of one.
            model(torch.zeros(2, *input_shape, device=device, dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {
        "layers": layers,
        "total_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
