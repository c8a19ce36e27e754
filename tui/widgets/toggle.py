"""An on/off setting that says which it is in characters, not only in colour: "[✓] on" / "[ ] off"."""

from __future__ import annotations

from textual.widgets import Checkbox

from nnplay.engine.core.i18n import _


class Toggle(Checkbox):
    """A checkbox whose mark is ✓ or blank and whose label reads "on" or "off" (Textual's own switch and
    checkbox show their state by colour alone, which a monochrome or low-contrast terminal loses)."""

    DEFAULT_CSS = """
    Toggle {
        width: auto;
    }
    """

    def __init__(self, value: bool = False, *, id: str | None = None) -> None:
        super().__init__(self.word(value), value, id=id)

    @staticmethod
    def word(value: bool) -> str:
        """'on' or 'off', in the current language."""
        return _("on") if value else _("off")

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual only reads this class attribute
        """The mark inside the box: ✓ when on, blank when off."""
        return "✓" if self.value else " "

    def watch_value(self) -> None:
        """Say 'on' or 'off' beside the box."""
        super().watch_value()  # announces the change
        self.label = self.word(self.value)
