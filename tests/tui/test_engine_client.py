"""EngineClient against the scripted fake engine (fast, every failure mode) and once against the real one.

Every wait is on a posted message with a deadline (asyncio.wait_for), never a sleep: a hang fails.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from nnplay.engine.core.runs import load_run
from nnplay.tui.engine_client import EngineClient, EngineMessage
from nnplay.tui.state import RunState

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
WAIT_S = 60.0  # a guard against a hang, not a time budget: a busy machine must not fail a test that would pass
REAL_ENGINE_WAIT_S = 90.0  # importing torch on a busy 2-core machine

TINY = {"name": "tiny", "data": {"dataset": "moons", "n_samples": 200}, "training": {"batch_size": 32}}


class Host(App):
    """A bare app hosting the client and recording every message it posts."""

    def __init__(self, command: list[str] | None, runs_dir: Path | None = None) -> None:
        super().__init__()
        self.command = command
        self.runs_dir = runs_dir
        self.messages: list[EngineMessage] = []
        self.changed = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Static("host")
        yield EngineClient(self.runs_dir, command=self.command, id="engine")

    @property
    def client(self) -> EngineClient:
        return self.query_one(EngineClient)

    def record(self, message: EngineMessage) -> None:
        self.messages.append(message)
        self.changed.set()

    @on(EngineClient.Ready, "#engine")  # the selector matches through the message's control
    def record_ready(self, message: EngineClient.Ready) -> None:
        self.record(message)

    def on_engine_client_plan_ready(self, message: EngineClient.PlanReady) -> None:
        self.record(message)

    def on_engine_client_plan_failed(self, message: EngineClient.PlanFailed) -> None:
        self.record(message)

    def on_engine_client_event(self, message: EngineClient.Event) -> None:
        self.record(message)

    def on_engine_client_malformed(self, message: EngineClient.Malformed) -> None:
        self.record(message)

    def on_engine_client_crashed(self, message: EngineClient.Crashed) -> None:
        self.record(message)

    def of(self, kind: type[EngineMessage]) -> list:
        return [m for m in self.messages if type(m) is kind]

    def events(self, type_: str | None = None) -> list[dict]:
        return [m.event for m in self.of(EngineClient.Event) if type_ is None or m.type == type_]

    async def until(self, predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
        """Wait for messages until predicate() holds; fail after `timeout` seconds."""

        async def watch() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        try:
            await asyncio.wait_for(watch(), timeout)
        except TimeoutError:
            seen = [
                type(m).__name__ + (f":{m.type}" if isinstance(m, EngineClient.Event) else "")
                for m in self.messages[-15:]
            ]
            raise AssertionError(f"condition not met within {timeout} s; last messages: {seen}") from None

    async def until_done(self, timeout: float = WAIT_S) -> dict:
        await self.until(lambda: bool(self.events("done")), timeout)
        return self.events("done")[-1]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Host]:
    """Host(scenario, epochs=..., delay=...) running the fake engine; env vars reach the subprocess."""

    def make(scenario: str = "normal", epochs: int = 5, delay: float = 0.0, **env: str) -> Host:
        monkeypatch.setenv("FAKE_EPOCHS", str(epochs))
        monkeypatch.setenv("FAKE_DELAY", str(delay))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return Host([sys.executable, str(FAKE_ENGINE), scenario])

    return make


async def test_hello_posts_ready(fake) -> None:
    app = fake()
    async with app.run_test():
        await app.until(lambda: bool(app.of(EngineClient.Ready)))
        hello = app.of(EngineClient.Ready)[0].hello
        assert hello["mode"] == "serve" and hello["protocol"] == 1
        assert app.client.hello == hello
        assert app.of(EngineClient.Ready)[0].control is app.client


async def test_slow_start_still_says_hello(fake) -> None:
    app = fake("slow_start")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert not app.of(EngineClient.Ready)  # torch is "loading"; the UI is up meanwhile
        await app.until(lambda: bool(app.of(EngineClient.Ready)))


async def test_plan_request_answers_with_batch_arithmetic(fake) -> None:
    app = fake()
    async with app.run_test():
        # Sent before the engine has even started: held until the process exists.
        first = app.client.request_plan(TINY)
        await app.until(lambda: bool(app.of(EngineClient.PlanReady)))
        answer = app.of(EngineClient.PlanReady)[0]
        assert answer.request_id == first
        assert (answer.plan["n_train"], answer.plan["iterations_per_epoch"]) == (120, 4)  # ceil(120 / 32)

        second = app.client.request_plan({"training": {"batch_size": 64}})  # 1000 samples: 600 train
        await app.until(lambda: len(app.of(EngineClient.PlanReady)) == 2)
        assert app.of(EngineClient.PlanReady)[1].request_id == second
        assert app.of(EngineClient.PlanReady)[1].plan["iterations_per_epoch"] == 10  # ceil(600 / 64)

        bad = app.client.request_plan({"training": {"batch_size": 5000}})
        await app.until(lambda: bool(app.of(EngineClient.PlanFailed)))
        failed = app.of(EngineClient.PlanFailed)[0]
        assert failed.request_id == bad and "batch_size" in failed.message
        assert not app.events()  # plan answers are not run events


async def test_requests_made_before_mount_are_sent_once_it_starts(fake) -> None:
    app = fake()
    client = EngineClient(command=app.command)
    early = client.request_plan(TINY)
    run_id = client.start_run(TINY)
    assert client.running  # queued until the process exists
    async with app.run_test():
        await app.mount(client)
        await app.until(lambda: bool(app.of(EngineClient.PlanReady)) and bool(app.events("done")))
        assert [m.request_id for m in app.of(EngineClient.PlanReady)] == [early]
        assert not client.running and run_id > early


async def test_only_the_newest_plan_answer_is_posted(fake) -> None:
    app = fake()
    async with app.run_test():
        await app.until(lambda: bool(app.of(EngineClient.Ready)))
        stale = app.client.request_plan({**TINY, "training": {"batch_size": 8}})
        middle = app.client.request_plan({**TINY, "training": {"batch_size": 16}})
        newest = app.client.request_plan({**TINY, "training": {"batch_size": 40}})
        await app.until(lambda: bool(app.of(EngineClient.PlanReady)))
        # A later round trip: had a stale answer been posted, it would have come before this one.
        last = app.client.request_plan(TINY)
        await app.until(lambda: any(m.request_id == last for m in app.of(EngineClient.PlanReady)))
        answers = [(m.request_id, m.plan["iterations_per_epoch"]) for m in app.of(EngineClient.PlanReady)]
        assert answers == [(newest, 3), (last, 4)]
        assert stale < middle < newest


async def test_run_posts_events_through_done_even_under_another_screen(fake) -> None:
    app = fake(epochs=5)
    async with app.run_test() as pilot:
        await app.push_screen(Screen())  # the client lives on the first screen; it keeps working
        await pilot.pause()
        app.client.start_run({**TINY, "training": {"batch_size": 32, "snapshot_every": 2, "step_every": 1}})
        assert app.client.running
        done = await app.until_done()
        assert done["status"] == "completed"
        assert not app.client.running
        types = [e["type"] for e in app.events()]
        assert types[0] == "plan" and types[-1] == "done"
        assert types.count("epoch") == 5 and "snapshot" in types and "step" in types
        assert [d["final"] for d in app.events("diagnosis")][-1] is True
        assert {s["view"] for s in app.events("snapshot")} >= {"boundary", "layers"}
        state = RunState()
        for event in app.events():
            state.ingest(event)
        assert state.status == "completed" and len(state.series["train_loss"]) == 5
        losses = [e["train_loss"] for e in app.events("epoch")]
        assert losses == sorted(losses, reverse=True)


async def test_pause_holds_epochs_and_resume_continues(fake) -> None:
    app = fake(epochs=400, delay=0.02)
    async with app.run_test():
        client = app.client
        client.start_run(TINY)
        await app.until(lambda: len(app.events("epoch")) >= 2)
        client.pause()
        assert client.paused
        # The engine reads commands in order: once this answer is back, the pause has been applied.
        barrier = client.request_plan(TINY)
        await app.until(lambda: any(m.request_id == barrier for m in app.of(EngineClient.PlanReady)))
        held = len(app.events("epoch"))
        # Absence can only be shown over time: 25 epoch-lengths pass with at most the epoch in progress.
        with pytest.raises(AssertionError):
            await app.until(lambda: len(app.events("epoch")) > held + 1, timeout=0.5)
        client.resume()
        assert not client.paused
        await app.until(lambda: len(app.events("epoch")) > held + 3)
        client.stop()
        done = await app.until_done()
        assert done["status"] == "stopped"


async def test_stop_ends_the_run_stopped(fake) -> None:
    app = fake(epochs=500, delay=0.01)
    async with app.run_test():
        app.client.start_run(TINY)
        await app.until(lambda: len(app.events("epoch")) >= 2)
        app.client.stop()
        done = await app.until_done()
        assert done["status"] == "stopped"
        assert len(app.events("epoch")) < 500
        assert not app.client.running
        assert app.events("diagnosis")[-1]["final"] is True


async def test_a_refused_run_is_an_event_and_ends_the_run(fake) -> None:
    app = fake()
    async with app.run_test():
        run_id = app.client.start_run({"training": {"batch_size": 5000}})
        await app.until(lambda: bool(app.events("error")))
        error = app.events("error")[0]
        assert error["id"] == run_id and error["kind"] == "config"
        assert not app.client.running
        assert not app.of(EngineClient.PlanFailed)  # the id is a run's, not a plan request's


async def test_restart_of_a_live_engine_lets_the_old_one_quit(fake) -> None:
    app = fake()
    async with app.run_test():
        await app.until(lambda: bool(app.of(EngineClient.Ready)))
        old = app.client._engine.proc
        app.client.restart()
        await app.until(lambda: len(app.of(EngineClient.Ready)) == 2)
        assert old is not None and await asyncio.wait_for(old.wait(), WAIT_S) == 0  # end of input: quit
        assert app.client._engine.proc is not old
        assert not app.of(EngineClient.Crashed)


async def test_crash_posts_crashed_once_and_restart_recovers(fake) -> None:
    app = fake("crash", epochs=10)
    async with app.run_test() as pilot:
        client = app.client
        client.start_run(TINY)
        await app.until(lambda: bool(app.of(EngineClient.Crashed)))
        crashed = app.of(EngineClient.Crashed)[0]
        assert crashed.returncode == 1
        assert (
            "Traceback" in crashed.stderr_tail and "RuntimeError: fake engine crashed on purpose" in crashed.stderr_tail
        )
        assert len(app.events("epoch")) == 3
        assert not client.running and not client.alive
        assert app.is_running  # the app survives its engine

        client.start_run(TINY)  # nothing to send it to
        client.pause()
        assert not client.running
        refused = client.request_plan(TINY)
        await app.until(lambda: bool(app.of(EngineClient.PlanFailed)))
        assert app.of(EngineClient.PlanFailed)[0].request_id == refused
        await pilot.pause()
        assert len(app.of(EngineClient.Crashed)) == 1

        client.restart()  # the unanswered plan request goes to the new engine
        await app.until(lambda: len(app.of(EngineClient.Ready)) == 2)
        await app.until(lambda: any(m.request_id == refused for m in app.of(EngineClient.PlanReady)))
        assert client.alive


async def test_malformed_lines_are_reported_and_reading_goes_on(fake) -> None:
    app = fake("malformed", epochs=6)
    async with app.run_test():
        app.client.start_run(TINY)
        done = await app.until_done()
        assert done["status"] == "completed"
        bad = [m.line for m in app.of(EngineClient.Malformed)]
        assert len(bad) == 2 and bad[0] == "this line is not JSON" and '"note"' in bad[1]
        assert len(app.events("epoch")) == 6  # epochs 2..6 came after the bad lines


async def test_nan_and_infinity_literals_arrive_as_floats_and_stay_out_of_series(fake) -> None:
    app = fake("nan", epochs=10)
    async with app.run_test():
        app.client.start_run(TINY)
        done = await app.until_done()
        assert done["status"] == "diverged" and done["hint"]
        assert not app.of(EngineClient.Malformed)
        epochs = app.events("epoch")
        assert math.isnan(epochs[2]["train_loss"]) and math.isinf(epochs[2]["val_loss"])
        assert epochs[3]["train_loss"] is None
        state = RunState()
        for event in app.events():
            state.ingest(event)
        xs, ys = state.series["train_loss"].points()
        assert xs == [1, 2] and all(math.isfinite(y) for y in ys)
        assert state.status == "diverged"


async def test_a_flood_of_steps_is_merged(fake) -> None:
    sent = 20_000
    app = fake("flood", epochs=4, FAKE_STEPS=str(sent))
    async with app.run_test() as pilot:
        app.client.start_run(TINY)
        await app.until(lambda: bool(app.events("step")))
        await asyncio.wait_for(pilot.pause(), WAIT_S)  # the UI still answers mid-flood
        await app.until_done(timeout=60)
        await pilot.pause()
        messages = app.events("step")
        received = sum(len(e["steps"]) for e in messages)
        assert len(messages) < sent / 20
        assert 0 < received <= sent
        assert len(app.events("epoch")) == 4
        iterations = [step[1] for e in messages for step in e["steps"]]
        assert iterations == sorted(iterations)  # merging keeps the order


def test_queued_step_events_merge_instead_of_dropping() -> None:
    older = EngineClient.Event({"type": "step", "fold": None, "steps": [[1, 1, 0.5]]})
    newer = EngineClient.Event({"type": "step", "fold": None, "steps": [[1, 2, 0.4]]})
    assert older.can_replace(newer)
    assert newer.event["steps"] == [[1, 1, 0.5], [1, 2, 0.4]]
    epoch = EngineClient.Event({"type": "epoch", "epoch": 1})
    assert not older.can_replace(epoch) and not epoch.can_replace(newer)
    other_fold = EngineClient.Event({"type": "step", "fold": 1, "steps": []})
    assert not newer.can_replace(other_fold)


async def test_quitting_the_app_mid_run_stops_the_run_cleanly(fake, tmp_path: Path) -> None:
    app = fake(epochs=1000, delay=0.01)
    app.runs_dir = tmp_path / "runs"
    async with app.run_test():
        app.client.start_run(TINY)
        await app.until(lambda: len(app.events("epoch")) >= 2)
        proc = app.client._engine.proc
        run_dir = Path(app.events("plan")[0]["run_dir"])
    # Leaving run_test unmounted the client, whose on_unmount shut the engine down.
    assert proc is not None and proc.returncode == 0
    record = load_run(run_dir)
    assert record.status == "stopped" and record.summary["status"] == "stopped"
    assert not app.of(EngineClient.Crashed)


@pytest.mark.slow
async def test_shutdown_mid_run_of_the_real_engine_keeps_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    app = Host(None, tmp_path / "runs")
    config = {
        "name": "shutdown",
        "data": {"dataset": "moons", "n_samples": 200},
        "model": {"hidden": [8, 8]},
        # 500 epochs take ~2 s here, a race with the UI; 5,000 keep the run surely in progress.
        "training": {"epochs": 5000, "batch_size": 32, "device": "cpu"},
    }
    async with app.run_test():
        await app.until(lambda: bool(app.of(EngineClient.Ready)), timeout=REAL_ENGINE_WAIT_S)
        app.client.start_run(config)
        await app.until(lambda: len(app.events("epoch")) >= 3, timeout=REAL_ENGINE_WAIT_S)
        proc = app.client._engine.proc
        assert proc is not None
        timeout = 20.0
        loop = asyncio.get_running_loop()
        began = loop.time()
        returncode = await asyncio.wait_for(app.client.shutdown(timeout=timeout), timeout + 5)
        assert loop.time() - began < timeout  # it quit on request: SIGTERM comes only after the timeout
        assert returncode == 0
        assert proc.returncode == 0
        assert not app.of(EngineClient.Crashed)
        run_dir = Path(app.events("plan")[0]["run_dir"])
    record = load_run(run_dir)
    assert record.summary is not None and record.summary["status"] == "stopped"
    assert record.status == "stopped"
    assert 3 <= record.summary["epochs_run"] < 5000
