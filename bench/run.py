"""nnplay's speed benchmarks, as ratios measured in one run (`make bench`).

Training: ref, tight, tight+fused, engine, engine+stream (its reader drawing charts as the app
does) and lightning (where installed: the `bench` extra) train the same workloads in interleaved
rounds, the order of the styles rotating each round, so that a noisy machine slows every style alike. Then the app: first frame, import time, start to first epoch
and memory over a long run. Prints tables with every target marked PASS or MISS and writes
everything to bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import app_probes
import styles
import sweep as sweep_bench
import torch
from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
THREADS = 1  # the engine's default (engine/runtime.py): per-step overhead dominates these models

# Targets. Throughput ratios: >= 1.0 means the first is at least as fast.
ENGINE_VS_TIGHT = 1.0  # on every workload
ENGINE_VS_TIGHT_FUSED = 0.97  # on every workload: within 3 % of the best hand-written loop
ENGINE_VS_LIGHTNING = 2.0  # on every workload, where lightning is installed
ENGINE_VS_REF = 2.0  # on moons at batch 256
ENGINE_VS_REF_WORKLOAD = "moons-b256"
STREAM_VS_ENGINE = 0.95  # streaming JSON lines to a reader that draws, as the app does, costs at most 5 %
READER_FPS = 10.0  # frames the engine+stream reader draws a second (--reader-fps)
FIRST_FRAME_S = 0.6
START_TO_EPOCH_S = 4.0
MEMORY_GROWTH_MB = 50.0

console = Console(highlight=False, width=None if sys.stdout.isatty() else 132)


def log(message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")


def device_name(device: torch.device) -> str:
    """'cpu', or 'cuda (NVIDIA H100 80GB HBM3)'."""
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type


def mark(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]MISS[/red]"


def measure(
    style: str, workload: styles.Workload, data: styles.Data, runs_root: Path, lightning, reader_fps: float
) -> dict:
    gc.collect()
    if style == "ref":
        return styles.run_ref(workload, data, workload.epochs)
    if style == "tight":
        return styles.run_tight(workload, data, workload.epochs)
    if style == "tight+fused":
        return styles.run_tight_fused(workload, data, workload.epochs)
    if style == "engine":
        result = styles.run_engine(workload, workload.epochs, runs_root)
        torch.set_num_threads(THREADS)  # the engine set its own (the same); keep ours explicit
        return result
    if style == "engine+stream":
        return styles.run_stream(workload, workload.epochs, runs_root, 1 / reader_fps if reader_fps else None)
    if style == "lightning":
        result = styles.run_lightning(workload, data, workload.epochs, lightning)
        torch.set_num_threads(THREADS)  # whatever the Trainer set, the next style runs as the others did
        return result
    raise ValueError(style)


def summarize(per_round: list[float], n_train: int) -> dict:
    """min and median ms/epoch over rounds, and samples/s at the median."""
    ms = [s * 1e3 for s in per_round]
    median = statistics.median(ms)
    return {
        "ms_per_epoch_min": min(ms),
        "ms_per_epoch_median": median,
        "samples_per_s": n_train / (median / 1e3),
        "samples_per_s_best": n_train / (min(ms) / 1e3),
        "rounds_ms": ms,
    }


def median_fields(rows: list[dict | None]) -> dict:
    """Each numeric field's median over the rows that have it (rows may be None where /proc has no schedstat)."""
    rows = [r for r in rows if r]
    keys = {k for r in rows for k, v in r.items() if v is not None}
    return {k: statistics.median(r[k] for r in rows if r.get(k) is not None) for k in sorted(keys)}


def paired_ratio(first: list[float], second: list[float]) -> float:
    """Throughput of `first` over that of `second` (from seconds per epoch): the median of the
    per-round ratios, each comparing runs made in the same round, under the same noise."""
    return statistics.median(b / a for a, b in zip(first, second, strict=True))


