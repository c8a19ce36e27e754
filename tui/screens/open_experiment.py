"""A small dialog that reads an experiment string (typed or pasted) into the set-up form.

A string that cannot be read, or whose settings cannot be run, is refused in one sentence under the
input; the dialog stays open to fix or replace it.
"""

from __future__ import annotations

import copy
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from nnplay.engine.core.i18n import N_, _


class OpenExperimentScreen(ModalScreen[dict[str, Any] | None]):
    """Ask for an experiment string, or an `nnplay web` address holding one; dismissed with the
    settings it holds (checked to be runnable), or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def compose(self) -> ComposeResult:
        """The dialog: the string's input and the line that says why a string is refused."""
        with Vertical(id="dialog"):
            yield Label(id="dialog-title")
            yield Input(id="experiment-string")
            yield Static("", id="dialog-error")
            yield Label(id="dialog-keys")

    def on_mount(self) -> None:
        """The dialog's words, in the language spoken now."""
        self.relabel()

    def relabel(self) -> None:
        """Every word of the dialog in the language spoken now; what was typed stays."""
        self.query_one("#dialog-title", Label).update(_("Open an experiment string"))
        self.query_one("#experiment-string", Input).placeholder = _("nnp1.… (paste it whole), or an nnplay web address")
        self.query_one("#dialog-keys", Label).update(
            Text(_("enter loads it into the form · escape cancels"), style="dim")
        )

    def refuse(self, sentence: str) -> None:
        """Show why the string cannot be opened, as plain text."""
        self.query_one("#dialog-error", Static).update(Text(sentence))  # quotes the user's text: never markup

    @on(Input.Submitted, "#experiment-string")
    def _submit(self, event: Input.Submitted) -> None:
        from nnplay.engine.core.config import ConfigError, validate
        from nnplay.engine.core.share import ShareError, decode

        try:
            data = decode(event.value)
            validate(copy.deepcopy(data))
        except ShareError as exc:
            self.refuse(str(exc))
            return
        except ConfigError as exc:
            self.refuse(str(exc.within(_("the experiment string"))))
            return
        self.dismiss(data)
