"""The `nnplay` command: headless runs, presets, past runs, reports.

The engine always runs in its own process (`python -m nnplay.engine`); this side reads its JSON lines
and never imports torch. Errors are one sentence and exit code 2.

It speaks English or Korean: `--lang`, else NNPLAY_LANG, else the locale (`LANG=ko_KR.UTF-8`), chosen
before the parser is built (its help is translated too) and handed to the engines and the app it starts.
"""

from __future__ import annotations

import argparse
import contextlib
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

from nnplay.engine.core.i18n import N_, LanguageError, _, current_language, ngettext, resolve_language, set_language

# Heavier modules (rich, pydantic, plotext) are imported by the commands that use them, so that
# `nnplay` with no command reaches the app's first frame as fast as the app alone.
if TYPE_CHECKING:
    from rich.console import Console

    from nnplay.engine.core.config import ExperimentConfig

# What `nnplay export` writes: the text formats of tui.report (reports, and py: the training script), and
# tensorboard, a directory of event files (tui.tensorboard).
EXPORT_FORMATS = ("json", "csv", "md", "py", "tensorboard")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# argparse's own words (its usage line, headings and errors), which it looks up through a module-level `_`:
# marked here so that they are in the catalog, and translated when main() hands argparse our `_`.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("subcommands"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
)


class UsageError(Exception):
    """A user mistake: printed as one sentence, exit code 2."""


def engine_command(runs: str | None) -> list[str]:
    """The command that starts one engine run, with the runs directory when one is given."""
    command = [sys.executable, "-m", "nnplay.engine"]
    return command + ["--runs", runs] if runs else command


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    """`nnplay run`: train a preset, TOML file or experiment string headless, live in the terminal; returns
    the exit code."""
    from rich.markup import escape

    from nnplay.engine.core.config_files import load
    from nnplay.engine.core.share import looks_like_experiment
    from nnplay.presets import find_lesson

    if looks_like_experiment(args.preset):
        config = _experiment_config(args.preset, args.set)
    else:
        config = load(_preset_path(args.preset), args.set)
    code, _run_dir, _status = run_engine(config.model_dump(exclude_none=True), args, console)
    lesson = find_lesson(args.preset)
    if lesson is not None and code == EXIT_OK and not args.json:
        console.print(
            _(
                "[dim]Lesson {number} of the course. Try next: {try_next}; "
                "`nnplay lesson {name}` runs both and checks the claim.[/dim]"
            ).format(number=lesson.number, try_next=escape(_(lesson.try_next)), name=escape(lesson.name))
        )
    return code


def _experiment_config(string: str, overrides: list[str]) -> ExperimentConfig:
    """The config an experiment string holds, with `--set` overrides, validated; ShareError or ConfigError
    (a ValueError each: one sentence, exit 2) when it cannot be run."""
    from nnplay.engine.core.config import ConfigError, validate
    from nnplay.engine.core.config_files import apply_overrides
    from nnplay.engine.core.share import decode

    try:
        return validate(apply_overrides(decode(string), overrides))
    except ConfigError as exc:
        raise exc.within(_("the experiment string")) from None


def cmd_share(args: argparse.Namespace, console: Console) -> int:
    """`nnplay share`: the experiment string of a preset, TOML file, run or experiment string (with `--set`
    overrides). On a terminal the string and then its `nnplay web` address; into a pipe the string alone,
    so that `nnplay run "$(nnplay share NAME)"` works."""
    from nnplay.engine.core.share import encode, web_url

    string = encode(_shared_config(args.source, args.set, args.runs))
    console.file.write(string + "\n")  # written as it is: Rich would wrap a long string at the terminal's edge
    if console.is_terminal:
        console.file.write(web_url(string) + "\n")
    console.file.flush()
    return EXIT_OK


