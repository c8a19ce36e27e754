"""Headless rendering of a run's events with Rich: the plan, a live progress bar, and the final
summary with the loss chart, the verdict and the test metrics."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from nnplay.engine.core.batches import batch_arithmetic
from nnplay.engine.core.catalog import data_info_summary
from nnplay.engine.core.i18n import _, ngettext
from nnplay.engine.core.memory import human
from nnplay.tui.charts import loss_chart
from nnplay.tui.report import (
    METRIC_NAMES,
    duration,
    final_table,
    fold_line,
    folds_table,
    format_metric,
    metric_name,
    metric_short,
    status_name,
    train_label,
    train_subset,
)
from nnplay.tui.state import is_number
from nnplay.tui.sweep_view import best_member_line, failures, figures, results_table, searched_in, verdict_title

VERDICT_STYLES = {
    "good fit": "green",
    "overfitting caught": "green",
    "overfitting": "yellow",
    "underfitting": "yellow",
    "still improving": "yellow",
    "learning rate too high": "red",
    "diverged": "red",
}


def epoch_metrics_text(event: dict) -> str:
    """'loss 0.123 · val 0.145 · val acc 95.1%' from an epoch event."""
    loss = format_metric("loss", event.get("train_loss", event.get("train_loss_running")))
    parts = [_("loss {value}").format(value=loss)]
    if event.get("val_loss") is not None:
        parts.append(_("val {value}").format(value=format_metric("loss", event["val_loss"])))
    for key in ("accuracy", "r2", "recon_error"):
        if event.get(f"val_{key}") is not None:
            value = format_metric(key, event[f"val_{key}"])
            parts.append(_("val {metric} {value}").format(metric=metric_short(key), value=value))
    return " · ".join(parts)


def plan_panel(plan: dict) -> Panel:
    """The plan as a Rich panel: data and split, batches, model, loss, device and memory."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    # Every cell is a Text: a plan's words reach here from the engine and the user's config, never markup.
    data = _("{dataset} ({samples} samples, input {shape})").format(
        dataset=plan["dataset"], samples=plan["n_samples"], shape=plan["input_shape"]
    )
    table.add_row(_("data"), Text(data))
    if plan.get("data_info"):  # your own data: what was read
        table.add_row(_("read"), Text(data_info_summary(plan["data_info"])))
    sizes = {"train": plan["n_train"], "val": plan["n_val"], "test": plan["n_test"]}
    if plan.get("k_folds"):
        split = _("{train} train / {val} validation / {test} test, {k}-fold cross-validation").format(
            k=plan["k_folds"], **sizes
        )
    else:
        split = _("{train} train / {val} validation / {test} test").format(**sizes)
    table.add_row(_("split"), Text(split))
    table.add_row(_("batches"), Text(batch_arithmetic(plan)))
    table.add_row("", Text(plan["last_batch"], style="dim"))
    if train_subset(plan):
        table.add_row(
            _("measure"),
            Text(
                _(
                    "train metrics each epoch on a fixed random {n_eval} of the {n_train} "
                    "training samples; the final table uses all of them"
                ).format(n_eval=plan["n_train_eval"], n_train=plan["n_train"]),
                style="dim",
            ),
        )
    model = _("{architecture}, {params:,} parameters").format(architecture=plan["architecture"], params=plan["params"])
    table.add_row(_("model"), Text(model))
    table.add_row(_("loss"), Text(str(plan["loss_description"])))
    threads = plan["threads"]
    device = ngettext("{device} ({precision}, {threads} thread)", "{device} ({precision}, {threads} threads)", threads)
    table.add_row(_("device"), Text(device.format(device=plan["device"], precision=plan["precision"], threads=threads)))
    if is_number(plan.get("memory_bytes")):
        memory = _("about {size} (data, model, optimizer and activations)").format(size=human(plan["memory_bytes"]))
        table.add_row(_("memory"), Text(memory))
    return Panel(
        table, title=Text(_("plan: {name}").format(name=plan["name"])), title_align="left", border_style="blue"
    )