def train_benchmarks(rounds: int, workloads: list[styles.Workload], reader_fps: float) -> dict:
    lightning, lightning_note = styles.lightning_module()
    names = ["ref", "tight", "tight+fused", "engine", "engine+stream"] + (["lightning"] if lightning else [])
    if lightning_note:
        log(f"lightning: {lightning_note}")
    results: dict = {}
    data = {}
    for w in workloads:
        plain, planned = styles.check_same_model(w)
        if plain != planned:
            raise RuntimeError(f"{w.name}: the plain model has {plain} parameters, the engine's {planned}")
        data[w.name] = styles.prepare(w)
        results[w.name] = {
            "title": w.title,
            "epochs_timed": w.epochs,
            "batch_size": w.batch_size,
            "n_train": data[w.name].n_train,
            "params": plain,
            "raw": {name: [] for name in names},
        }
    with tempfile.TemporaryDirectory(prefix="nnplay-bench-runs-") as tmp:
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            log(f"round {r + 1}/{rounds}: {' → '.join(order)}")
            for w in workloads:
                for name in order:
                    runs_root = Path(tmp) / f"{w.name}-{name.replace('+', '-')}-{r}"
                    measured = measure(name, w, data[w.name], runs_root, lightning, reader_fps)
                    results[w.name]["raw"][name].append(measured)
    for w in workloads:
        res = results[w.name]
        raw, n = res["raw"], res["n_train"]
        rows = {name: summarize([m["s_per_epoch"] for m in raw[name]], n) for name in names}
        rows["engine (time_s)"] = summarize([m["time_s_per_epoch"] for m in raw["engine"]], n)
        rows["engine (whole run)"] = summarize([m["whole_run_s_per_epoch"] for m in raw["engine"]], n)
        res["styles"] = rows
        per = {name: [m["s_per_epoch"] for m in raw[name]] for name in names}
        res["ratios"] = {
            "engine/tight": paired_ratio(per["engine"], per["tight"]),
            "engine/tight+fused": paired_ratio(per["engine"], per["tight+fused"]),
            "engine/ref": paired_ratio(per["engine"], per["ref"]),
            "engine+stream/engine": paired_ratio(per["engine+stream"], per["engine"]),
        }
        if lightning:
            res["ratios"]["engine/lightning"] = paired_ratio(per["engine"], per["lightning"])
        res["stream"] = {
            "start_s_median": statistics.median(m["start_s"] for m in raw["engine+stream"]),
            "mb_streamed_median": statistics.median(m["mb_streamed"] for m in raw["engine+stream"]),
            "lines_median": statistics.median(m["lines"] for m in raw["engine+stream"]),
            "reader_cpu_share_median": statistics.median(m["reader_cpu_share"] for m in raw["engine+stream"]),
            "frames_per_s_median": statistics.median(m["frames_per_s"] for m in raw["engine+stream"]),
            "engine_clock_ms_per_epoch_median": 1e3
            * statistics.median(m["engine_clock_s_per_epoch"] for m in raw["engine+stream"]),
            # Shares of the timed window (Linux only): the engine subprocess's training thread, and the
            # in-process engine's, runnable but waiting for a core.
            "engine_schedule_median": median_fields([m["engine_schedule"] for m in raw["engine+stream"]]),
            "in_process_waiting_for_a_core_median": median_fields(
                [{"waiting": m["waiting_for_a_core"]} for m in raw["engine"]]
            ).get("waiting"),
            # CPU time per epoch of the training thread, which waiting for a core does not change: what
            # streaming itself costs the engine (events to stdout) besides the in-process run's work.
            "cpu_ms_per_epoch_median": {
                name: 1e3 * v
                for name, v in median_fields(
                    [
                        {"engine": e["cpu_s_per_epoch"], "engine+stream": s["engine_cpu_s_per_epoch"]}
                        for e, s in zip(raw["engine"], raw["engine+stream"], strict=True)
                    ]
                ).items()
            },
            "cpu_ratio": paired_ratio(
                [m["engine_cpu_s_per_epoch"] for m in raw["engine+stream"]],
                [m["cpu_s_per_epoch"] for m in raw["engine"]],
            )
            if all(m["engine_cpu_s_per_epoch"] for m in raw["engine+stream"])
            and all(m["cpu_s_per_epoch"] for m in raw["engine"])
            else None,
        }
    adam = sorted({m["adam"] for res in results.values() for m in res["raw"]["tight+fused"]})
    return {
        "styles": names,
        "tight_fused_adam": "/".join(adam),  # "fused", or "foreach" where the device has no fused kernel
        "reader_fps": reader_fps,
        "lightning": lightning_note or f"measured (lightning {lightning.__version__})",
        "workloads": results,
    }


