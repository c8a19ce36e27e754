"""The run's log: plan summary, warnings, fold results, errors, where the run was saved."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual import events
from textual.widgets import RichLog

from nnplay.tui.state import LOG_LINES, RunState

MATCH_WINDOW = 3  # how many of the last shown lines must match to find our place again


def line_style(line: str) -> str:
    """The style of a log line: red for errors, yellow for warnings (by the line's kind, whatever the
    language of its words; a plain string by its first word)."""
    kind = getattr(line, "kind", "")
    if kind == "error" or line.startswith("error"):
        return "red"
    if kind == "warning" or line.startswith("warning"):
        return "yellow"
    return ""


class LogPanel(RichLog):
    """Appends the lines of `state.log` it has not shown yet, each exactly once.

    state.log is a bounded deque that drops old lines, so a count alone cannot tell how many
    lines are new: the panel remembers the identity of the last few lines it showed and
    finds them again (a long gap between calls may skip lines, never repeat them).
    """

    DEFAULT_CSS = """
    LogPanel {
        height: 1fr;
        min-height: 3;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            max_lines=LOG_LINES * 2,
            min_width=20,
            wrap=True,
            markup=False,
            highlight=False,
            name=name,
            id=id,
            classes=classes,
        )
        self._state_id: int | None = None
        self._version: int | None = None
        self._tail: list[str] = []  # the last lines shown, as the very objects in state.log
        self._length = 0  # len(state.log) at the last call
        self.shown = 0  # lines written since the state was first seen
        self._state: RunState | None = None
        self._wrapped_at = 0  # the width the lines were wrapped to

    def on_resize(self, event: events.Resize) -> None:
        """Lines are wrapped when written: a new width (a resize, the compact layout showing the log) writes
        them all again, wrapped to it, instead of leaving them cut."""
        if self._state is not None and self.scrollable_content_region.width != self._wrapped_at:
            state, self._state_id = self._state, None
            self.update_from(state)

    def update_from(self, state: RunState) -> None:
        """Write the log lines that arrived since the last call."""
        if id(state) != self._state_id:  # another run (or a new width): start over
            self.clear()
            self._state_id, self._version, self._tail, self._length, self.shown = id(state), None, [], 0, 0
        self._state, self._wrapped_at = state, self.scrollable_content_region.width
        if state.version == self._version:
            return
        self._version = state.version
        for line in self._new_lines(state.log):
            self.write(Text(str(line), style=line_style(line)))
            self.shown += 1

    def _new_lines(self, log: deque) -> list[str]:
        lines = list(log)
        start = self._after_tail(lines, self._tail, self._length) if self._tail else 0
        new = lines[start:]
        if new:
            self._tail = (self._tail + new)[-MATCH_WINDOW:]
        self._length = len(lines)
        return new

    @staticmethod
    def _after_tail(lines: list[str], tail: list[str], length: int) -> int:
        """The index just after where `tail` (matched by identity) now sits; 0 if it was dropped.

        Lines only leave at the front, so the tail can only have moved left of where it ended
        last time (`length`): search from there towards the front.
        """
        n = len(tail)
        for end in range(min(length, len(lines)), 0, -1):
            window = lines[max(0, end - n) : end]
            if all(a is b for a, b in zip(window, tail[-len(window) :], strict=True)):
                return end
        return 0