def table_of(columns: list[str], rows: list[list[str]], title: str | None = None, compact: bool = False) -> Table:
    """A borderless table of report rows: the first column and verdicts to the left, numbers to the right;
    `compact` (for a panel) pads less and never wraps a cell."""
    table = Table(
        box=None,
        padding=(0, 1 if compact else 2),
        pad_edge=not compact,
        header_style="bold",
        title=title,
        title_justify="left",
    )
    for i, column in enumerate(columns):
        words = i == 0 or column == _("verdict")
        table.add_column(column, justify="left" if words else "right", no_wrap=compact)
    for row in rows:
        table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))  # text, never markup
    return table


def final_metrics(summary: dict) -> Group:
    """The final table: every number of the same weights, named in the line above it; or, after a
    cross-validation, one row per fold and their mean ± std. (The line is not the table's title,
    which Rich would wrap to the table's narrow width.)"""
    if summary.get("folds"):
        columns, rows = folds_table(summary)
        title = _("cross-validation: each fold's kept weights, scored on the part it did not train on")
    else:
        title, columns, rows = final_table(summary)
    return Group(Text(title, style="italic"), table_of(columns, rows))


def members_table(members: list[dict]) -> Table:
    """A sweep's members side by side: what differs, how each ended, its test metrics."""
    table = Table(box=None, padding=(0, 2), header_style="bold", title=_("members"), title_justify="left")
    keys = [k for k in METRIC_NAMES if any((m.get("test") or {}).get(k) is not None for m in members)]
    table.add_column(_("member"), justify="left")
    table.add_column(_("status"), justify="left")
    for k in keys:
        table.add_column(_("test {metric}").format(metric=metric_name(k)), justify="right")
    for m in members:
        test = m.get("test") or {}
        status = status_name(m["status"]) if m.get("status") else "—"
        cells = (str(m["label"]), status, *(format_metric(k, test.get(k)) for k in keys))
        table.add_row(*map(Text, cells))
    return table


def sweep_results(
    rows: list[dict], best: int | None, searched: list[str], width: int, sort: str | None = None
) -> Group:
    """A sweep's results: the table (best first, the best member's row marked and bold), then for a grid or
    random search the heatmap or the metric against each setting and the best member in a line; the members
    that failed, and why. ValueError when `sort` is not a column of the table."""
    table = results_table(rows, sort=sort, best=best, search=bool(searched))
    grid = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    for column in table.columns:  # only the verdict's words may wrap; settings and numbers stay whole
        grid.add_column(column.title, justify="right" if column.numeric else "left", no_wrap=column.key != "verdict")
    for i, cells in enumerate(table.rows):
        grid.add_row(*map(Text, cells), style="bold" if i == table.best_row else None)  # text, never markup
    parts: list = [Text(table.title, style="italic"), grid]
    for block in figures(rows, searched, width=min(width, 100), best=table.best):
        parts += [Text(""), Text(block)]
    line = best_member_line(rows, table.best) if searched else None
    if line:
        parts += [Text(""), Text(line, style="bold")]
    parts += [Text(failure, style="red") for failure in failures(rows)]
    return Group(*parts)


def verdict_panel(diagnosis: dict) -> Panel:
    """The diagnosis as a Rich panel, colored by verdict: the explanation, the advice and any notes; a grid's
    or random search's is its best member's, and its title says so."""
    verdict = diagnosis.get("verdict", "unknown")
    body = [Text(str(diagnosis.get("explanation", "")))]
    if diagnosis.get("advice"):
        body.append(Text(_("What to try: {advice}").format(advice=diagnosis["advice"]), style="italic"))
    for note in diagnosis.get("notes") or []:
        body.append(Text(_("Note: {note}").format(note=note), style="bold"))
    return Panel(
        Group(*body),
        title=Text(verdict_title(diagnosis)),
        title_align="left",
        border_style=VERDICT_STYLES.get(verdict, "white"),
    )