def training_targets(training: dict) -> list[dict]:
    targets = []
    for name, res in training["workloads"].items():
        r = res["ratios"]
        targets.append(
            {
                "target": f"{name}: engine/tight ≥ {ENGINE_VS_TIGHT:.2f}×",
                "value": r["engine/tight"],
                "pass": r["engine/tight"] >= ENGINE_VS_TIGHT,
            }
        )
        targets.append(
            {
                "target": f"{name}: engine/tight+fused ≥ {ENGINE_VS_TIGHT_FUSED:.2f}×",
                "value": r["engine/tight+fused"],
                "pass": r["engine/tight+fused"] >= ENGINE_VS_TIGHT_FUSED,
            }
        )
        if name == ENGINE_VS_REF_WORKLOAD:
            targets.append(
                {
                    "target": f"{name}: engine/ref ≥ {ENGINE_VS_REF:.1f}×",
                    "value": r["engine/ref"],
                    "pass": r["engine/ref"] >= ENGINE_VS_REF,
                }
            )
        targets.append(
            {
                "target": f"{name}: engine+stream/engine ≥ {STREAM_VS_ENGINE:.2f}×",
                "value": r["engine+stream/engine"],
                "pass": r["engine+stream/engine"] >= STREAM_VS_ENGINE,
            }
        )
        if "engine/lightning" in r:
            targets.append(
                {
                    "target": f"{name}: engine/lightning ≥ {ENGINE_VS_LIGHTNING:.1f}×",
                    "value": r["engine/lightning"],
                    "pass": r["engine/lightning"] >= ENGINE_VS_LIGHTNING,
                }
            )
    return targets


def app_summary(app: dict) -> tuple[dict, list[dict]]:
    frames = [f["s"] for f in app["first_frame"]]
    frame_ok = [s for s in frames if s is not None]
    first_frame = statistics.median(frame_ok) if len(frame_ok) == len(frames) else None
    epoch = statistics.median(x["s"] for x in app["start_to_epoch"])
    memory = app["memory"]
    summary = {
        "import_tui_app_s_median": statistics.median(app["import_s"]),
        "first_frame_s_median": first_frame,
        "first_frame_s_min": min(frame_ok) if frame_ok else None,
        "start_to_first_epoch_s_median": epoch,
        "engine_hello_s_median": statistics.median(x["hello_s"] for x in app["start_to_epoch"]),
        "memory_growth_mb": memory["growth_mb"],
    }
    targets = [
        {
            "target": f"app first frame ≤ {FIRST_FRAME_S} s",
            "value": first_frame,
            "pass": first_frame is not None and first_frame <= FIRST_FRAME_S,
        },
        {
            "target": f"start to first epoch ≤ {START_TO_EPOCH_S} s",
            "value": epoch,
            "pass": epoch <= START_TO_EPOCH_S,
        },
        {
            "target": f"app peak memory growth over {app_probes.MEMORY_EPOCHS} epochs ≤ {MEMORY_GROWTH_MB:.0f} MB",
            "value": memory["growth_mb"],
            "pass": memory["growth_mb"] <= MEMORY_GROWTH_MB and memory["status"] == "completed",
        },
    ]
    return summary, targets


