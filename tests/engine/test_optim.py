"""The fused-Adam shortcut (engine/training/optim.py FusedAdamStep) is `optimizer.step()`, bit for bit.

It skips torch's per-call bookkeeping after the first update; these tests train the same model twice,
once through `optimizer.step()` and once through the shortcut, and compare every weight and every
piece of optimizer state exactly, in the situations where a shortcut could drift: a schedule changing
the learning rate, coupled and decoupled weight decay, frozen layers, a layer some batches do not reach,
and step hooks (which only `optimizer.step()` calls).
"""

from __future__ import annotations

import types

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from nnplay.engine.training.optim import FusedAdamStep, stepper

STEPS = 12


class Branchy(nn.Module):
    """An MLP whose `extra` layer only takes part in even-numbered updates (its gradient is None in the
    others), and whose first layer can be frozen."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 8)
        self.second = nn.Linear(8, 2)
        self.extra = nn.Linear(8, 2)
        self.use_extra = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.first(x))
        return self.second(h) + (self.extra(h) if self.use_extra else 0)


def train(make_optimizer, *, shortcut: bool, freeze_first: bool = False, skip_extra: bool = False):
    """STEPS updates of a fresh Branchy model; returns its weights, the optimizer's state and how many
    times the optimizer's own step() ran."""
    torch.manual_seed(0)
    model = Branchy()
    if freeze_first:
        model.first.requires_grad_(False)
    optimizer = make_optimizer(model.parameters())
    calls = 0
    own_step = optimizer.step

    def counted_step(_self, *args, **kwargs):
        nonlocal calls
        calls += 1
        return own_step(*args, **kwargs)

    optimizer.step = types.MethodType(counted_step, optimizer)  # type: ignore[method-assign]
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    update = stepper(optimizer) if shortcut else optimizer.step
    generator = torch.Generator().manual_seed(1)
    for i in range(STEPS):
        model.use_extra = not (skip_extra and i % 2)
        x = torch.randn(16, 3, generator=generator)
        y = torch.randint(0, 2, (16,), generator=generator)
        for p in model.parameters():
            p.grad = None
        nn.functional.cross_entropy(model(x), y).backward()
        update()
        schedule.step()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    state = {
        name: {k: v.clone() for k, v in optimizer.state[p].items()}
        for name, p in model.named_parameters()
        if p in optimizer.state
    }
    return weights, state, calls


def adamw(params):
    return torch.optim.AdamW(params, lr=0.05, weight_decay=0.1, fused=True)


def adam_coupled_decay(params):
    return torch.optim.Adam(params, lr=0.05, weight_decay=0.1, fused=True)


def assert_identical(a, b) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            assert_identical(a[key], b[key])
        else:
            assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("make_optimizer", [adamw, adam_coupled_decay], ids=["adamw", "adam"])
@pytest.mark.parametrize(
    "situation",
    [{}, {"freeze_first": True}, {"skip_extra": True}],
    ids=["plain", "frozen-layer", "layer-skipped-in-some-updates"],
)
def test_the_shortcut_updates_exactly_as_optimizer_step(make_optimizer, situation):
    weights, state, _ = train(make_optimizer, shortcut=False, **situation)
    fast_weights, fast_state, calls = train(make_optimizer, shortcut=True, **situation)
    assert_identical(weights, fast_weights)
    assert_identical(state, fast_state)
    # The shortcut is taken: torch's own step runs for the first update (which creates the state) and,
    # where a layer sits out every other update, for the updates it sits out.
    expected = 1 + (STEPS // 2 if situation.get("skip_extra") else 0)
    assert calls == expected


def test_step_hooks_are_honoured():
    seen: list[int] = []
    handle = register_optimizer_step_post_hook(lambda optimizer, args, kwargs: seen.append(1))
    try:
        weights, state, calls = train(adamw, shortcut=True)
    finally:
        handle.remove()
    assert calls == STEPS and len(seen) == STEPS
    reference, reference_state, _ = train(adamw, shortcut=False)
    assert_identical(weights, reference)
    assert_identical(state, reference_state)


def test_other_optimizers_use_their_own_step():
    params = [nn.Parameter(torch.zeros(3))]
    sgd = torch.optim.SGD(params, lr=0.1)
    assert stepper(sgd) == sgd.step
    unfused = torch.optim.AdamW(params, lr=0.1, fused=False)
    assert stepper(unfused) == unfused.step
    amsgrad = torch.optim.AdamW(params, lr=0.1, amsgrad=True, fused=True)
    assert stepper(amsgrad) == amsgrad.step
    assert isinstance(stepper(torch.optim.AdamW(params, lr=0.1, fused=True)), FusedAdamStep)