def _shared_config(source: str, overrides: list[str], runs: str | None) -> ExperimentConfig:
    """What `nnplay share SOURCE` encodes: an experiment string's config, a preset's or TOML file's, or a
    run's recorded one (a run id, unique part of it, path, or 'last', as `nnplay show` finds them)."""
    from nnplay.engine.core.config import ConfigError, quoted
    from nnplay.engine.core.config_files import load
    from nnplay.engine.core.runs import find_run, list_runs, runs_root
    from nnplay.engine.core.share import looks_like_experiment
    from nnplay.presets import find_preset

    if looks_like_experiment(source):
        return _experiment_config(source, overrides)
    preset = find_preset(source) if source.strip() else None
    if preset is not None:
        return load(preset, overrides)
    root = runs_root(runs)
    try:
        run = find_run(root, source) if source.strip() else None
    except FileNotFoundError:
        if any(p.name.startswith(source) or p.name.endswith(source) for p in list_runs(root)):
            raise  # more than one run matches: its sentence says so
        run = None
    if run is None:
        raise UsageError(
            _(
                "{source} is neither a preset, a TOML file, a run under {root}/ nor an experiment string; "
                "`nnplay presets` and `nnplay runs` list them"
            ).format(source=quoted(source), root=root)
        )
    recorded = run / "config.toml"
    try:
        return load(recorded, overrides)
    except ConfigError as exc:
        raise exc.within(str(recorded)) from None


