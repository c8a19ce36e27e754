"""A sweep's results in the app: the model panel's results tab fills in as members finish (member_done
events from the fake engine, held back by its gate file), then ranks them best first with the best member
marked; a click on a header sorts; the verdict panel names the best member."""

from __future__ import annotations

from pathlib import Path

from test_app import fake, finish, form_built, start_run, text_of
from textual.widgets import DataTable, Static, TabbedContent
from waiting import until

from nnplay.engine.core.config import validate
from nnplay.engine.core.share import encode
from nnplay.tui.app import NNPlayApp
from nnplay.tui.screens.compare import replay
from nnplay.tui.widgets import ModelView, OverfitPanel
from nnplay.tui.widgets.sweep_results import SweepResults

GRID = {"optimizer.lr": [0.001, 0.1], "training.batch_size": [16, 64]}


def grid_app(tmp_path: Path) -> NNPlayApp:
    """The app with a 2 x 2 grid over lr and batch size in its form, on the fake engine."""
    config = validate({"name": "grid", "data": {"dataset": "moons"}, "sweep": {"grid": GRID}})
    return NNPlayApp(tmp_path / "runs", engine_command=fake(), experiment=encode(config))


def progress(results: SweepResults) -> str:
    return str(results.query_one("#sweep-progress", Static).content)


async def test_the_results_tab_fills_in_as_members_finish_and_ranks_them_best_first(tmp_path, fake_run) -> None:
    gate = tmp_path / "gate"  # how many members the fake engine lets finish
    fake_run(epochs=4, FAKE_GATE=str(gate))
    app = grid_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        screen = await start_run(pilot)
        results = screen.query_one(SweepResults)
        table = results.query_one(DataTable)
        view = screen.query_one(ModelView)
        await until(pilot, lambda: "results" in view.available, what="the results tab")
        assert view.query_one(TabbedContent).active == "results"
        await until(pilot, lambda: "0 of 4 members finished" in progress(results), what="no member finished yet")
        assert "waiting for the first member to finish" in progress(results) and table.row_count == 0

        gate.write_text("1", encoding="utf-8")
        await until(
            pilot,
            lambda: "1 of 4 members finished; ★ marks the best so far" in progress(results),
            what="the first member's row",
        )
        assert table.row_count == 1 and len(app.live.members) == 1

        gate.write_text("4", encoding="utf-8")
        await finish(pilot)
        await until(pilot, lambda: table.row_count == 4, what="every member's row")
        assert progress(results) == "4 of 4 members finished"
        best = app.live.best_member
        label = app.live.members[best]["label"]
        assert best == 1 and label == "lr=0.001, batch_size=64"  # the fake's best member
        assert results.members_shown[0] == best and results.best_row == 0
        assert str(table.get_row_at(0)[0]) == "★" and not any(str(table.get_row_at(i)[0]) for i in (1, 2, 3))
        assert f"best member: {label} (chosen on validation: val acc 97.0%)" in text_of(results)
        verdict = str(screen.query_one(OverfitPanel).query_one("#verdict", Static).content)
        assert verdict.startswith(f"verdict of the best member ({label}): ")

        lr = table.get_column_index("lr")
        table.post_message(DataTable.HeaderSelected(table, table.ordered_columns[lr].key, lr, "lr"))
        await until(pilot, lambda: results.sort == "lr", what="sorted by lr")
        assert [str(table.get_row_at(i)[lr]) for i in range(4)] == ["0.001", "0.001", "0.1", "0.1"]
        assert results.best_row == results.members_shown.index(best)
        table.post_message(DataTable.HeaderSelected(table, table.ordered_columns[lr].key, lr, "lr"))
        await until(pilot, lambda: results.reverse, what="sorted by lr, reversed")
        assert str(table.get_row_at(0)[lr]) == "0.1"

    state, _config = replay(Path(app.live.run_dir))  # the recorded run, as the runs screen opens it
    assert sorted(state.members) == [0, 1, 2, 3] and state.best_member == best
