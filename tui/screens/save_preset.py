"""A small dialog that saves the form as a preset TOML file."""

from __future__ import annotations

import re
from typing import Any

import tomli_w
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from presets import PRESETS_DIR

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class SavePresetScreen(ModalScreen[str | None]):
    """Ask for a name and a description, write presets/<name>.toml with only the keys set."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = data

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Save the form as a preset")
            yield Input(placeholder="name, e.g. my-dropout-test", id="preset-name")
            yield Input(placeholder="what it demonstrates (one sentence)", id="preset-description")
            yield Static("", id="dialog-error")
            yield Label("[dim]enter saves · escape cancels[/dim]")

    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#preset-name", Input).value.strip()
        if not NAME.match(name):
            self.query_one("#dialog-error", Static).update(
                f"name = {name!r} is not valid; allowed: lower-case letters, digits and dashes"
            )
            return
        data = {k: v for k, v in self.data.items() if k not in ("name", "description")}
        description = self.query_one("#preset-description", Input).value.strip() or f"A saved experiment: {name}."
        path = PRESETS_DIR / f"{name}.toml"
        path.write_text(tomli_w.dumps({"description": description, **data}), encoding="utf-8")
        self.dismiss(name)