def _preset_path(name: str) -> Path:
    from nnplay.engine.core.config import quoted
    from nnplay.presets import find_preset, list_presets

    path = find_preset(name)
    if path is None:
        names = ", ".join(p.name for p in list_presets())
        raise UsageError(
            _("{name} is neither a preset nor a TOML file; presets: {names}").format(name=quoted(name), names=names)
        )
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
        env={**os.environ, "PYTHONUNBUFFERED": "1", "NNPLAY_LANG": current_language()},  # it speaks ours
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
                    _(
                        "stopping: the run is kept and still gets its test metrics "
                        "(another Ctrl+C within {seconds:g} s aborts them)"
                    ).format(seconds=ABORT_WINDOW_S),
                    style="yellow",
                )
            )
        elif interrupts == 2:
            console.print(
                Text(_("aborting: the run keeps every finished epoch (Ctrl+C again kills the engine)"), style="yellow")
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
                console.print(Text(_("engine: {line}").format(line=line.rstrip()), style="dim"))
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
        raise UsageError(
            _("{name} is not a lesson of the course; lessons: {names}").format(name=quoted(args.lesson), names=names)
        )
    overrides = list(args.set)
    # Both runs are checked before either starts: a bad --set fails at once, not after the first run.
    load(lesson.path, overrides)
    load(lesson.path, overrides + lesson.variation_overrides)
    watch = _("[dim]Watch: {watch}[/dim]").format(watch=escape(_(lesson.watch)))
    console.print(
        Panel(
            f"{escape(_(lesson.claim))}\n{watch}",
            title=_("lesson {number}: {title}").format(number=lesson.number, title=escape(_(lesson.title))),
            title_align="left",
            border_style="cyan",
        )
    )
    steps: list[tuple[str, Path, list[str]]] = []
    if lesson.requires:
        required = find_lesson(lesson.requires)
        assert required is not None, lesson.requires  # the course's own test holds every `requires` to a lesson
        steps.append((_("first, the lesson it builds on: {name}").format(name=lesson.requires), required.path, []))
    steps += [
        (_("the lesson"), lesson.path, []),
        (_("try next: {variation}").format(variation=_(lesson.try_next)), lesson.path, lesson.variation_overrides),
    ]
    run_dirs: list[str] = []
    for i, (what, path, variation) in enumerate(steps, start=1):
        console.rule(
            _("run {number} of {count}: {what}").format(number=i, count=len(steps), what=escape(what)), align="left"
        )
        extra = list(overrides)
        if lesson.requires and run_dirs and path == lesson.path:
            extra.append(f'model.init_from="{run_dirs[0]}"')
        config = load(path, extra + variation).model_dump(exclude_none=True)
        code, run_dir, status = run_engine(config, args, console)
        if code != EXIT_OK or run_dir is None:
            return code if code != EXIT_OK else EXIT_FAILED
        if status == "stopped":  # Ctrl+C: the user stopped the lesson, not just this run
            console.print(_("[yellow]stopped: the lesson's runs so far are kept; its claim is not judged[/yellow]"))
            return EXIT_OK
        run_dirs.append(run_dir)
    outcome = judge(lesson.name, *(Run.of(load_run(Path(run_dir))) for run_dir in run_dirs[-2:]))
    mark = (
        _("[green]✓ the claim held[/green]") if outcome.held else _("[red]✗ the claim did not hold on this run[/red]")
    )
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
        print_group(_(section.title), [(str(one.number), one.name, _(one.title)) for one in section.lessons])
    in_course = {one.name for section in sections for one in section.lessons}
    others = [p for p in list_presets() if p.name not in in_course]
    shipped, mine = [p for p in others if not p.user], [p for p in others if p.user]
    if shipped:  # a shipped preset's description and its first sentence, in the current language
        rows = [("", p.name, _(p.description).split(". ")[0].rstrip(".") + ".") for p in shipped]
        print_group(_("More presets"), rows)
    if mine:  # the user's own words, as written (a description nnplay ships is translated)
        print_group(
            _("Your presets (in {directory})").format(directory=user_presets_dir()),
            [("", p.name, _(p.description)) for p in mine],
        )
    else:
        where = escape(str(user_presets_dir()))
        console.print(
            _("[dim]Your presets: none yet; ctrl+s on the set-up screen saves the form into {directory}.[/dim]").format(
                directory=where
            )
        )
    console.print(_("[dim]`nnplay lesson NAME` runs a lesson and its variation and checks its claim.[/dim]"))
    return EXIT_OK


def cmd_runs(args: argparse.Namespace, console: Console) -> int:
    """Past runs: a table on a terminal; into a pipe, every column tab-separated, for grep and cut. A run
    whose files cannot be read is listed as unreadable, with the reason in its verdict column. A sweep is one
    row, that says how many members it has; `nnplay runs SWEEP` lists them, each with its reference SWEEP/K."""
    from rich.console import Console
    from rich.text import Text

    from nnplay.engine.core.runs import find_run, list_runs, runs_root
    from nnplay.tui.report import UNREADABLE, status_name

    root = runs_root(args.runs)
    if getattr(args, "sweep", None) is not None:
        return _list_members(find_run(root, args.sweep), console)
    paths = list_runs(root)
    if not paths:
        console.print(Text(_("No runs under {root}/ yet: `nnplay run batch-math` makes one.").format(root=root)))
        return EXIT_OK
    listed = [_listed_row(path) for path in paths]
    rows = [row for row, _members in listed]
    if not console.is_terminal:  # into a pipe the run column stays the reference (`cut -f1` opens it)
        rows = [(path.name, *row[1:]) for path, row in zip(paths, rows, strict=True)]
    _print_table(console, RUNS_COLUMNS, rows)
    unreadable = sum(row[4] == status_name(UNREADABLE) for row in rows)
    if unreadable:  # on stderr: a pipe's rows stay data; and one bad run in thousands is easy to miss
        words = ngettext(
            "{count} run cannot be read: listed as {status}, with the reason under {verdict}.",
            "{count} runs cannot be read: listed as {status}, with the reason under {verdict}.",
            unreadable,
        )
        Console(stderr=True, highlight=False).print(
            Text(words.format(count=unreadable, status=status_name(UNREADABLE), verdict=_("verdict")), style="yellow")
        )
    if console.is_terminal and any(members for _row, members in listed):
        console.print(Text(_("`nnplay runs SWEEP` lists the members of a sweep."), style="dim"))
    return EXIT_OK


def _print_table(
    console: Console,
    columns: tuple[str, ...],
    rows: list[tuple[str, ...]],
    drop: tuple[str, ...] = (),
    shorten: str = "run",
) -> None:
    """Rows under their columns' headings: aligned to the terminal's width, or into a pipe tab-separated."""
    from rich.text import Text

    headings = tuple(_(name) for name in columns)
    if not console.is_terminal:  # Rich would fit the table to 80 columns and drop all but two
        for row in (headings, *rows):  # whitespace inside a cell (a tab in a name) becomes one space
            console.file.write("\t".join(" ".join(cell.split()) for cell in row) + "\n")
        return
    header, *lines = _aligned([headings, *rows], console.width, columns, drop or RUNS_DROP_ORDER, shorten)
    console.print(Text(header, style="bold"), soft_wrap=True)
    # Written as they are: Rich's Table takes over ten seconds for 10,000 runs, these lines a tenth of one.
    console.file.write("".join(line + "\n" for line in lines))
    console.file.flush()


# The columns of `nnplay runs` by name (translated in its heading).
RUNS_COLUMNS = (
    N_("run"),
    N_("date"),
    N_("task"),
    N_("data / model"),
    N_("status"),
    N_("epochs"),
    N_("best val"),
    N_("test"),
    N_("verdict"),
)
# The columns of `nnplay runs SWEEP`: each member's reference (what `nnplay show` takes), the settings it
# changes (its label), and how it ended.
MEMBER_COLUMNS = (
    N_("member"),
    N_("settings"),
    N_("status"),
    N_("epochs"),
    N_("best val"),
    N_("test"),
    N_("verdict"),
)
MEMBERS_DROP_ORDER = ("epochs", "best val", "test")
RUNS_GAP = "  "
# Dropped in this order when the table is wider than the terminal, then the run's name is shortened;
# its status and verdict always show (as on the app's runs screen).
RUNS_DROP_ORDER = ("task", "date", "data / model", "epochs", "best val", "test")
RUNS_MIN_RUN_WIDTH = 12
# Control characters (an escape sequence in a directory's name) never reach the terminal as such.
UNPRINTABLE = {c: " " for c in (*range(32), *range(127, 160))}


def _aligned(
    rows: list[tuple[str, ...]],
    width: int,
    columns: tuple[str, ...] = RUNS_COLUMNS,
    drop: tuple[str, ...] = RUNS_DROP_ORDER,
    shorten: str = "run",
) -> list[str]:
    """The header and rows of `nnplay runs` as lines of left-aligned columns, two spaces apart, fitted to
    `width` cells: the `drop` columns left out first, then the `shorten` column cut. The verdict comes last
    and is never cut: a long one (why a run cannot be read) runs past the edge and the terminal wraps it,
    rather than taking the other columns' room."""
    from rich.cells import cell_len, set_cell_size

    from nnplay.tui.report import UNREADABLE, status_name

    def printable(cell: str) -> str:
        return cell if cell.isprintable() else cell.translate(UNPRINTABLE)

    def cells_of(text: str) -> int:  # a printable ASCII character is one cell: no need to ask Rich
        return len(text) if text.isascii() and text.isprintable() else cell_len(text)

    rows = [tuple(map(printable, row)) for row in rows]
    lengths = [tuple(map(cells_of, row)) for row in rows]
    unreadable = status_name(UNREADABLE)
    status = columns.index("status")
    ordinary = [n for row, n in zip(rows, lengths, strict=True) if row[status] != unreadable]  # real verdicts' room
    widths = {
        name: max((n[i] for n in (ordinary if name == "verdict" else lengths)), default=0)
        for i, name in enumerate(columns)
    }
    shown = dict(widths)

    def total() -> int:
        return sum(shown.values()) + len(RUNS_GAP) * (len(shown) - 1)

    for name in drop:
        if total() <= width:
            break
        del shown[name]
    if total() > width:
        shown[shorten] = max(RUNS_MIN_RUN_WIDTH, shown[shorten] - (total() - width))
    index = {name: i for i, name in enumerate(columns)}

    def fitted(cell: str, length: int, cells: int) -> str:
        if length > cells:
            return set_cell_size(cell, cells - 1) + "…"
        return cell + " " * (cells - length)

    shown_columns = [(index[name], w) for name, w in shown.items() if name != "verdict"]
    verdict = index["verdict"]
    lines = []
    for row, n in zip(rows, lengths, strict=True):
        cells = [fitted(row[i], n[i], w) for i, w in shown_columns]
        lines.append(RUNS_GAP.join([*cells, row[verdict]]).rstrip())
    return lines


def _runs_row(path: Path) -> tuple[str, ...]:
    """One run's cells for `nnplay runs`, from its listing (listed_summary), its status and verdict in the
    current language; a run whose files cannot be read shows as unreadable, and why."""
    return _listed_row(path)[0]


def _listed_row(path: Path) -> tuple[tuple[str, ...], int | None]:
    """One run's cells for `nnplay runs` (_runs_row), and how many members it has when it is a sweep (the run
    cell says so too)."""
    from nnplay.engine.core.runs import listed_sweep_size
    from nnplay.tui.report import RUN_READ_ERRORS, UNREADABLE, listed_summary, status_name, unreadable_reason

    try:
        s = listed_summary(path)
        started = datetime.fromtimestamp(s["started"]).strftime("%Y-%m-%d %H:%M") if s.get("started") else "—"
        dataset, architecture = s.get("dataset"), s.get("architecture")
        data_model = "—" if dataset is None and architecture is None else f"{dataset} / {architecture}"
        members = listed_sweep_size(path, s)
        run = path.name
        if members:
            run = ngettext("{run} · sweep of {count} member", "{run} · sweep of {count} members", members).format(
                run=run, count=members
            )
        return (run, started, str(s.get("task") or "—"), data_model, *_outcome_cells(s)), members
    except RUN_READ_ERRORS as exc:
        return (path.name, "—", "—", "—", status_name(UNREADABLE), "—", "—", "—", unreadable_reason(exc)), None


def _outcome_cells(s: dict) -> tuple[str, str, str, str, str]:
    """How a run ended, as the listings show it: its status, epochs, best validation loss, headline test
    metric and verdict."""
    from nnplay.engine.core.diagnosis import verdict_name
    from nnplay.tui.report import format_metric, headline_metric, metric_short, status_name

    metric, value = headline_metric(s)
    return (
        status_name(s["status"]),
        str(s.get("epochs_run", 0)),
        format_metric("loss", s.get("best_val_loss")),
        f"{metric_short(metric)} {format_metric(metric, value)}" if value is not None else "—",
        verdict_name(str(s["verdict"])) if s.get("verdict") else "—",
    )


def _list_members(sweep: Path, console: Console) -> int:
    """`nnplay runs SWEEP`: the sweep's members, one row each: the reference that opens it (SWEEP/K, with the
    sweep's id), the settings it changes, and how it ended, from its own run directory."""
    from rich.text import Text

    from nnplay.engine.core.runs import sweep_members
    from nnplay.tui.report import RUN_READ_ERRORS, UNREADABLE, listed_summary, status_name, unreadable_reason

    members = sweep_members(sweep)
    if not members:
        raise UsageError(
            _("{run} is not a sweep: it has no members to list; `nnplay runs` lists the runs").format(run=sweep.name)
        )
    rows: list[tuple[str, ...]] = []
    for member in members:
        label = member.label or "—"
        if member.best:
            label = _("{label} (best)").format(label=label)
        reference = f"{sweep.name}/{member.index}"
        result = member.result
        if member.path is None:  # not started yet, failed before it started, or recorded before members were runs
            status = status_name(result["status"]) if result.get("status") else _("not started")
            rows.append((reference, label, status, "—", "—", "—", str(result.get("error") or "—")))
            continue
        try:
            rows.append((reference, label, *_outcome_cells(listed_summary(member.path))))
        except RUN_READ_ERRORS as exc:
            rows.append((reference, label, status_name(UNREADABLE), "—", "—", "—", unreadable_reason(exc)))
    if console.is_terminal:
        heading = ngettext(
            "{sweep}: a sweep of {count} member; `nnplay show {sweep}/K` opens member K.",
            "{sweep}: a sweep of {count} members; `nnplay show {sweep}/K` opens member K.",
            len(members),
        ).format(sweep=sweep.name, count=len(members))
        console.print(Text(heading), soft_wrap=True)
    _print_table(console, MEMBER_COLUMNS, rows, MEMBERS_DROP_ORDER, shorten="settings")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    """`nnplay show`: a run's summary, verdict and loss curves; the verdict's sentences in the current
    language where they can be written again (report.readable_diagnosis). A sweep's results after the
    curves: its members' table (`--sort COLUMN`, else best first) and, for a grid or random search, the
    heatmap or the metric against each setting, and its best member."""
    from rich.markup import escape
    from rich.text import Text

    from nnplay.engine.core.batches import batch_arithmetic, counted, varied_batches
    from nnplay.engine.core.config import quoted
    from nnplay.engine.core.runs import find_run, load_run, runs_root
    from nnplay.tui.charts import loss_chart
    from nnplay.tui.live import final_metrics, sweep_results, verdict_panel
    from nnplay.tui.report import member_rows, readable_diagnosis, status_name, summary_of, train_label
    from nnplay.tui.sweep_view import searched_in, sort_columns, sweep_line

    record = load_run(find_run(runs_root(args.runs), args.run))
    s = summary_of(record)
    heading = _("[bold]{name}[/bold] · {id} · [bold]{status}[/bold] · {epochs} epochs").format(
        name=escape(str(s["name"])),
        id=escape(record.id),
        status=escape(status_name(s["status"])),
        epochs=s.get("epochs_run", 0),
    )
    console.print(Text.from_markup(heading))
    plan = s.get("plan") or {}
    if plan and varied_batches(plan):  # a grid over batch sizes or epochs: the experiment's arithmetic is no member's
        console.print(
            Text(
                _("{dataset}: {train} train / {val} val / {test} test · {batches}").format(
                    dataset=plan.get("dataset"),
                    train=plan.get("n_train"),
                    val=plan.get("n_val"),
                    test=plan.get("n_test"),
                    batches=batch_arithmetic(plan),
                )
            )
        )
    elif plan:
        console.print(
            Text(
                _(
                    "{dataset}: {train} train / {val} val / {test} test · batch {batch_size} → {iterations} per epoch · "
                    "{architecture} with {params:,} parameters"
                ).format(
                    dataset=plan.get("dataset"),
                    train=plan.get("n_train"),
                    val=plan.get("n_val"),
                    test=plan.get("n_test"),
                    batch_size=plan.get("batch_size"),
                    iterations=counted(plan.get("iterations_per_epoch"), "iteration"),
                    architecture=plan.get("architecture"),
                    params=plan.get("params"),
                )
            )
        )
    members = member_rows(record, s) if s.get("members") else []
    searched = searched_in(s.get("plan"))
    if args.sort is not None and not members:
        raise UsageError(_("--sort orders a sweep's results; run {id} is not a sweep").format(id=record.id))
    if args.sort is not None and args.sort not in sort_columns(members):
        raise UsageError(
            _("--sort {value} is not a column of this sweep's results; allowed: {allowed}").format(
                value=quoted(args.sort), allowed=", ".join(sort_columns(members))
            )
        )
    if record.epochs:
        width = min(console.width, 100)
        chart = loss_chart(
            record.epochs,
            width,
            16,
            color=console.is_terminal,
            best_epoch=None if searched else s.get("best_epoch"),  # a search's is its best member's epoch
            train=train_label(s.get("plan")),
        )
        console.print(Text.from_ansi(chart))
    if members:
        console.print(Text(sweep_line(len(members), searched), style="dim"))
        console.print(sweep_results(members, s.get("best_member"), searched, console.width, sort=args.sort))
    if s.get("diagnosis"):
        console.print(verdict_panel(readable_diagnosis(record, s)))
    console.print(final_metrics(s))
    if s.get("error"):
        console.print(Text.assemble((_("error:"), "red"), " ", str(s["error"])))
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
            raise UsageError(
                _("--format tensorboard writes a directory of event files; -o names that directory, not '-'")
            )
        directory = Path(args.output) if args.output else default_export_path(record, "tensorboard")
        written = write_tensorboard(record, directory)
        wrote = _("wrote {path}; view it with: tensorboard --logdir {directory}").format(
            path=written, directory=directory
        )
        console.print(Text(wrote), soft_wrap=True)
        return EXIT_OK
    text = export(record, args.format)
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.output) if args.output else default_export_path(record, args.format)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(Text(_("wrote {path}").format(path=out)))
    return EXIT_OK


