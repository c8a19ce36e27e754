"""The autoencoder and the variational autoencoder for images (any number of channels: they are flattened).

Both return reconstruction logits, not pixels: the trainer applies BCE-with-logits (stable)
or a sigmoid followed by MSE. Parameters are named `encoder.<i>.linear.*`, `to_latent.*`
(or `to_mu.*` and `to_logvar.*`), `decoder.<i>.linear.*` and `to_pixels.*`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from nnplay.engine.models.layers import dense_stack, flat_size


class VAEOutput(NamedTuple):
    """What a VAE's forward pass returns: reconstruction logits and the approximate posterior q(z|x)."""

    recon_logits: Tensor
    mu: Tensor
    logvar: Tensor


class _ImageCoder(nn.Module):
    """Shared parts: a flattening encoder MLP and a mirrored decoder MLP ending in pixel logits."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        hidden: list[int],
        latent: int,
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.image_shape = tuple(input_shape)
        self.latent = latent
        n_pixels = flat_size(input_shape)
        self.flatten = nn.Flatten()
        self.encoder, encoded_width = dense_stack(n_pixels, hidden, activation, batch_norm, dropout)
        # Registered between encoder and decoder so that parameters list in the order data flows.
        self.add_code_layers(encoded_width, latent)
        self.decoder, decoded_width = dense_stack(latent, hidden[::-1], activation, batch_norm, dropout)
        self.to_pixels = nn.Linear(decoded_width, n_pixels)
        self.unflatten = nn.Unflatten(1, self.image_shape)

    def add_code_layers(self, encoded_width: int, latent: int) -> None:
        """Create the layers from the encoder's last hidden layer to the code."""
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:
        """Reconstruction logits shaped (batch, *image_shape) from codes shaped (batch, latent)."""
        return self.unflatten(self.to_pixels(self.decoder(z)))


class Autoencoder(_ImageCoder):
    """Encoder MLP → linear code of size `latent` → mirrored decoder MLP → pixel logits."""

    kind = "autoencoder"

    def add_code_layers(self, encoded_width: int, latent: int) -> None:
        """One linear layer from the encoder's last hidden layer to the code."""
        self.to_latent = nn.Linear(encoded_width, latent)

    def encode(self, x: Tensor) -> Tensor:
        """The code z, shaped (batch, latent), of images shaped (batch, *image_shape)."""
        return self.to_latent(self.encoder(self.flatten(x)))

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruction logits of a batch of images, shaped like them."""
        return self.decode(self.encode(x))


class VAE(_ImageCoder):
    """Variational autoencoder: the encoder gives a gaussian q(z|x) = N(mu, exp(logvar)).

    Training samples z with the reparameterization trick; evaluation uses z = mu, so an
    eval-mode forward pass is deterministic.
    """

    kind = "vae"

    def add_code_layers(self, encoded_width: int, latent: int) -> None:
        """Two linear layers from the encoder's last hidden layer: the code's mean and log-variance."""
        self.to_mu = nn.Linear(encoded_width, latent)
        self.to_logvar = nn.Linear(encoded_width, latent)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance of q(z|x), each shaped (batch, latent)."""
        features = self.encoder(self.flatten(x))
        return self.to_mu(features), self.to_logvar(features)

    def reparameterize(self, mu: Tensor, logvar: Tensor) -> Tensor:
        """z = mu + sigma * eps in training (differentiable in mu and sigma); z = mu in eval mode."""
        if not self.training:
            return mu
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def forward(self, x: Tensor) -> VAEOutput:
        """Reconstruction logits of a sampled code (the mean when evaluating), and the code's mean and log-variance."""
        mu, logvar = self.encode(x)
        return VAEOutput(self.decode(self.reparameterize(mu, logvar)), mu, logvar)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """`n` new images in [0, 1], decoded from z ~ N(0, I), shaped (n, *image_shape).

        Runs in eval mode (batch norm uses its running statistics, dropout is off) and
        restores the previous mode. The noise is drawn on the generator's device, then moved.
        """
        device = torch.device(device) if device is not None else self.to_pixels.weight.device
        noise_device = generator.device if generator is not None else device
        z = torch.randn(n, self.latent, generator=generator, device=noise_device).to(device)
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self.decode(z.to(self.to_pixels.weight.dtype)))
        finally:
            self.train(was_training)
