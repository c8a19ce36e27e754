"""Fixtures of the app's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set how many epochs the fake engine runs and how long each takes."""

    def configure(epochs: int = 8, delay: float = 0.01, **extra: str) -> None:
        monkeypatch.setenv("FAKE_EPOCHS", str(epochs))
        monkeypatch.setenv("FAKE_DELAY", str(delay))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)

    configure()
    return configure
