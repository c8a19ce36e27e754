"""The footer of every screen: Textual's own, its keys described in the language spoken now.

Bindings are class attributes, made when a module is imported: their descriptions are marked with `N_`
and translated here, each time the footer is composed, so that a language switch while the app runs
(which composes the footers again) changes them too. The language key is named by the language it
switches to, in that language: "한국어" while the app speaks English, "English" while it speaks Korean.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

from nnplay.engine.core.i18n import LANGUAGES, N_, _, current_language

LANGUAGE_ACTION = "switch_language"  # the app's action that switches to the other language
PALETTE = N_("palette")  # what Textual calls the command palette's key


def other_language() -> str:
    """The language the language key switches to: Korean from English, English from Korean."""
    return "ko" if current_language() == "en" else "en"


class Footer(TextualFooter):
    """Textual's footer with translated key descriptions (see the module's docstring)."""

    def compose(self) -> ComposeResult:
        """Textual's keys, each description in the current language."""
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                if widget.action.rpartition(".")[2] == LANGUAGE_ACTION:
                    widget.description = LANGUAGES[other_language()]
                else:
                    widget.description = _(widget.description)
            yield widget
