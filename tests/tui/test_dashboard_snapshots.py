"""SVG snapshots of the dashboard at 120x36 and 80x24, from runs the real engine recorded
(tests/tui/data/record.py makes the fixtures): what a learner sees at the end of the overfitting
lesson, the same lesson over four seeds, a VAE run after an autoencoder run, a paused run and a
crashed one. Each test also asserts what the snapshot is there to show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_snapshots import make_app
from textual.pilot import Pilot
from waiting import until

from nnplay.engine.core.diagnosis import diagnose
from nnplay.tui.engine_client import EngineClient
from nnplay.tui.screens.dashboard import DashboardScreen
from nnplay.tui.state import RunState
from nnplay.tui.widgets import LossChart, OverfitPanel, RunHeader

DATA = Path(__file__).with_name("data")
SIZES = {"120x36": (120, 36), "80x24": (80, 24)}


def events(fixture: str) -> list[dict]:
    lines = (DATA / f"{fixture}.events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def replayed(fixture: str, epochs: int | None = None) -> RunState:
    """A recorded run as the app's state; with `epochs`, only what had arrived by the end of that epoch."""
    state = RunState()
    for event in events(fixture):
        if epochs is not None and (event["type"] == "done" or event.get("epoch", 0) > epochs):
            break
        state.ingest(event)
    return state


async def show(pilot: Pilot, screen: DashboardScreen) -> DashboardScreen:
    await pilot.app.push_screen(screen)
    chart = screen.query_one(LossChart)
    await until(pilot, lambda: "val" in chart.drawn, "the loss chart")
    return screen


@pytest.mark.parametrize("size", SIZES)
def test_overfit_small_data_finished(snap_compare, tmp_path, size) -> None:
    """Validation loss turns and rises; the verdict and its advice are readable in full."""
    state = replayed("overfit-small-data")
    shown: dict = {}

    async def run_before(pilot: Pilot) -> None:
        screen = await show(pilot, DashboardScreen(state=state))
        shown["verdict"] = screen.query_one(OverfitPanel).verdict
        shown["best"] = screen.query_one(LossChart).best_marker

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZES[size], run_before=run_before)
    assert shown["verdict"] == "overfitting" and shown["best"] == state.best[0]


@pytest.mark.parametrize("size", SIZES)
def test_overfit_small_data_over_four_seeds(snap_compare, tmp_path, size) -> None:
    """The members' mean with the min–max band of four seeds; the key sits above the curves."""
    state = replayed("overfit-small-data-sweep")
    drawn: dict = {}

    async def run_before(pilot: Pilot) -> None:
        screen = await show(pilot, DashboardScreen(state=state))
        drawn.update(screen.query_one(LossChart).drawn)

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZES[size], run_before=run_before)
    assert {"val min", "val max", "val"} <= set(drawn)


@pytest.mark.parametrize("size", SIZES)
def test_vae_after_autoencoder_has_no_ghost(snap_compare, tmp_path, size) -> None:
    """The autoencoder was pinned as a ghost; loading the VAE lesson is another experiment, so the
    VAE's charts show the VAE alone, on its own scale."""
    drawn: dict = {}

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        app.pin_ghost(replayed("digits-autoencoder"))
        app.choose_preset("digits-vae")
        await pilot.pause()
        app.live = replayed("digits-vae")
        screen = await show(pilot, DashboardScreen())
        drawn.update(screen.query_one(LossChart).drawn)
        app.clear_notifications()

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZES[size], run_before=run_before)
    assert set(drawn) == {"train", "val"}


@pytest.mark.parametrize("size", SIZES)
def test_paused_run(snap_compare, tmp_path, size) -> None:
    """Paused at epoch 60 of 150: the header says paused and shows no speed or ETA; the footer offers Resume;
    the verdict is the engine's diagnosis sent when the pause took hold, of the 60 epochs so far."""
    header: dict = {}
    state = replayed("overfit-small-data", epochs=60)
    history = [e for e in events("overfit-small-data") if e["type"] == "epoch" and e["epoch"] <= 60]
    baseline = (state.plan or {}).get("baseline_loss")
    state.ingest({"type": "diagnosis", "final": False, "epoch": 60, **diagnose(history, 10, 0.0, baseline)})

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        app.live = state
        app.paused = True
        screen = await show(pilot, DashboardScreen())
        text = screen.query_one(RunHeader).render_text
        header.update(status=screen.query_one(RunHeader).status, text=text)

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZES[size], run_before=run_before)
    assert header["status"] == "paused" and state.diagnosis["verdict"] == "overfitting"
    assert "samples/s" not in header["text"] and "ETA" not in header["text"]


@pytest.mark.parametrize("size", SIZES)
def test_crashed_run(snap_compare, tmp_path, size) -> None:
    """The engine died at epoch 40: crashed in the header, no Pause or Stop in the footer."""
    bindings: list[str] = []

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        app.live = replayed("overfit-small-data", epochs=40)
        screen = await show(pilot, DashboardScreen())
        app.post_message(EngineClient.Crashed(returncode=-9, stderr_tail="Killed"))
        await until(pilot, lambda: screen.query_one(RunHeader).status == "crashed", "the crash")
        app.clear_notifications()
        await pilot.pause()
        bindings.extend(b.binding.action for b in app.active_bindings.values())

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZES[size], run_before=run_before)
    assert not {"pause", "resume", "stop"} & set(bindings)
