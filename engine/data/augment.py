"""Training-time augmentation of a batch already on the device, without host syncs or per-sample loops."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nnplay.engine.core.i18n import _


def augment(x: torch.Tensor, noise_std: float, max_shift: int, generator: torch.Generator | None) -> torch.Tensor:
    """A randomly perturbed copy of the batch x.

    noise_std adds gaussian input noise of that standard deviation (for non-image data).
    max_shift moves each image (n, c, h, w) by its own random whole number of pixels in
    [-max_shift, max_shift] along both axes, filling the uncovered border with zeros (black).
    `generator`, when given, must live on x's device; None uses torch's global RNG.
    With both at 0 the result equals x.
    """
    if max_shift > 0 and x.ndim != 4:
        raise ValueError(
            _("augment_shift needs images of shape (n, c, h, w), got shape {shape}").format(shape=tuple(x.shape))
        )
    out = _shift_images(x, max_shift, generator) if max_shift > 0 else x
    if noise_std > 0:
        out = out + noise_std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    # Never hand back x itself: the caller may modify the result in place.
    return x.clone() if out is x else out


def _shift_images(x: torch.Tensor, max_shift: int, generator: torch.Generator | None) -> torch.Tensor:
    """Shift every image by its own (dy, dx): pad with zeros, then gather the shifted window."""
    n, c, h, w = x.shape
    s = max_shift
    offsets = torch.randint(-s, s + 1, (2, n), generator=generator, device=x.device)
    padded = F.pad(x, (s, s, s, s))  # zeros around the image: what a shift uncovers
    # Output pixel (i, j) reads padded pixel (i + s - dy, j + s - dx), so content moves by (+dy, +dx).
    rows = torch.arange(h, device=x.device) + s - offsets[0, :, None]  # (n, h)
    cols = torch.arange(w, device=x.device) + s - offsets[1, :, None]  # (n, w)
    x = padded.gather(2, rows[:, None, :, None].expand(n, c, h, w + 2 * s))
    return x.gather(3, cols[:, None, None, :].expand(n, c, h, w))
