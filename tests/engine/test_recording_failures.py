"""A run whose record cannot be written (a full disk) stops and says so, instead of training on
unrecorded; model.pt is written whole or not at all."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from nnplay.engine import experiment
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.runs import RunWriter, load_run


class FillingFile:
    """A text file that accepts `room` lines, then fails the way a full disk does."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room, self.name = file, room, file.name

    def write(self, text: str) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device", self.name)
        self.room -= 1
        return self.file.write(text)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def test_a_full_disk_stops_the_run_with_one_clear_error(tiny_config, runs_dir, monkeypatch) -> None:
    real_init = RunWriter.__init__

    def filling_init(self, path, config_toml, durable=True):
        real_init(self, path, config_toml, durable)
        self.events = FillingFile(self.events, room=6)  # the plan and a few epochs, then the disk is full

    monkeypatch.setattr(RunWriter, "__init__", filling_init)
    events: list[dict] = []
    config = tiny_config(training={"epochs": 500, "snapshot_every": 1000})
    with pytest.raises(experiment.RunFailed):
        experiment.run(config, Emitter(callback=events.append), root=runs_dir)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) < 20, "training went on after its record could not be written"
    (error,) = [e for e in events if e["type"] == "error"]
    assert error["kind"] == "record" and error["traceback"] is None
    assert "events.jsonl could not be written (No space left on device)" in error["message"]
    assert "the run was stopped" in error["message"].lower()
    run_dir = Path(error["run_dir"])
    assert json.loads((run_dir / "status.json").read_text())["status"] == "failed"
    assert load_run(run_dir).status == "failed"


def test_model_pt_is_never_left_half_written(tmp_path, monkeypatch) -> None:
    def full_disk(state, path):
        Path(path).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(experiment.torch, "save", full_disk)
    with pytest.raises(OSError):
        experiment.save_weights({}, tmp_path / "model.pt")
    assert list(tmp_path.iterdir()) == []


def test_an_abort_during_the_test_metrics_marks_the_run_stopped_with_every_epoch(tiny_config, runs_dir, monkeypatch):
    """A second Ctrl+C while the test split is measured: no summary, but the run reads as stopped and
    keeps every finished epoch (its summary is rebuilt from them)."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "measure_kept", interrupted)
    events: list[dict] = []
    with pytest.raises(KeyboardInterrupt):
        experiment.run(tiny_config(training={"epochs": 3}), Emitter(callback=events.append), root=runs_dir)
    (run_dir,) = runs_dir.iterdir()
    record = load_run(run_dir)
    assert record.status == "stopped" and record.summary is None
    assert [e["epoch"] for e in record.epochs] == [1, 2, 3]
    assert any(e["type"] == "warning" and "second interrupt" in e["message"] for e in events)


def test_on_a_full_disk_the_status_is_rewritten_in_place_with_the_reason(tmp_path, monkeypatch) -> None:
    from nnplay.engine.core import runs

    writer = RunWriter(tmp_path / "run", "")

    def no_room(path, data, durable=True):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runs, "write_json_atomic", no_room)
    writer.set_status("failed", reason="events.jsonl could not be written")
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "failed" and status["reason"] == "events.jsonl could not be written"
    writer.close()
