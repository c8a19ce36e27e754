"""Waiting on the app in Pilot tests: on a condition, never on a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

# A guard against a hang, not a time budget: a condition that holds returns at once, and a busy
# 2-core machine (the engine's subprocess starting slowly) must not fail a test that would pass.
WAIT_S = 60.0
# pause() without a delay waits for the process to look idle, up to a second while charts redraw;
# a short fixed step keeps polling prompt and still lets every pending message be handled.
POLL_S = 0.02


async def until(pilot: Pilot, predicate: Callable[[], bool], what: str = "", timeout: float = WAIT_S) -> None:
    """Let the app run until predicate() holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or 'a condition'}")
        await pilot.pause(POLL_S)


def notifications(app) -> list[str]:
    """The texts of the toasts the app has shown and not yet cleared (Textual keeps no public list)."""
    return [str(n.message) for n in app._notifications]
