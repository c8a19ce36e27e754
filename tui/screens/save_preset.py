"""A small dialog that saves the form as one of the user's presets, in their presets directory.

It never replaces a shipped preset (a lesson of the course), and replaces one of the user's own
only when enter is pressed a second time on the same name.
"""

from __future__ import annotations

import re
from typing import Any

import tomli_w
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from nnplay.presets import reserved_name_reason, user_preset_path, user_presets_dir

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class SavePresetScreen(ModalScreen[str | None]):
    """Ask for a name and a description, write <user presets>/<name>.toml with only the keys set;
    dismissed with the full path of the file written, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = data
        self.replacing: str | None = None  # the user preset that a second enter replaces

    def compose(self) -> ComposeResult:
        """The dialog: the name and description inputs, the error line and where the file goes."""
        with Vertical(id="dialog"):
            yield Label("Save the form as one of your presets")
            yield Input(placeholder="name, e.g. my-dropout-test", id="preset-name")
            yield Input(placeholder="what it demonstrates (one sentence)", id="preset-description")
            yield Static("", id="dialog-error")
            yield Label(Text(f"saved in {user_presets_dir()}", style="dim"), id="dialog-where")
            yield Label("[dim]enter saves · escape cancels[/dim]")

    def refuse(self, sentence: str) -> None:
        """Show why the preset cannot be saved, as plain text."""
        self.query_one("#dialog-error", Static).update(Text(sentence))  # the user's text, never markup

    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#preset-name", Input).value.strip()
        if not NAME.match(name):
            self.refuse(f"name = {name!r} is not valid; allowed: lower-case letters, digits and dashes")
            return
        reason = reserved_name_reason(name)
        if reason is not None:
            self.refuse(reason)
            return
        path = user_preset_path(name)
        if path.exists() and self.replacing != name:
            self.replacing = name
            self.refuse(f"name = {name!r} is already one of your presets; press enter again to replace it")
            return
        data = {k: v for k, v in self.data.items() if k not in ("name", "description")}
        description = self.query_one("#preset-description", Input).value.strip() or f"A saved experiment: {name}."
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(tomli_w.dumps({"description": description, **data}), encoding="utf-8")
        except OSError as exc:
            self.refuse(f"could not write {path}: {exc.strerror or exc}")
            return
        self.dismiss(str(path))
