"""What a configuration will do before it runs: the splits, the batch arithmetic, what happens
to the last partial batch, the model's size and layers, the loss and the device."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from nnplay.engine.core.batches import batch_arithmetic, count
from nnplay.engine.core.catalog import data_info_summary
from nnplay.engine.core.i18n import N_, _, ngettext
from nnplay.tui.state import RunState, is_number


def sentence(text: str) -> str:
    """The engine's clause as a sentence: capital first letter, full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


SWEEP_MODES = {
    "batched": N_("trained together as one batched model"),
    "processes": N_("trained as separate engine processes"),
    "ray": N_("trained as Ray tasks"),
}


def sweep_line(sweep: dict) -> str:
    """'8 copies (seed 0, seed 1, …, seed 7), trained together as one batched model'; a grid's: '9 members
    varying optimizer.lr, training.batch_size, trained as separate engine processes'."""
    labels = [str(label) for label in sweep.get("labels") or []]
    shown = ", ".join(labels if len(labels) <= 4 else [*labels[:2], "…", labels[-1]])
    mode = sweep.get("executor", sweep.get("mode"))  # runs recorded before the executor had its name: "mode"
    how = _(SWEEP_MODES[mode]) if isinstance(mode, str) and mode in SWEEP_MODES else ""
    count = sweep["members"]
    settings = [str(name) for name in sweep.get("settings") or []]
    if settings:  # a grid or random search: members that differ in settings, not copies
        varying = ", ".join(settings)
        if how:
            return _("{count} members varying {settings}, {how}").format(count=count, settings=varying, how=how)
        return _("{count} members varying {settings}").format(count=count, settings=varying)
    if shown and how:
        return _("{count} copies ({labels}), {how}").format(count=count, labels=shown, how=how)
    if shown:
        return _("{count} copies ({labels})").format(count=count, labels=shown)
    if how:
        return _("{count} copies, {how}").format(count=count, how=how)
    return _("{count} copies").format(count=count)


def layers_table(model: dict) -> Table:
    """The model's layers: name, type, output shape, parameters."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column(_("layer"), no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column(_("type"), no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column(_("output"), no_wrap=True)
    table.add_column(_("params"), justify="right", no_wrap=True)
    for layer in model.get("layers") or []:
        shape = layer.get("output_shape")
        shown = "×".join(str(d) for d in shape) if isinstance(shape, list) else str(shape or "")
        table.add_row(str(layer.get("name", "")), str(layer.get("type", "")), shown, count(layer.get("params")))
    return table


class PlanPanel(Static):
    """`show_plan(plan)`, `show_pending()` or `show_error(message)` (which sets class -error)."""

    DEFAULT_CSS = """
    PlanPanel {
        height: auto;
        padding: 0 1;
    }
    PlanPanel.-error { color: $error; }
    PlanPanel.-pending { color: $text-muted; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(_("no plan yet"), name=name, id=id, classes=classes)
        self.plan: dict | None = None

    def update_from(self, state: RunState) -> None:
        """Show the run's plan, if it changed."""
        if state.plan is not None and state.plan is not self.plan:
            self.show_plan(state.plan)

    def show_pending(self) -> None:
        """Say that the engine is planning (a plan request is in flight)."""
        self.plan = None
        self._set_state_class("-pending")
        self.update(_("computing plan…"))

    def show_error(self, message: str) -> None:
        """One sentence saying what is wrong with the configuration, instead of a plan."""
        self.plan = None
        self._set_state_class("-error")
        self.update(Text(message))

    def show_plan(self, plan: dict) -> None:
        """Show a `plan` event (from a run, or the answer to a plan request)."""
        self.plan = plan
        self._set_state_class("")
        self.update(self._render_plan(plan))

    def _set_state_class(self, cls: str) -> None:
        self.remove_class("-error", "-pending")
        if cls:
            self.add_class(cls)

    def on_resize(self) -> None:
        """Render the plan again: whether the layers table fits depends on the size."""
        # Whether the layers table fits depends on the size, so re-decide it.
        if self.plan is not None and not self.has_class("-error") and not self.has_class("-pending"):
            self.update(self._render_plan(self.plan))

    def _render_plan(self, plan: dict) -> RenderableType:
        lines = Text()
        lines.append(f"{plan.get('name') or _('experiment')}", style="bold")
        lines.append(
            "  "
            + _("{task} on {dataset} with {architecture}").format(
                task=plan.get("task", "?"), dataset=plan.get("dataset", "?"), architecture=plan.get("architecture", "?")
            )
            + "\n"
        )
        if isinstance(plan.get("data_info"), dict):  # your own data: what was read from it
            lines.append(_("read:") + " ", style="bold")
            lines.append(f"{data_info_summary(plan['data_info'])}\n")
        lines.append(
            _("data: {train} train · {val} val · {test} test").format(
                train=count(plan.get("n_train")), val=count(plan.get("n_val")), test=count(plan.get("n_test"))
            )
        )
        if is_number(plan.get("k_folds")) and plan["k_folds"] > 1:
            lines.append(" · " + _("{k}-fold cross-validation").format(k=plan["k_folds"]))
        lines.append("\n" + _("batches:") + " ")
        lines.append(batch_arithmetic(plan), style="bold")
        if plan.get("last_batch"):
            lines.append(f"\n{sentence(str(plan['last_batch']))}", style="italic")
        model = plan.get("model") or {}
        parameters = count(plan.get("params", model.get("total_params")))
        lines.append("\n" + _("model: {count} parameters").format(count=parameters))
        if is_number(model.get("trainable_params")) and model["trainable_params"] != plan.get("params"):
            lines.append(" " + _("({count} trainable)").format(count=count(model["trainable_params"])))
        loss = plan.get("loss") or "?"
        if plan.get("loss_description"):
            lines.append(
                "\n" + _("loss: {loss} — {description}").format(loss=loss, description=plan["loss_description"])
            )
        else:
            lines.append("\n" + _("loss: {loss}").format(loss=loss))
        optimizer = plan.get("optimizer")
        if optimizer:
            shown = optimizer if isinstance(optimizer, str) else ", ".join(f"{k} {v}" for k, v in optimizer.items())
            lines.append("\n" + _("optimizer: {optimizer}").format(optimizer=shown))
        sweep = plan.get("sweep")
        if isinstance(sweep, dict) and is_number(sweep.get("members")):
            lines.append("\n" + _("sweep: {sweep}").format(sweep=sweep_line(sweep)))
        lines.append("\n" + _("device: {device}").format(device=plan.get("device", "?")))
        if plan.get("precision"):
            lines.append(f" · {plan['precision']}")
        if is_number(plan.get("threads")):
            threads = plan["threads"]
            lines.append(" · " + ngettext("{count} CPU thread", "{count} CPU threads", threads).format(count=threads))
        if is_number(plan.get("memory_bytes")):
            from nnplay.engine.core.memory import human  # here: memory imports the config schema (pydantic), which
            # the app's first frame does without

            lines.append("\n" + _("memory: about {size}").format(size=human(plan["memory_bytes"])))
        if not model.get("layers") or not self._room_for(len(model["layers"]) + 2, lines):
            return lines
        return Group(lines, Text(""), layers_table(model))

    def _room_for(self, table_lines: int, summary: Text) -> bool:
        """The layers table is shown when the panel may grow (auto height) or has the lines to spare."""
        height = self.styles.height
        if height is None or height.is_auto or not self.size.height:
            return True
        used = len(summary.wrap(self.app.console, max(1, self.size.width)))
        return self.size.height >= used + table_lines + 1
