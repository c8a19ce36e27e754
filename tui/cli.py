"""The `nnplay` command: headless runs, presets, past runs, reports.

The engine always runs in its own process (`python -m nnplay.engine`); this side reads its JSON lines
and never imports torch. Errors are one sentence and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

# Heavier modules (rich, pydantic, plotext) are imported by the commands that use them, so that
# `nnplay` with no command reaches the app's first frame as fast as the app alone.
if TYPE_CHECKING:
    from rich.console import Console

# What `nnplay export` writes: the text formats of tui.report (reports, and py: the training script), and
# tensorboard, a directory of event files (tui.tensorboard).
EXPORT_FORMATS = ("json", "csv", "md", "py", "tensorboard")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user mistake: printed as one sentence, exit code 2."""


def engine_command(runs: str | None) -> list[str]:
    """The command that starts one engine run, with the runs directory when one is given."""
    command = [sys.executable, "-m", "nnplay.engine"]
    return command + ["--runs", runs] if runs else command


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    """`nnplay run`: train a preset or TOML file headless, live in the terminal; returns the exit code."""
    from rich.markup import escape

    from nnplay.engine.core.config_files import load
    from nnplay.presets import find_lesson

    config = load(_preset_path(args.preset), args.set)
    code, _, _ = run_engine(config.model_dump(exclude_none=True), args, console)
    lesson = find_lesson(args.preset)
    if lesson is not None and code == EXIT_OK and not args.json:
        console.print(
            f"[dim]Lesson {lesson.number} of the course. Try next: {escape(lesson.try_next)}; "
            f"`nnplay lesson {lesson.name}` runs both and checks the claim.[/dim]"
        )
    return code


def _preset_path(name: str) -> Path:
    from nnplay.engine.core.config import quoted
    from nnplay.presets import find_preset, list_presets

    path = find_preset(name)
    if path is None:
        names = ", ".join(p.name for p in list_presets())
        raise UsageError(f"{quoted(name)} is neither a preset nor a TOML file; presets: {names}")
    return path


