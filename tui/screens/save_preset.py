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

from nnplay.engine.core.i18n import N_, _
from nnplay.presets import reserved_name_reason, user_preset_path, user_presets_dir

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class SavePresetScreen(ModalScreen[str | None]):
    """Ask for a name and a description, write <user presets>/<name>.toml with only the keys set;
    dismissed with the full path of the file written, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = data
        self.replacing: str | None = None  # the user preset that a second enter replaces

    def compose(self) -> ComposeResult:
        """The dialog: the name and description inputs, the error line and where the file goes."""
        with Vertical(id="dialog"):
            yield Label(id="dialog-title")
            yield Input(id="preset-name")
            yield Input(id="preset-description")
            yield Static("", id="dialog-error")
            yield Label(id="dialog-where")
            yield Label(id="dialog-keys")

    def on_mount(self) -> None:
        """The dialog's words, in the language spoken now."""
        self.relabel()

    def relabel(self) -> None:
        """Every word of the dialog in the language spoken now; what was typed stays."""
        self.query_one("#dialog-title", Label).update(_("Save the form as one of your presets"))
        self.query_one("#preset-name", Input).placeholder = _("name, e.g. my-dropout-test")
        self.query_one("#preset-description", Input).placeholder = _("what it demonstrates (one sentence)")
        where = _("saved in {path}").format(path=user_presets_dir())
        self.query_one("#dialog-where", Label).update(Text(where, style="dim"))
        self.query_one("#dialog-keys", Label).update(Text(_("enter saves · escape cancels"), style="dim"))

    def refuse(self, sentence: str) -> None:
        """Show why the preset cannot be saved, as plain text."""
        self.query_one("#dialog-error", Static).update(Text(sentence))  # the user's text, never markup

    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#preset-name", Input).value.strip()
        if not NAME.match(name):
            self.refuse(
                _("name = {name} is not valid; allowed: lower-case letters, digits and dashes").format(name=repr(name))
            )
            return
        reason = reserved_name_reason(name)
        if reason is not None:
            self.refuse(reason)
            return
        path = user_preset_path(name)
        if path.exists() and self.replacing != name:
            self.replacing = name
            self.refuse(
                _("name = {name} is already one of your presets; press enter again to replace it").format(
                    name=repr(name)
                )
            )
            return
        data = {k: v for k, v in self.data.items() if k not in ("name", "description")}
        description = self.query_one("#preset-description", Input).value.strip() or _(
            "A saved experiment: {name}."
        ).format(name=name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(tomli_w.dumps({"description": description, **data}), encoding="utf-8")
        except OSError as exc:
            self.refuse(_("could not write {path}: {reason}").format(path=path, reason=exc.strerror or exc))
            return
        self.dismiss(str(path))
