"""The `nnplay` command: headless runs, presets, past runs, reports.

The engine always runs in its own process (`python -m engine`); this side reads its JSON lines
and never imports torch. Errors are one sentence and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

# Heavier modules (rich, pydantic, plotext) are imported by the commands that use them, so that
# `nnplay` with no command reaches the app's first frame as fast as the app alone.
if TYPE_CHECKING:
    from rich.console import Console

EXPORT_FORMATS = ("json", "csv", "md")  # the formats tui.report writes

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user mistake: printed as one sentence, exit code 2."""


def engine_command(runs: str | None) -> list[str]:
    command = [sys.executable, "-m", "engine"]
    return command + ["--runs", runs] if runs else command


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from rich.markup import escape

    from engine.config_files import load
    from presets import find_lesson

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
    from presets import find_preset, list_presets

    path = find_preset(name)
    if path is None:
        names = ", ".join(p.name for p in list_presets())
        raise UsageError(f"{name!r} is neither a preset nor a TOML file; presets: {names}")
    return path


def run_engine(config: dict, args: argparse.Namespace, console: Console) -> tuple[int, str | None, str | None]:
    """Run one config in an engine process, rendering its events (or passing them through with --json);
    returns the exit code, the run directory and how the run ended."""
    from rich.text import Text

    from engine.events import decode
    from tui.live import RunRenderer

    engine = subprocess.Popen(
        engine_command(args.runs),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    engine.stdin.write(json.dumps(config) + "\n")
    engine.stdin.flush()
    renderer = RunRenderer(console)
    interrupts = 0
    run_dir = status = None

    def on_interrupt(signum, frame):
        # Ctrl+C reaches the engine too (same process group); it finishes the epoch's bookkeeping
        # and ends the run as "stopped". Here we only make sure it was told, and keep reading.
        nonlocal interrupts
        interrupts += 1
        try:
            engine.stdin.write("stop\n")
            engine.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
        if interrupts == 1:
            console.print("[yellow]stopping: the run is kept (Ctrl+C twice more to kill the engine)[/yellow]")
        elif interrupts >= 3:
            engine.kill()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        for line in engine.stdout:
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

    from engine.config_files import load
    from engine.course import Run, judge
    from engine.runs import load_run
    from presets import course, find_lesson

    lesson = find_lesson(args.lesson)
    if lesson is None:
        names = ", ".join(one.name for section in course() for one in section.lessons)
        raise UsageError(f"{args.lesson!r} is not a lesson of the course; lessons: {names}")
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
    steps = []
    if lesson.requires:
        steps.append((f"first, the lesson it builds on: {lesson.requires}", find_lesson(lesson.requires).path, []))
    steps += [
        ("the lesson", lesson.path, []),
        (f"try next: {lesson.try_next}", lesson.path, lesson.variation_overrides),
    ]
    run_dirs: list[str | None] = []
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

    from presets import course, list_presets, user_presets_dir

    def print_group(title: str, rows: list[tuple[str, str, str]]) -> None:
        console.print(f"[bold]{escape(title)}[/bold]")
        table = Table(box=None, padding=(0, 1), show_header=False)
        table.add_column(justify="right", style="dim", no_wrap=True, width=4)  # fixed widths: groups align
        table.add_column(style="cyan", no_wrap=True, width=21)
        table.add_column(overflow="fold")
        for number, name, words in rows:
            table.add_row(number, name, escape(words))
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
    """Past runs: a table on a terminal; into a pipe, every column tab-separated, for grep and cut."""
    from rich.table import Table
    from rich.text import Text

    from engine.runs import list_runs, load_run, runs_root
    from tui.report import format_metric, headline_metric, summary_of

    root = runs_root(args.runs)
    paths = list_runs(root)
    if not paths:
        console.print(Text(f"No runs under {root}/ yet: `nnplay run batch-math` makes one."))
        return EXIT_OK
    columns = ("run", "date", "task", "data / model", "status", "epochs", "best val", "test", "verdict")
    rows = []
    for path in paths:
        s = summary_of(load_run(path))
        metric, value = headline_metric(s)
        started = datetime.fromtimestamp(s["started"]).strftime("%Y-%m-%d %H:%M") if s.get("started") else "—"
        rows.append(
            (
                path.name,
                started,
                s.get("task") or "—",
                f"{s.get('dataset')} / {s.get('architecture')}",
                s["status"],
                str(s.get("epochs_run", 0)),
                format_metric("loss", s.get("best_val_loss")),
                f"{METRIC_SHORT.get(metric, metric)} {format_metric(metric, value)}" if value is not None else "—",
                s.get("verdict") or "—",
            )
        )
    if not console.is_terminal:  # Rich would fit the table to 80 columns and drop all but two
        for row in (columns, *rows):  # whitespace inside a cell (a tab in a name) becomes one space
            console.file.write("\t".join(" ".join(cell.split()) for cell in row) + "\n")
        return EXIT_OK
    table = Table(header_style="bold", box=None, padding=(0, 2))
    for column in columns:
        table.add_column(column, no_wrap=column in ("run", "date"))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return EXIT_OK


METRIC_SHORT = {"accuracy": "acc", "r2": "R²", "recon_error": "recon", "loss": "loss"}


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    from rich.text import Text

    from engine.runs import find_run, load_run, runs_root
    from tui.charts import loss_chart
    from tui.live import final_metrics, verdict_panel
    from tui.report import counted, summary_of, train_label

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
            f"{plan.get('dataset')}: {plan.get('n_train')} train / {plan.get('n_val')} val / {plan.get('n_test')} test · "
            f"batch {plan.get('batch_size')} → {counted(plan.get('iterations_per_epoch'), 'iteration')} per epoch · "
            f"{plan.get('architecture')} with {plan.get('params'):,} parameters"
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
    from rich.text import Text

    from engine.runs import find_run, load_run, runs_root
    from tui.report import default_export_path, export

    record = load_run(find_run(runs_root(args.runs), args.run))
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
    p = sub.add_parser("export", help="write a run report")
    p.add_argument("run", help="run id, unique part of it, path, or 'last'")
    p.add_argument("--format", default="md", choices=EXPORT_FORMATS)
    p.add_argument(
        "-o", "--output", default=None, help="file to write ('-' for stdout; default: report.FORMAT in the run)"
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from tui.app import main as app_main  # the explorer: Textual, no torch in this process

        return app_main(args.runs)
    from rich.console import Console

    from engine.config import ConfigError

    console = Console(highlight=False)
    try:
        return COMMANDS[args.command](args, console)
    except (ConfigError, UsageError, FileNotFoundError, ValueError) as exc:
        from rich.text import Text

        Console(stderr=True, highlight=False).print(Text.assemble(("error:", "red"), " ", str(exc)), soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