def print_training(training: dict, device: torch.device) -> None:
    table = Table(
        title=f"Training speed on {device_name(device)} "
        f"(torch threads = {THREADS} in-process; engine subprocess: its default)"
    )
    for column in ("workload", "style", "ms/epoch min", "ms/epoch median", "samples/s (median)"):
        table.add_column(column, justify="left" if column in ("workload", "style") else "right")
    for name, res in training["workloads"].items():
        for i, (style, row) in enumerate(res["styles"].items()):
            table.add_row(
                name if i == 0 else "",
                style,
                f"{row['ms_per_epoch_min']:.2f}",
                f"{row['ms_per_epoch_median']:.2f}",
                f"{row['samples_per_s']:,.0f}",
                end_section=i == len(res["styles"]) - 1,
            )
    console.print(table)
    ratios = Table(
        title="Throughput ratios (median of per-round ratios; ≥ 1.0 = the first is at least as fast; "
        "PASS/MISS: the targets below)"
    )
    lightning = any("engine/lightning" in res["ratios"] for res in training["workloads"].values())
    goals = {
        "engine/tight": ENGINE_VS_TIGHT,
        "engine/tight+fused": ENGINE_VS_TIGHT_FUSED,
        "engine/ref": None,
        "engine+stream/engine": STREAM_VS_ENGINE,
    } | ({"engine/lightning": ENGINE_VS_LIGHTNING} if lightning else {})
    ratios.add_column("workload")
    for column in goals:
        ratios.add_column(column, justify="right")
    for name, res in training["workloads"].items():
        r = res["ratios"]
        cells = [name]
        for column, goal in goals.items():
            if column == "engine/ref" and name == ENGINE_VS_REF_WORKLOAD:
                goal = ENGINE_VS_REF
            cells.append(f"{r[column]:.3f}" + ("" if goal is None else f" {mark(r[column] >= goal)}"))
        ratios.add_row(*cells)
    console.print(ratios)
    stream = Table(
        title=f"engine+stream: its reader draws at most {training['reader_fps']:g} frames a second, paced as the app paces its own (bench/stream_reader.py); "
        "medians over rounds"
        if training["reader_fps"]
        else "engine+stream: its reader only reads (--reader-fps 0); medians over rounds",
        caption="reader CPU: the bench process's over the timed window. The engine subprocess's training thread "
        "over that window (Linux schedstat): running / runnable but waiting for a core / asleep (blocked on a "
        "pipe, say); the in-process engine's wait for a core beside it; and both threads' CPU time per epoch, "
        "which waiting does not change: what streaming itself costs.",
    )
    columns = (
        "workload",
        "lines, MB a run",
        "frames/s",
        "reader CPU",
        "subprocess: run / wait / asleep",
        "in-process: wait",
        "CPU ms/epoch: stream, in-process",
    )
    for column in columns:
        stream.add_column(column, justify="left" if column == "workload" else "right")
    for name, res in training["workloads"].items():
        s = res["stream"]
        schedule, cpu = s["engine_schedule_median"], s["cpu_ms_per_epoch_median"]
        waiting = s["in_process_waiting_for_a_core_median"]
        shares = (
            " / ".join(f"{schedule[k]:.0%}" for k in ("main_running", "main_waiting_for_a_core", "main_asleep"))
            if schedule
            else "—"
        )
        cpu_cell = (
            f"{cpu['engine+stream']:.2f}, {cpu['engine']:.2f} ({s['cpu_ratio']:.3f})"
            if s["cpu_ratio"] is not None
            else "—"
        )
        stream.add_row(
            name,
            f"{s['lines_median']:.0f}, {s['mb_streamed_median']:.2f}",
            f"{s['frames_per_s_median']:.1f}",
            f"{s['reader_cpu_share_median']:.2f} cores",
            shares,
            "—" if waiting is None else f"{waiting:.0%}",
            cpu_cell,
        )
    console.print(stream)
    console.print(f"tight+fused: torch.optim.Adam({training['tight_fused_adam']}=True)")
    console.print(f"lightning: {training['lightning']}")


