"""The dashboard's frame pacing (tui/pacing.py): at most one frame per tick, and drawing held to
DRAW_SHARE of a core when frames are costly, whatever the run streams."""

from __future__ import annotations

import pytest

from nnplay.tui.pacing import DRAW_SHARE, REDRAW_INTERVAL_S, DrawPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames_over(pacer: DrawPacer, clock: Clock, seconds: float, cost: float, tick: float = REDRAW_INTERVAL_S) -> int:
    """Tick for `seconds`; every allowed frame takes `cost` seconds to draw. Returns the frames drawn."""
    frames = 0
    end = clock.now + seconds
    while clock.now < end:
        if pacer.due():
            frames += 1
            with pacer.timing():
                clock.now += cost
        clock.now += tick
    return frames


def test_cheap_frames_come_at_every_tick():
    clock = Clock()
    pacer = DrawPacer(clock=clock)
    assert frames_over(pacer, clock, 10.0, cost=0.002) == pytest.approx(10.0 / REDRAW_INTERVAL_S, abs=1)


@pytest.mark.parametrize("cost", [0.04, 0.1, 0.3])
def test_costly_frames_are_spaced_so_drawing_keeps_to_its_share(cost):
    clock = Clock()
    pacer = DrawPacer(clock=clock)
    seconds = 60.0
    frames = frames_over(pacer, clock, seconds, cost=cost)
    assert frames * cost / seconds <= DRAW_SHARE * 1.05  # the share of a core spent drawing
    # ...and no fewer frames than that share allows, to the tick: the charts still move.
    ticks_per_frame = -(-cost / DRAW_SHARE // REDRAW_INTERVAL_S)
    assert frames >= seconds / ((ticks_per_frame + 1) * REDRAW_INTERVAL_S)


def test_drawing_charged_after_the_frame_counts_for_it():
    # The charts' plots are built when Textual renders, after the tick's redraw: time added then
    # delays the next frame just the same.
    clock = Clock()
    pacer = DrawPacer(clock=clock)
    assert pacer.due()
    pacer.add(0.08)  # 80 ms of plot building: the next frame 0.8 s after this one
    clock.now += 0.5
    assert not pacer.due()
    clock.now += 0.3
    assert pacer.due()
    clock.now += REDRAW_INTERVAL_S  # that frame cost nothing: back to every tick
    assert pacer.due()


def test_a_slightly_early_tick_is_on_time():
    clock = Clock()
    pacer = DrawPacer(clock=clock)
    assert pacer.due()
    clock.now += REDRAW_INTERVAL_S * 0.95  # timers fire a little early or late
    assert pacer.due()