def cmd_web(args: argparse.Namespace, console: Console) -> int:
    """`nnplay web`: the explorer in browsers, one app and engine per tab, until Ctrl+C."""
    from nnplay.tui.web import serve

    return serve(args.host, args.port, runs=args.runs, preset=args.preset, font_size=args.font_size, console=console)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with lines wrapped by the cells they take on a terminal (a Korean character takes
    two; argparse counts one)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if text.isascii():
            return super()._split_lines(text, width)
        return cell_wrapped(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.isascii():
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in cell_wrapped(text, width - len(indent)))


def cell_wrapped(text: str, width: int) -> list[str]:
    """Text wrapped at spaces into lines of at most `width` terminal cells (a longer word keeps its line)."""
    from rich.cells import cell_len

    lines: list[str] = []
    line = ""
    for word in text.split():
        longer = f"{line} {word}" if line else word
        if line and cell_len(longer) > width:
            lines.append(line)
            line = word
        else:
            line = longer
    return [*lines, line] if line else lines


def build_parser() -> argparse.ArgumentParser:
    """The command line: the subcommands and their options, described in the current language (build it
    after set_language)."""
    parser = argparse.ArgumentParser(
        prog="nnplay",
        description=_("A neural-network playground for the terminal, on real PyTorch."),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--runs", default=None, help=_("runs directory (default ./runs, or $NNPLAY_RUNS)"))
    parser.add_argument(
        "--lang",
        default=None,
        metavar="LANG",
        help=_("the language nnplay speaks: en or ko (default: $NNPLAY_LANG, else the locale, else en)"),
    )
    # The app's start options; dests of their own, apart from `web --preset`.
    opening = parser.add_mutually_exclusive_group()
    opening.add_argument(
        "--preset",
        dest="open_preset",
        default=None,
        metavar="NAME",
        help=_("open the app with this preset in the form"),
    )
    opening.add_argument(
        "--experiment",
        dest="open_experiment",
        default=None,
        metavar="STRING",
        help=_("open the app with this experiment string in the form"),
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", description=_("with no command, nnplay opens the explorer app")
    )
    p = sub.add_parser("run", help=_("train a preset, TOML experiment or experiment string headless"))
    p.add_argument("preset", metavar="PRESET_OR_FILE_OR_STRING")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=_("override a setting, e.g. training.epochs=20")
    )
    p.add_argument("--json", action="store_true", help=_("stream the engine's raw JSON-lines events"))
    p = sub.add_parser("lesson", help=_("run a lesson and its variation, and check the lesson's claim"))
    p.add_argument("lesson", metavar="LESSON")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=_("override a setting in both runs, e.g. data.seed=1"),
    )
    p.add_argument("--json", action="store_true", help=_("stream the engine's raw JSON-lines events"))
    p = sub.add_parser(
        "share",
        help=_("an experiment as one short line to hand out (an experiment string)"),
        description=_(
            "Print the experiment string of a preset, TOML file or run: one line holding the settings "
            "that differ from the defaults; `nnplay run STRING`, `nnplay --experiment STRING` and the app's "
            "'Open experiment string' command read it. On a terminal a second line gives its `nnplay web` "
            "address; into a pipe only the string is printed."
        ),
    )
    p.add_argument(
        "source", metavar="PRESET|FILE|RUN", help=_("preset name, TOML file, or run id, unique part, path or 'last'")
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=_("override a setting, e.g. training.epochs=20")
    )
    sub.add_parser("presets", help=_("the course's lessons in order, and other presets"))
    p = sub.add_parser("runs", help=_("table of past runs"))
    p.add_argument(
        "sweep",
        nargs="?",
        default=None,
        metavar="SWEEP",
        help=_(
            "a sweep (run id, unique part of it, path, or 'last'): list its members instead, each with the "
            "reference SWEEP/K that `nnplay show` and `nnplay export` take"
        ),
    )
    p = sub.add_parser("show", help=_("a run's summary and loss curves"))
    p.add_argument("run", help=_("run id, unique part of it, path, or 'last'"))
    p.add_argument(
        "--sort",
        default=None,
        metavar="COLUMN",
        help=_(
            "a sweep's results sorted by this column: a setting's name as the table heads it (lr, batch_size, "
            "seed), val, test, status, verdict or time (default: best first)"
        ),
    )
    p = sub.add_parser(
        "export", help=_("write a run report, a PyTorch script that reproduces the run, or TensorBoard files")
    )
    p.add_argument("run", help=_("run id, unique part of it, path, or 'last'"))
    p.add_argument(
        "--format",
        default="md",
        choices=EXPORT_FORMATS,
        help=_("md, json, csv: a report; py: a standalone training script; tensorboard: event files"),
    )
    p.add_argument(
        "-o",
        "--output",
        default=None,
        help=_(
            "file to write ('-' for stdout), or directory for tensorboard "
            "(default, in the run: report.FORMAT, train.py or tensorboard/)"
        ),
    )
    p = sub.add_parser("web", help=_("serve the explorer to browsers: one app per tab, for a classroom"))
    p.add_argument(
        "--host", default="127.0.0.1", help=_("address to listen on (0.0.0.0: every network; default %(default)s)")
    )
    p.add_argument("--port", type=int, default=8000, help=_("port to listen on (default %(default)s)"))
    p.add_argument("--preset", default=None, metavar="NAME", help=_("the preset a tab opens when its link names none"))
    p.add_argument(
        "--font-size",
        type=int,
        default=20,
        help=_("the page's font size in pixels, for a projector (default %(default)s)"),
    )
    for sp in sub.choices.values():  # accepted after the command too, where the top-level value stands unless given
        sp.formatter_class = HelpFormatter
        sp.add_argument("--runs", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sp.add_argument("--lang", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


COMMANDS = {
    "run": cmd_run,
    "share": cmd_share,
    "lesson": cmd_lesson,
    "presets": cmd_presets,
    "runs": cmd_runs,
    "show": cmd_show,
    "export": cmd_export,
    "web": cmd_web,
}


STARTS_RUNS = (None, "run", "lesson", "web")  # the app (no command) and the commands that write runs


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


def check_opening(args: argparse.Namespace) -> None:
    """Check `--preset` and `--experiment` before the app starts: UsageError, ConfigError or ShareError
    (one sentence each) when they come with a command, the preset is not one, or the string cannot be
    read or run."""
    from nnplay.engine.core.config import quoted
    from nnplay.engine.core.config_files import load
    from nnplay.presets import list_presets

    if args.command is not None:
        option = "--preset" if args.open_preset is not None else "--experiment"
        raise UsageError(
            _("{option} opens the app, so it goes with no command; `nnplay run` takes a preset or string").format(
                option=option
            )
        )
    if args.open_preset is not None:
        preset = next((p for p in list_presets() if p.name == args.open_preset), None)
        if preset is None:
            names = ", ".join(p.name for p in list_presets())
            raise UsageError(
                _("--preset {name} is not a preset; presets: {names}").format(
                    name=quoted(args.open_preset), names=names
                )
            )
        load(preset.path)
    if args.open_experiment is not None:
        _experiment_config(args.open_experiment, [])


def language_option(argv: list[str]) -> str | None:
    """The `--lang` that argv gives (before or after the command; the last one counts), read before the
    parser is built so that its help speaks that language; None when there is none, or when it has no
    value (the parser then says so)."""
    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang")
    try:
        known, _rest = early.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    return known.lang


def chosen_language(argv: list[str]) -> str:
    """The language to speak: argv's --lang, else NNPLAY_LANG, else the locale's, else English. LanguageError
    for one nnplay does not speak, said in the language NNPLAY_LANG or the locale names when they name one."""
    explicit = language_option(argv)
    try:
        return resolve_language(explicit)
    except LanguageError:
        with contextlib.suppress(LanguageError):
            set_language(resolve_language())
        return resolve_language(explicit)  # the same refusal, now in that language


def print_error(message: str) -> None:
    """One sentence on stderr after a red 'error:'; the message is text, never markup."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False).print(Text.assemble((_("error:"), "red"), " ", message), soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """`nnplay`: the app with no command, else the subcommand, in the language --lang, NNPLAY_LANG or the
    locale names; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        language = chosen_language(argv)
    except LanguageError as exc:  # before anything starts
        print_error(str(exc))
        return EXIT_USAGE
    set_language(language)
    argparse._ = _  # type: ignore[attr-defined]  # argparse's own words (ARGPARSE_MESSAGES) in it too
    parser = build_parser()
    args = parser.parse_args(argv)
    if (problem := runs_dir_error(args)) is not None:
        print_error(problem)
        return EXIT_USAGE
    if args.open_preset is not None or args.open_experiment is not None:
        try:
            check_opening(args)
        except (UsageError, ValueError) as exc:  # a ConfigError or ShareError is a ValueError
            print_error(str(exc))
            return EXIT_USAGE
    if args.command is None:
        # The explorer: Textual, no torch in this process; it speaks the language set above, and so do the
        # engines it starts.
        from nnplay.tui.app import main as app_main

        return app_main(args.runs, preset=args.open_preset, experiment=args.open_experiment)
    from rich.console import Console

    console = Console(highlight=False)
    try:
        return COMMANDS[args.command](args, console)
    # A ConfigError is a ValueError: caught without importing the config schema (pydantic, a sixth of a
    # second), which `nnplay runs` never needs.
    except (UsageError, FileNotFoundError, ValueError) as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # a path the system refuses (a name too long, no permission): a sentence, not a traceback
        from nnplay.engine.core.config import quoted

        where = f"{quoted(str(exc.filename))}: " if exc.filename else ""
        print_error(f"{where}{exc.strerror or exc}")
        return EXIT_USAGE


if __name__ == "__main__":  # `python -m nnplay.tui.cli`: how `nnplay web` starts each tab's app
    sys.exit(main())