def print_app(summary: dict, app: dict) -> None:
    table = Table(title="App")
    table.add_column("measure")
    table.add_column("value", justify="right")
    frames = ", ".join("—" if f["s"] is None else f"{f['s']:.2f}" for f in app["first_frame"])
    table.add_row(
        "import nnplay.tui.app, fresh interpreter (median of 5)", f"{summary['import_tui_app_s_median']:.3f} s"
    )
    shown = summary["first_frame_s_median"]
    table.add_row(
        "first frame: launch → 'Lessons' on the pty (median of 5)", "—" if shown is None else f"{shown:.2f} s"
    )
    table.add_row("  each run", frames)
    table.add_row("engine hello after launch (headless, median of 3)", f"{summary['engine_hello_s_median']:.2f} s")
    table.add_row(
        "start → first epoch in the live series (median of 3)", f"{summary['start_to_first_epoch_s_median']:.2f} s"
    )
    memory = app["memory"]
    table.add_row(
        f"app RSS at epoch {memory['first_sample_epoch']} → peak → end of {memory['epochs']} epochs",
        f"{memory['first_sample_mb']:.1f} → {memory['peak_mb']:.1f} → {memory['end_mb']:.1f} MB "
        f"(+{memory['growth_mb']:.1f})",
    )
    table.add_row("  the app's peak RSS (VmHWM)", f"{memory['high_water_mb']:.1f} MB")
    table.add_row("  that run's wall time", f"{memory['run_s']:.1f} s")
    table.add_row("  the app's CPU over that run (the engine's aside)", f"{memory['app_cpu_share']:.2f} cores")
    console.print(table)


def print_targets(targets: list[dict]) -> None:
    table = Table(title="Targets")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("", justify="center")
    for t in targets:
        value = "—" if t["value"] is None else f"{t['value']:.3f}"
        table.add_row(t["target"], value, mark(t["pass"]))
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every style (default 5)")
    parser.add_argument("--only", nargs="*", help="workloads to run (default: all)")
    parser.add_argument("--no-app", action="store_true", help="skip the app measurements")
    parser.add_argument("--no-sweep", action="store_true", help="skip the K-seed sweep measurement")
    parser.add_argument(
        "--reader-fps",
        type=float,
        default=READER_FPS,
        help=f"the most frames a second the engine+stream reader draws, paced by the app's rule (default {READER_FPS:g}; 0: it only reads)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to train (auto: CUDA if there is a GPU)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    torch.set_num_threads(THREADS)
    device = styles.set_device(args.device)
    workloads = [w for w in styles.WORKLOADS if not args.only or w.name in args.only]
    log(
        f"nnplay bench: torch {torch.__version__}, {os.cpu_count()} CPU cores, torch threads {THREADS} in-process, "
        f"{args.rounds} rounds, training on {device_name(device)}"
    )
    training = train_benchmarks(args.rounds, workloads, args.reader_fps)
    targets = training_targets(training)
    sweeps = None if args.no_sweep else sweep_bench.measure(device=device.type, log=log)
    if sweeps is not None:
        targets += sweep_bench.targets(sweeps)
    app = app_summary_data = app_error = None
    if not args.no_app:
        try:
            app = app_probes.measure_all(log)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            # A broken app must not throw away the training figures: it is reported, and a MISS.
            app_error = str(exc)
            log(f"[red]app probes failed[/red]: {app_error.strip().splitlines()[-1]}")
            targets.append({"target": "app probes ran", "value": None, "pass": False})
        else:
            app_summary_data, app_targets = app_summary(app)
            targets += app_targets
    elapsed = time.perf_counter() - started

    print_training(training, device)
    if app is not None:
        print_app(app_summary_data, app)
    if sweeps is not None:
        for line in sweep_bench.lines(sweeps):
            console.print("\n" + line)
    print_targets(targets)
    console.print(f"bench took {elapsed:.0f} s ({elapsed / 60:.1f} min)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.cuda.is_available(),
            "device": device_name(device),
            "threads_in_process": THREADS,
            "threads_engine_subprocess": "engine default (engine/runtime.py)",
        },
        "rounds": args.rounds,
        "training": training,
        "sweep": sweeps,
        "app": None if app is None else {"summary": app_summary_data, "raw": app},
        "app_error": app_error,
        "targets": targets,
        "all_pass": all(t["pass"] for t in targets),
        "bench_s": elapsed,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    console.print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