def run_engine(config: dict, args: argparse.Namespace, console: Console) -> tuple[int, str | None, str | None]:
    """Run one config in an engine process, rendering its events (or passing them through with --json);
    returns the exit code, the run directory and how the run ended."""
    from rich.text import Text

    from nnplay.engine.core.events import ABORT_WINDOW_S, decode
    from nnplay.tui.live import RunRenderer

    engine = subprocess.Popen(
        engine_command(args.runs),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stdin, stdout = engine.stdin, engine.stdout
    assert stdin is not None and stdout is not None  # both are pipes
    stdin.write(json.dumps(config) + "\n")
    stdin.flush()
    renderer = RunRenderer(console)
    interrupts, last_interrupt = 0, -math.inf
    run_dir = status = None

    def on_interrupt(signum, frame):
        # The terminal's Ctrl+C reaches the engine too (same process group), which counts it the same way:
        # one press stops cleanly (the epoch's bookkeeping and the test metrics still run), a second within
        # ABORT_WINDOW_S aborts (the run is marked stopped with its finished epochs), a third kills it.
        nonlocal interrupts, last_interrupt
        now = time.monotonic()
        interrupts = interrupts + 1 if now - last_interrupt < ABORT_WINDOW_S else 1
        last_interrupt = now
        try:
            stdin.write("stop\n")
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
        if interrupts == 1:
            console.print(
                Text(
                    "stopping: the run is kept and still gets its test metrics "
                    f"(another Ctrl+C within {ABORT_WINDOW_S:g} s aborts them)",
                    style="yellow",
                )
            )
        elif interrupts == 2:
            console.print(
                Text("aborting: the run keeps every finished epoch (Ctrl+C again kills the engine)", style="yellow")
            )
        else:
            engine.kill()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        for line in stdout:
            try:
                event = decode(line)
            except ValueError:
                event = None
            if event is not None and event.get("type") == "plan":
                run_dir = event.get("run_dir") or run_dir
            if event is not None and event.get("type") == "done":
                status = event.get("status")
            if args.json:
                sys.stdout.write(line)
                sys.stdout.flush()
            elif event is not None:
                renderer.handle(event)
            else:
                console.print(Text(f"engine: {line.rstrip()}", style="dim"))
        code = engine.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return {0: EXIT_OK, 2: EXIT_USAGE, 3: EXIT_OK}.get(code, EXIT_FAILED), run_dir, status


def cmd_lesson(args: argparse.Namespace, console: Console) -> int:
    """A lesson, then its variation ("try next"), then whether the claim held, with both runs' numbers."""
    from rich.markup import escape
    from rich.panel import Panel

    from nnplay.engine.core.config import quoted
    from nnplay.engine.core.config_files import load
    from nnplay.engine.core.course import Run, judge
    from nnplay.engine.core.runs import load_run
    from nnplay.presets import course, find_lesson

    lesson = find_lesson(args.lesson)
    if lesson is None:
        names = ", ".join(one.name for section in course() for one in section.lessons)
        raise UsageError(f"{quoted(args.lesson)} is not a lesson of the course; lessons: {names}")
    overrides = list(args.set)
    # Both runs are checked before either starts: a bad --set fails at once, not after the first run.
    load(lesson.path, overrides)
    load(lesson.path, overrides + lesson.variation_overrides)
    console.print(
        Panel(
            f"{escape(lesson.claim)}\n[dim]Watch: {escape(lesson.watch)}[/dim]",
            title=f"lesson {lesson.number}: {escape(lesson.title)}",
            title_align="left",
            border_style="cyan",
        )
    )
    steps: list[tuple[str, Path, list[str]]] = []
    if lesson.requires:
        required = find_lesson(lesson.requires)
        assert required is not None, lesson.requires  # the course's own test holds every `requires` to a lesson
        steps.append((f"first, the lesson it builds on: {lesson.requires}", required.path, []))
    steps += [
        ("the lesson", lesson.path, []),
        (f"try next: {lesson.try_next}", lesson.path, lesson.variation_overrides),
    ]
    run_dirs: list[str] = []
    for i, (what, path, variation) in enumerate(steps, start=1):
        console.rule(f"run {i} of {len(steps)}: {escape(what)}", align="left")
        extra = list(overrides)
        if lesson.requires and run_dirs and path == lesson.path:
            extra.append(f'model.init_from="{run_dirs[0]}"')
        config = load(path, extra + variation).model_dump(exclude_none=True)
        code, run_dir, status = run_engine(config, args, console)
        if code != EXIT_OK or run_dir is None:
            return code if code != EXIT_OK else EXIT_FAILED
        if status == "stopped":  # Ctrl+C: the user stopped the lesson, not just this run
            console.print("[yellow]stopped: the lesson's runs so far are kept; its claim is not judged[/yellow]")
            return EXIT_OK
        run_dirs.append(run_dir)
    outcome = judge(lesson.name, *(Run.of(load_run(Path(run_dir))) for run_dir in run_dirs[-2:]))
    mark = "[green]✓ the claim held[/green]" if outcome.held else "[red]✗ the claim did not hold on this run[/red]"
    console.print(Panel(f"{escape(outcome.comparison)}", title=mark, title_align="left"))
    return EXIT_OK


def cmd_presets(args: argparse.Namespace, console: Console) -> int:
    """The course in teaching order, by section; then other shipped presets; then the user's own, with
    the directory they live in."""
    from rich.markup import escape
    from rich.table import Table

    from nnplay.presets import course, list_presets, user_presets_dir

    def print_group(title: str, rows: list[tuple[str, str, str]]) -> None:
        console.print(f"[bold]{escape(title)}[/bold]")
        table = Table(box=None, padding=(0, 1), show_header=False)
        table.add_column(justify="right", style="dim", no_wrap=True, width=4)  # fixed widths: groups align
        table.add_column(style="cyan", no_wrap=True, width=21)
        table.add_column(overflow="fold")
        for number, name, words in rows:
            table.add_row(number, escape(name), escape(words))  # a user preset's name and words are text
        console.print(table)

    sections = course()
    for section in sections:
        print_group(section.title, [(str(one.number), one.name, one.title) for one in section.lessons])
    in_course = {one.name for section in sections for one in section.lessons}
    others = [p for p in list_presets() if p.name not in in_course]
    shipped, mine = [p for p in others if not p.user], [p for p in others if p.user]
    if shipped:
        print_group("More presets", [("", p.name, p.description.split(". ")[0].rstrip(".") + ".") for p in shipped])
    if mine:
        print_group(f"Your presets (in {user_presets_dir()})", [("", p.name, p.description) for p in mine])
    else:
        where = escape(str(user_presets_dir()))
        console.print(f"[dim]Your presets: none yet; ctrl+s on the set-up screen saves the form into {where}.[/dim]")
    console.print("[dim]`nnplay lesson NAME` runs a lesson and its variation and checks its claim.[/dim]")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace, console: Console) -> int:
    """Past runs: a table on a terminal; into a pipe, every column tab-separated, for grep and cut. A run
    whose files cannot be read is listed as unreadable, with the reason in its verdict column."""
    from rich.console import Console
    from rich.text import Text

    from nnplay.engine.core.runs import list_runs, runs_root
    from nnplay.tui.report import UNREADABLE

    root = runs_root(args.runs)
    paths = list_runs(root)
    if not paths:
        console.print(Text(f"No runs under {root}/ yet: `nnplay run batch-math` makes one."))
        return EXIT_OK
    rows = [_runs_row(path) for path in paths]
    if not console.is_terminal:  # Rich would fit the table to 80 columns and drop all but two
        for row in (RUNS_COLUMNS, *rows):  # whitespace inside a cell (a tab in a name) becomes one space
            console.file.write("\t".join(" ".join(cell.split()) for cell in row) + "\n")
    else:
        header, *lines = _aligned([RUNS_COLUMNS, *rows], console.width)
        console.print(Text(header, style="bold"), soft_wrap=True)
        # Written as they are: Rich's Table takes over ten seconds for 10,000 runs, these lines a tenth of one.
        console.file.write("".join(line + "\n" for line in lines))
        console.file.flush()
    unreadable = sum(row[4] == UNREADABLE for row in rows)
    if unreadable:  # on stderr: a pipe's rows stay data; and one bad run in thousands is easy to miss
        what = "1 run cannot be read" if unreadable == 1 else f"{unreadable} runs cannot be read"
        Console(stderr=True, highlight=False).print(
            Text(f"{what}: listed as {UNREADABLE}, with the reason under verdict.", style="yellow")
        )
    return EXIT_OK


