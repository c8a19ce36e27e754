"""How often the dashboard draws while a run streams.

Drawing a chart costs the app's process time that grows with the curves (plotext rasterizes every
segment in Python), and on a small machine that time is taken from the engine next door: the two
share the processor's cores and caches. So the dashboard redraws at most every `REDRAW_INTERVAL_S`
and never so often that drawing takes more than `DRAW_SHARE` of one core: a frame that took 40 ms is
followed by the next one 0.4 s later at the earliest. A learner still sees the curves move several
times a second; a fast run no longer pays for frames nobody can follow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

REDRAW_INTERVAL_S = 0.25  # the dashboard's tick: at most four frames a second
DRAW_SHARE = 0.1  # the share of one core the dashboard's drawing may take while a run streams
JITTER = 0.1  # a tick that comes this fraction of an interval early still counts as on time


class DrawPacer:
    """Says when the next frame is due, from the time the last one took to draw.

    `due()` is asked at every tick; `timing()` (or `add`) charges the time spent drawing the frame it
    allowed, including drawing that happens later (the charts' plots are built when Textual renders).
    """

    def __init__(
        self,
        min_interval: float = REDRAW_INTERVAL_S,
        share: float = DRAW_SHARE,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.min_interval, self.share, self.clock = min_interval, share, clock
        self._last = -float("inf")  # when the last frame was allowed
        self._cost = 0.0  # seconds spent drawing since then

    @property
    def interval(self) -> float:
        """Seconds from the last frame to the next one: the tick, or longer when frames are costly."""
        return max(self.min_interval, self._cost / self.share)

    def due(self) -> bool:
        """True (and the frame is counted as started) when enough time has passed since the last one."""
        now = self.clock()
        if now - self._last < self.interval - JITTER * self.min_interval:
            return False
        self._last, self._cost = now, 0.0
        return True

    def add(self, seconds: float) -> None:
        """Charge drawing time to the current frame."""
        self._cost += seconds

    @contextmanager
    def timing(self) -> Iterator[None]:
        """Charge the time the block takes to the current frame."""
        started = self.clock()
        try:
            yield
        finally:
            self.add(self.clock() - started)
