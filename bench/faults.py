"""Fault campaigns: what a killed engine, Ctrl+C, a garbage-spewing client, a full disk and fuzzed
configs leave behind. Prints one line of figures per campaign; docs/robustness.md records them.

    .venv/bin/python bench/faults.py                 # every campaign (a few minutes on two cores)
    .venv/bin/python bench/faults.py kill ctrl-c     # some of them

Campaigns (each on tiny data, in a temporary run store):
  kill      SIGKILL the engine at random moments; every epoch event the client saw is in events.jsonl,
            the run reads as crashed, and a torn last line is the only damage.
  ctrl-c    SIGINT to `nnplay run`'s process group, as a terminal sends it, at start-up, mid-training
            and at any moment; one press: exit 0, status stopped (or completed), summary and test metrics.
  double    two presses 0.1 s apart: exit 0, status stopped, every finished epoch kept, no traceback.
  serve     1,000 garbage lines into `python -m nnplay.engine serve`: one answer each, then it exits at end of input.
  disk      a 256 KB tmpfs as the run store (root only): the run stops with a record error, exit 1.
  fuzz      1,000 random configs through validation in process and 100 through `python -m nnplay.engine`:
            no traceback, every refusal one sentence, exit 2.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nnplay.engine.core.config import ConfigError, validate  # noqa: E402
from nnplay.engine.core.runs import load_run  # noqa: E402

TINY = {"data": {"dataset": "moons", "n_samples": 200}, "model": {"hidden": [8]}, "training": {"batch_size": 16}}
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
NNPLAY = [sys.executable, "-c", "import sys; from nnplay.tui.cli import main; sys.exit(main())"]


def tiny(**training) -> dict:
    return {**TINY, "training": {**TINY["training"], **training}}


def start_engine(*args: str) -> subprocess.Popen:
    """`python -m nnplay.engine ARGS`, its three streams as text pipes."""
    return subprocess.Popen(
        [sys.executable, "-m", "nnplay.engine", *args],
        cwd=REPO,
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def engine(runs: Path, config: dict) -> subprocess.Popen:
    """A single run of `config`, sent as the first stdin line (stdin stays open for control lines)."""
    proc = start_engine("--runs", str(runs))
    proc.stdin.write(json.dumps(config) + "\n")
    proc.stdin.flush()
    return proc


def read_until(proc: subprocess.Popen, kind: str) -> list[dict]:
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1].get("type") == kind:
            break
    return events


def campaign_kill(n: int = 20) -> str:
    lost = torn = unreadable = 0
    seen_total = 0
    for _ in range(n):
        with tempfile.TemporaryDirectory() as tmp:
            runs = Path(tmp)
            proc = engine(runs, tiny(epochs=100_000, snapshot_every=1000))
            seen = [e for e in read_until(proc, "epoch")]
            deadline = time.monotonic() + random.uniform(0.05, 2.0)
            while time.monotonic() < deadline:
                seen.append(json.loads(proc.stdout.readline()))
            proc.kill()
            proc.wait()
            epochs_seen = {e["epoch"] for e in seen if e.get("type") == "epoch"}
            seen_total += len(epochs_seen)
            (run_dir,) = runs.iterdir()
            try:
                record = load_run(run_dir)
            except Exception:
                unreadable += 1
                continue
            lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
            torn += sum(1 for line in lines if not line.endswith("}"))
            lost += len(epochs_seen - {e["epoch"] for e in record.epochs})
            assert record.status == "crashed", record.status
    return f"kill: {n} SIGKILLs, {seen_total} epochs seen by the client, {lost} lost, {torn} torn lines, {unreadable} unreadable runs"


def nnplay_run(runs: Path, preset: Path, *sets: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*NNPLAY, "--runs", str(runs), "run", str(preset), *(a for s in sets for a in ("--set", s))],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which the "terminal" below signals
    )


def write_preset(tmp: Path, config: dict) -> Path:
    import tomli_w

    path = tmp / "faults.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def campaign_ctrl_c(n_each: int = 4, presses: int = 1) -> str:
    outcomes: dict[str, list[str]] = {}
    for moment, low, high in (("start-up", 0.2, 1.5), ("mid-training", 6.0, 8.0), ("any moment", 0.2, 15.0)):
        for _ in range(n_each):
            with tempfile.TemporaryDirectory() as tmp:
                runs = Path(tmp) / "runs"
                preset = write_preset(Path(tmp), {**tiny(epochs=200), "data": {"dataset": "moons", "n_samples": 4000}})
                proc = nnplay_run(runs, preset)
                time.sleep(random.uniform(low, high))
                for press in range(presses):
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGINT)
                    if press + 1 < presses:
                        time.sleep(0.1)
                _, err = proc.communicate(timeout=300)
                dirs = list(runs.iterdir()) if runs.is_dir() else []
                record = load_run(dirs[0]) if dirs else None
                ok = proc.returncode == 0 and "Traceback" not in err
                if record is not None:
                    ok = ok and record.status in ("stopped", "completed")
                    if presses == 1 and record.epochs:  # a press before the first epoch leaves nothing to test
                        ok = ok and record.summary is not None and (record.last("done") or {}).get("test") is not None
                outcomes.setdefault(moment, []).append("ok" if ok else f"BAD rc={proc.returncode} {err[-200:]!r}")
    name = "ctrl-c" if presses == 1 else "double"
    return f"{name}: " + "; ".join(
        f"{moment} {sum(o == 'ok' for o in got)}/{len(got)} clean" + "".join(f" [{o}]" for o in got if o != "ok")
        for moment, got in outcomes.items()
    )


def campaign_serve(lines: int = 1000) -> str:
    proc = start_engine("serve")
    garbage = [
        '{"cmd": ["plan"]}',
        '{"cmd": {"a": 1}}',
        "[" * 100_000,
        "x" * 1_000_000,
        '{"cmd": "plan", "config": "moons"}',
    ]
    sent = [
        random.choice(garbage) if i % 2 else "".join(chr(random.randint(33, 126)) for _ in range(50))
        for i in range(lines)
    ]
    out, err = proc.communicate("".join(line + "\n" for line in sent), timeout=600)
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    errors = [a for a in answers if a.get("type") == "error"]
    longest = max((len(a.get("message", "")) for a in errors), default=0)
    return (
        f"serve: {lines} bad lines, {len(errors)} error answers (longest {longest} characters), "
        f"exit {proc.returncode} at end of input, traceback in stderr: {'Traceback' in err}"
    )


def campaign_disk() -> str:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "disk: skipped (needs root to mount a small tmpfs)"
    mount = Path(tempfile.mkdtemp())
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True).returncode:
        return "disk: skipped (mounting a tmpfs was refused here)"
    try:
        proc = engine(mount, tiny(epochs=100_000, snapshot_every=1))
        out, _ = proc.communicate(timeout=600)
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        errors = [e for e in events if e.get("type") == "error"]
        seen = sum(e.get("type") == "epoch" for e in events)
        status = json.loads(next(mount.iterdir()).joinpath("status.json").read_text()).get("status")
        return (
            f"disk: 256 KB run store: {seen} epochs before the stop, exit {proc.returncode}, "
            f"error kind {errors[-1].get('kind') if errors else None!r}, status.json {status!r}"
        )
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
        mount.rmdir()


def random_value(rng: random.Random):
    return rng.choice(
        [
            0,
            -1,
            1,
            2**70,
            1e308,
            float("inf"),
            float("nan"),
            "",
            "x" * 5000,
            "[/b]",
            [],
            [0] * 3,
            {},
            None,
            True,
            "full",
        ]
    )


def random_config(rng: random.Random) -> dict:
    sections = {
        "data": ["dataset", "n_samples", "noise", "train", "val", "test", "k_folds", "seq_len", "classes"],
        "model": ["architecture", "hidden", "activation", "conv_channels", "latent", "freeze"],
        "training": ["epochs", "batch_size", "seed", "device", "precision", "eval_every"],
        "optimizer": ["kind", "lr", "momentum"],
        "regularization": ["dropout", "l2", "min_delta", "patience"],
        "sweep": ["seeds", "parameter", "values"],
    }
    config: dict = {"data": dict(TINY["data"]), "training": {"epochs": 1}}
    for _ in range(rng.randint(1, 4)):
        section = rng.choice(list(sections))
        config.setdefault(section, {})[rng.choice(sections[section])] = random_value(rng)
    return config


def campaign_fuzz(in_process: int = 1000, through_cli: int = 100) -> str:
    rng = random.Random(0)
    crashes, refused, accepted = [], 0, 0
    for _ in range(in_process):
        config = random_config(rng)
        try:
            validate(config)
            accepted += 1
        except ConfigError as exc:
            refused += 1
            assert all(len(p.message) < 600 and "\n" not in p.message for p in exc.problems), str(exc)
        except Exception as exc:  # any other exception type is a crash
            crashes.append(f"{type(exc).__name__}: {config}")
    cli_bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(through_cli):
            config = random_config(rng)
            result = subprocess.run(
                [sys.executable, "-m", "nnplay.engine", "--runs", str(Path(tmp) / "runs")],
                cwd=REPO,
                env=ENV,
                input=json.dumps(config, allow_nan=True) + "\n",
                capture_output=True,
                text=True,
                timeout=600,
            )
            if "Traceback" in result.stderr or result.returncode not in (0, 1, 2, 3):
                cli_bad.append(f"rc={result.returncode} {result.stderr[-300:]!r}")
    return (
        f"fuzz: {in_process} configs in process ({accepted} accepted, {refused} refused, one sentence per problem, "
        f"{len(crashes)} crashes); {through_cli} through `python -m nnplay.engine` ({len(cli_bad)} tracebacks or odd exits)"
        + "".join(f"\n  {c}" for c in (crashes + cli_bad)[:5])
    )


CAMPAIGNS = {
    "kill": campaign_kill,
    "ctrl-c": campaign_ctrl_c,
    "double": lambda: campaign_ctrl_c(n_each=2, presses=2),
    "serve": campaign_serve,
    "disk": campaign_disk,
    "fuzz": campaign_fuzz,
}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(CAMPAIGNS)
    for name in chosen:
        started = time.perf_counter()
        print(CAMPAIGNS[name](), f"({time.perf_counter() - started:.0f} s)", flush=True)