RUNS_COLUMNS = ("run", "date", "task", "data / model", "status", "epochs", "best val", "test", "verdict")
RUNS_GAP = "  "
# Dropped in this order when the table is wider than the terminal, then the run's name is shortened;
# its status and verdict always show (as on the app's runs screen).
RUNS_DROP_ORDER = ("task", "date", "data / model", "epochs", "best val", "test")
RUNS_MIN_RUN_WIDTH = 12
# Control characters (an escape sequence in a directory's name) never reach the terminal as such.
UNPRINTABLE = {c: " " for c in (*range(32), *range(127, 160))}


def _aligned(rows: list[tuple[str, ...]], width: int) -> list[str]:
    """The header and rows of `nnplay runs` as lines of left-aligned columns, two spaces apart, fitted to
    `width` cells. The verdict comes last and is never cut: a long one (why a run cannot be read) runs
    past the edge and the terminal wraps it, rather than taking the other columns' room."""
    from rich.cells import cell_len, set_cell_size

    from nnplay.tui.report import UNREADABLE

    def printable(cell: str) -> str:
        return cell if cell.isprintable() else cell.translate(UNPRINTABLE)

    def cells_of(text: str) -> int:  # a printable ASCII character is one cell: no need to ask Rich
        return len(text) if text.isascii() and text.isprintable() else cell_len(text)

    rows = [tuple(map(printable, row)) for row in rows]
    lengths = [tuple(map(cells_of, row)) for row in rows]
    ordinary = [n for row, n in zip(rows, lengths, strict=True) if row[4] != UNREADABLE]  # real verdicts' room
    widths = {
        name: max((n[i] for n in (ordinary if name == "verdict" else lengths)), default=0)
        for i, name in enumerate(RUNS_COLUMNS)
    }
    shown = dict(widths)

    def total() -> int:
        return sum(shown.values()) + len(RUNS_GAP) * (len(shown) - 1)

    for name in RUNS_DROP_ORDER:
        if total() <= width:
            break
        del shown[name]
    if total() > width:
        shown["run"] = max(RUNS_MIN_RUN_WIDTH, shown["run"] - (total() - width))
    index = {name: i for i, name in enumerate(RUNS_COLUMNS)}

    def fitted(cell: str, length: int, cells: int) -> str:
        if length > cells:
            return set_cell_size(cell, cells - 1) + "…"
        return cell + " " * (cells - length)

    columns = [(index[name], w) for name, w in shown.items() if name != "verdict"]
    verdict = index["verdict"]
    lines = []
    for row, n in zip(rows, lengths, strict=True):
        cells = [fitted(row[i], n[i], w) for i, w in columns]
        lines.append(RUNS_GAP.join([*cells, row[verdict]]).rstrip())
    return lines