class RunRenderer:
    """Turns events into terminal output; one instance per run."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task_id: TaskID | None = None  # set with the progress bar
        self.epochs: list[dict] = []
        self.diagnosis: dict = {}
        self.plan: dict = {}
        self.every = 1  # epochs between printed lines when the output is not a terminal
        self.total = 0

    def handle(self, event: dict) -> None:
        """Pass the event to its `on_<type>` method; other types are ignored."""
        handler = getattr(self, f"on_{event.get('type')}", None)
        if handler is not None:
            handler(event)

    def on_hello(self, e: dict) -> None:
        """Print the engine's version, torch's and the device, dimmed."""
        self.console.print(
            Text(
                _("nnplay engine {engine} · torch {torch} · {device}").format(
                    engine=e.get("engine_version"), torch=e.get("torch_version"), device=e.get("device_name")
                ),
                style="dim",
            )
        )

    def on_plan(self, e: dict) -> None:
        """Print the plan and start the progress bar (on a terminal)."""
        self.plan = e
        self.console.print(plan_panel(e))
        self.total = e["epochs"] * (e.get("k_folds") or 1)
        self.every = max(1, self.total // 20)
        if self.console.is_terminal:
            # Rich fills in the {task...} fields of these columns.
            self.progress = Progress(
                TextColumn(_("epoch {task.completed:>.0f}/{task.total:.0f}")),
                BarColumn(),
                TextColumn("{task.fields[metrics]}", markup=False),
                TextColumn(_("[dim]{task.fields[speed]} · ETA {task.fields[eta]}[/dim]")),
                console=self.console,
                transient=True,
            )
            self.task_id = self.progress.add_task("train", total=self.total, metrics="", speed="", eta="—")
            self.progress.start()

    def on_epoch(self, e: dict) -> None:
        """Advance the progress bar, or print a line every few epochs when the output is not a terminal."""
        self.epochs.append(e)
        speed = _("{rate:,.0f} samples/s").format(rate=e["samples_per_s"]) if e.get("samples_per_s") else ""
        if self.progress is not None and self.task_id is not None:
            self.progress.update(
                self.task_id,
                completed=len(self.epochs),
                metrics=epoch_metrics_text(e),
                speed=speed,
                eta=duration(e.get("eta_s")),
            )
        elif e["epoch"] % self.every == 0 or e["epoch"] == e.get("epochs"):
            line = _("epoch {epoch}/{epochs}  {metrics}  {speed}").format(
                epoch=e["epoch"], epochs=e.get("epochs"), metrics=epoch_metrics_text(e), speed=speed
            )
            self.console.print(line)

    def on_warning(self, e: dict) -> None:
        """Print the engine's warning."""
        self.console.print(Text.assemble((_("warning:"), "yellow"), " ", str(e.get("message"))))

    def on_fold(self, e: dict) -> None:
        """Print the finished fold's line."""
        self.console.print(Text(fold_line(e)))

    def on_diagnosis(self, e: dict) -> None:
        """Keep the diagnosis for the final report."""
        self.diagnosis = e

    def _stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def on_done(self, e: dict) -> None:
        """Stop the progress bar and print the final report: loss chart, verdict, metrics, status and where the run is
        saved."""
        self._stop_progress()
        searched = searched_in(self.plan)
        if any(is_number(x.get("train_loss", x.get("train_loss_running"))) for x in self.epochs):
            width = min(self.console.width, 100)
            chart = loss_chart(
                self.epochs,
                width=width,
                height=16,
                color=self.console.is_terminal,
                best_epoch=None if searched else e.get("best_epoch"),  # a search's is its best member's epoch
                train=train_label(self.plan),
            )
            self.console.print(Text.from_ansi(chart))
        if e.get("members") and searched:  # a grid or random search: what the search found, first
            self.console.print(sweep_results(e["members"], e.get("best_member"), searched, self.console.width))
        if self.diagnosis:
            self.console.print(verdict_panel(self.diagnosis))
        if (e.get("kept") or {}).get("epoch") is not None or not e.get("kept"):
            self.console.print(final_metrics(e))
        if e.get("members") and not searched:
            self.console.print(members_table(e["members"]))
        if e.get("hint") and not self.diagnosis:  # the verdict's advice already says it
            self.console.print(Text(e["hint"], style="red"))
        shown = {"status": escape(status_name(e["status"])), "run_dir": escape(str(e.get("run_dir")))}
        if e.get("weights_epoch"):
            line = _("[bold]{status}[/bold], weights of epoch {epoch} · run saved in {run_dir}").format(
                epoch=e["weights_epoch"], **shown
            )
        else:
            line = _("[bold]{status}[/bold] · run saved in {run_dir}").format(**shown)
        self.console.print(Text.from_markup(line))

    def on_error(self, e: dict) -> None:
        """Stop the progress bar and print the error, after its traceback when there is one."""
        self._stop_progress()
        if e.get("traceback"):
            self.console.print(Text(e["traceback"], style="dim"))
        self.console.print(Text.assemble((_("error:"), "red"), " ", str(e.get("message"))), highlight=False)