def _runs_row(path: Path) -> tuple[str, ...]:
    """One run's cells for `nnplay runs`, from its listing (listed_summary); a run whose files cannot be
    read shows as unreadable, and why."""
    from nnplay.tui.report import (
        METRIC_SHORT,
        RUN_READ_ERRORS,
        UNREADABLE,
        format_metric,
        headline_metric,
        listed_summary,
        unreadable_reason,
    )

    try:
        s = listed_summary(path)
        metric, value = headline_metric(s)
        started = datetime.fromtimestamp(s["started"]).strftime("%Y-%m-%d %H:%M") if s.get("started") else "—"
        dataset, architecture = s.get("dataset"), s.get("architecture")
        data_model = "—" if dataset is None and architecture is None else f"{dataset} / {architecture}"
        return (
            path.name,
            started,
            str(s.get("task") or "—"),
            data_model,
            str(s["status"]),
            str(s.get("epochs_run", 0)),
            format_metric("loss", s.get("best_val_loss")),
            f"{METRIC_SHORT.get(metric, metric)} {format_metric(metric, value)}" if value is not None else "—",
            str(s.get("verdict") or "—"),
        )
    except RUN_READ_ERRORS as exc:
        return (path.name, "—", "—", "—", UNREADABLE, "—", "—", "—", unreadable_reason(exc))


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    """`nnplay show`: a run's summary, verdict and loss curves."""
    from rich.text import Text

    from nnplay.engine.core.batches import counted
    from nnplay.engine.core.runs import find_run, load_run, runs_root
    from nnplay.tui.charts import loss_chart
    from nnplay.tui.live import final_metrics, verdict_panel
    from nnplay.tui.report import summary_of, train_label

    record = load_run(find_run(runs_root(args.runs), args.run))
    s = summary_of(record)
    console.print(
        Text.assemble(
            (str(s["name"]), "bold"),
            f" · {record.id} · ",
            (str(s["status"]), "bold"),
            f" · {s.get('epochs_run', 0)} epochs",
        )
    )
    plan = s.get("plan") or {}
    if plan:
        console.print(
            Text(
                f"{plan.get('dataset')}: {plan.get('n_train')} train / {plan.get('n_val')} val / {plan.get('n_test')} test · "
                f"batch {plan.get('batch_size')} → {counted(plan.get('iterations_per_epoch'), 'iteration')} per epoch · "
                f"{plan.get('architecture')} with {plan.get('params'):,} parameters"
            )
        )
    if record.epochs:
        width = min(console.width, 100)
        chart = loss_chart(
            record.epochs,
            width,
            16,
            color=console.is_terminal,
            best_epoch=s.get("best_epoch"),
            train=train_label(s.get("plan")),
        )
        console.print(Text.from_ansi(chart))
    if s.get("diagnosis"):
        console.print(verdict_panel(s["diagnosis"]))
    console.print(final_metrics(s))
    if s.get("error"):
        console.print(Text.assemble(("error:", "red"), " ", str(s["error"])))
    return EXIT_OK


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    """`nnplay export RUN`: a report (md, json, csv), the training script (py) or TensorBoard files."""
    from rich.text import Text

    from nnplay.engine.core.runs import find_run, load_run, runs_root
    from nnplay.tui.report import default_export_path, export

    record = load_run(find_run(runs_root(args.runs), args.run))
    if args.format == "tensorboard":
        from nnplay.tui.tensorboard import write_tensorboard

        if args.output == "-":
            raise UsageError("--format tensorboard writes a directory of event files; -o names that directory, not '-'")
        directory = Path(args.output) if args.output else default_export_path(record, "tensorboard")
        written = write_tensorboard(record, directory)
        console.print(Text(f"wrote {written}; view it with: tensorboard --logdir {directory}"), soft_wrap=True)
        return EXIT_OK
    text = export(record, args.format)
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.output) if args.output else default_export_path(record, args.format)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(Text(f"wrote {out}"))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The command line: the subcommands and their options."""
    parser = argparse.ArgumentParser(
        prog="nnplay", description="A neural-network playground for the terminal, on real PyTorch."
    )
    parser.add_argument("--runs", default=None, help="runs directory (default ./runs, or $NNPLAY_RUNS)")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", description="with no command, nnplay opens the explorer app"
    )
    p = sub.add_parser("run", help="train a preset or TOML experiment headless")
    p.add_argument("preset", metavar="PRESET_OR_FILE")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting, e.g. training.epochs=20"
    )
    p.add_argument("--json", action="store_true", help="stream the engine's raw JSON-lines events")
    p = sub.add_parser("lesson", help="run a lesson and its variation, and check the lesson's claim")
    p.add_argument("lesson", metavar="LESSON")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting in both runs, e.g. data.seed=1",
    )
    p.add_argument("--json", action="store_true", help="stream the engine's raw JSON-lines events")
    sub.add_parser("presets", help="the course's lessons in order, and other presets")
    sub.add_parser("runs", help="table of past runs")
    p = sub.add_parser("show", help="a run's summary and loss curves")
    p.add_argument("run", help="run id, unique part of it, path, or 'last'")
    p = sub.add_parser(
        "export", help="write a run report, a PyTorch script that reproduces the run, or TensorBoard files"
    )
    p.add_argument("run", help="run id, unique part of it, path, or 'last'")
    p.add_argument(
        "--format",
        default="md",
        choices=EXPORT_FORMATS,
        help="md, json, csv: a report; py: a standalone training script; tensorboard: event files",
    )
    p.add_argument(
        "-o",
        "--output",
        default=None,
        help="file to write ('-' for stdout), or directory for tensorboard "
        "(default, in the run: report.FORMAT, train.py or tensorboard/)",
    )
    for sp in sub.choices.values():
        sp.add_argument("--runs", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


COMMANDS = {
    "run": cmd_run,
    "lesson": cmd_lesson,
    "presets": cmd_presets,
    "runs": cmd_runs,
    "show": cmd_show,
    "export": cmd_export,
}


STARTS_RUNS = (None, "run", "lesson")  # the app (no command) and the commands that write runs


def runs_dir_error(args: argparse.Namespace) -> str | None:
    """Why the runs directory (--runs, $NNPLAY_RUNS or ./runs) cannot hold the runs this command starts, in
    one sentence; None when it can, or when the command only reads runs (a missing directory is then
    just an empty list). Checked before anything starts, in this process, so before torch is imported."""
    if args.command not in STARTS_RUNS:
        return None
    from nnplay.engine.core.runs import RunStoreError, writable_runs_root

    try:
        writable_runs_root(args.runs)
    except RunStoreError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """`nnplay`: the app with no command, else the subcommand; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (problem := runs_dir_error(args)) is not None:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False).print(Text.assemble(("error:", "red"), " ", problem), soft_wrap=True)
        return EXIT_USAGE
    if args.command is None:
        from nnplay.tui.app import main as app_main  # the explorer: Textual, no torch in this process

        return app_main(args.runs)
    from rich.console import Console

    console = Console(highlight=False)
    try:
        return COMMANDS[args.command](args, console)
    # A ConfigError is a ValueError: caught without importing the config schema (pydantic, a sixth of a
    # second), which `nnplay runs` never needs.
    except (UsageError, FileNotFoundError, ValueError) as exc:
        from rich.text import Text

        Console(stderr=True, highlight=False).print(Text.assemble(("error:", "red"), " ", str(exc)), soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # a path the system refuses (a name too long, no permission): a sentence, not a traceback
        from rich.text import Text

        from nnplay.engine.core.config import quoted

        where = f"{quoted(str(exc.filename))}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
        Console(stderr=True, highlight=False).print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True)
        return EXIT_USAGE
