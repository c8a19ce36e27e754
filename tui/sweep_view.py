"""A sweep's results as a learner reads them: the table (one row per member, one column per setting it
varies), and what the numbers look like against the settings: a heatmap when a grid varies two settings,
the metric against the value when it varies one.

Pure functions of the members' rows (engine/core/sweep_results.py makes them; `member_done` events and
summary.json carry them): no torch, no Rich, no Textual. The CLI, the Markdown report and the app draw
from here, so that the best row, the best cell and the "best member" line always name the same member.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nnplay.engine.core.diagnosis import verdict_name
from nnplay.engine.core.events import is_number
from nnplay.engine.core.i18n import N_, _
from nnplay.engine.core.sweep_members import short_names, shown
from nnplay.engine.core.sweep_results import (
    FINISHED,
    HIGHER_IS_BETTER,
    best_first,
    best_member,
    better_first,
    combination,
    group_means,
    headline_key,
    score,
)
from nnplay.tui.report import duration, format_metric, metric_name, metric_short, status_name

SEED = "training.seed"
BEST_MARK = "★"
SHADES = "░▒▓█"  # worst to best: every cell that has a number gets at least the lightest shade
LOG_SPAN = 100  # a numeric axis whose values span this factor or more is drawn on a log scale
# The columns besides the settings, by the name `nnplay show --sort` takes; headings translated where shown.
STATUS_ORDER = ("completed", "early_stopped", "stopped", "diverged", "failed")
COLUMN_TITLES = {"status": N_("status"), "verdict": N_("verdict"), "time": N_("time")}


@dataclass(frozen=True)
class Column:
    """A column of the results table: `key` ("lr", "status", "val", ...: what --sort takes), its heading,
    and whether it holds numbers (aligned right)."""

    key: str
    title: str
    numeric: bool


@dataclass(frozen=True)
class ResultsTable:
    """The results table: its columns, its rows of cells (text), which member each row is, the best member
    (marked; None for seed and strength sweeps, or before any member has a score) and the row order's words."""

    columns: list[Column]
    rows: list[list[str]]
    members: list[int]
    best: int | None
    title: str

    @property
    def best_row(self) -> int | None:
        """The index in `rows` of the best member's row."""
        return self.members.index(self.best) if self.best in self.members else None


def settings_of(rows: list[dict]) -> list[str]:
    """The settings the members differ in (dotted), in the order their labels give them; the seed last."""
    names: list[str] = []
    for row in rows:
        names += [name for name in row.get("settings") or {} if name not in names]
    return [name for name in names if name != SEED] + ([SEED] if SEED in names else [])


def column_names(rows: list[dict]) -> dict[str, str]:
    """Each setting's column key and heading: its last part ("lr", "seed"), or the whole name when two
    settings share it."""
    return short_names(settings_of(rows))


def metric_title(key: str, part: str) -> str:
    """'val acc' / 'test acc': a metric's name for a column heading."""
    if part == "test":
        return _("test {metric}").format(metric=metric_short(key))
    return _("val {metric}").format(metric=metric_short(key))


def metric_words(key: str, part: str) -> str:
    """'val accuracy' / 'test accuracy': a metric's name for a sentence or a chart's title."""
    if part == "test":
        return _("test {metric}").format(metric=metric_name(key))
    return _("val {metric}").format(metric=metric_name(key))


def _value_order(value: Any) -> tuple:
    """Numbers by size, before anything else (in text order)."""
    if is_number(value):
        return (0, float(value), "")
    return (1, 0.0, shown(value))


def sort_rows(rows: list[dict], column: str | None = None, reverse: bool = False) -> list[dict]:
    """The rows in the order a column gives: None is best first (as the best member is chosen: by the mean
    of a combination's seeds, then by its own score and best validation loss), "val" and "test" best first,
    a setting by value, "time" shortest first, status and verdict by name. Rows without a value come last,
    whichever the direction; `reverse` turns the others around."""
    key, test_key = headline_key(rows, "val"), headline_key(rows, "test")
    means = group_means(rows, key) if key is not None else {}
    by_key = {short: name for name, short in column_names(rows).items()}

    def order(row: dict) -> tuple | None:
        if column in (None, "val"):
            place = best_first(row, key, means) if key is not None else None
            return place[1:] if column == "val" and place is not None else place  # "val": its own score alone
        if column == "test":
            value = score(row, test_key, "test") if test_key else None
            return None if value is None or test_key is None else (better_first(test_key) * value,)
        if column == "time":
            return (float(row["duration_s"]),) if is_number(row.get("duration_s")) else None
        if column == "status":
            status = row.get("status")
            return (STATUS_ORDER.index(status),) if status in STATUS_ORDER else None
        if column == "verdict":
            return (verdict_name(str(row["verdict"])),) if row.get("verdict") else None
        if column in by_key:
            settings_row = row.get("settings") or {}
            name = by_key[column]
            return _value_order(settings_row[name]) if name in settings_row else None
        raise ValueError(column)

    keyed = [(order(row), row) for row in rows]
    present = sorted(
        ((k, row) for k, row in keyed if k is not None), key=lambda pair: (pair[0], pair[1]["member"]), reverse=reverse
    )
    missing = [row for k, row in keyed if k is None]
    return [row for _key, row in present] + sorted(missing, key=lambda row: row["member"])


def sort_columns(rows: list[dict]) -> list[str]:
    """The column keys a results table of these rows can be sorted by."""
    return [*column_names(rows).values(), "val", "test", "status", "verdict", "time"]


def results_table(
    rows: list[dict], sort: str | None = None, reverse: bool = False, best: int | None = None, search: bool = True
) -> ResultsTable:
    """The results table: a mark for the best member, one column per setting the members differ in, their
    headline validation metric at their best epoch, test metric, status, verdict and time; sorted by `sort`
    (a key of sort_columns; None: best first). `best` is the best member the engine chose (done's
    best_member); without it, it is chosen here as the engine chooses it. `search`: a grid or random search,
    which has a best member, marked in a first column; a seed or strength sweep has none."""
    if sort is not None and sort not in sort_columns(rows):
        raise ValueError(sort)
    if search and best is None:
        best = best_member(rows)
    best = best if search else None
    names = column_names(rows)
    val_key, test_key = headline_key(rows, "val"), headline_key(rows, "test")
    columns = [Column("best", "", False)] if search else []  # the best member's mark
    columns += [Column(short, short, True) for short in names.values()]
    if val_key:  # the scores right after the settings: what a narrow panel shows first
        columns.append(Column("val", metric_title(val_key, "val"), True))
    if test_key:
        columns.append(Column("test", metric_title(test_key, "test"), True))
    columns += [
        Column("status", _(COLUMN_TITLES["status"]), False),
        Column("verdict", _(COLUMN_TITLES["verdict"]), False),
        Column("time", _(COLUMN_TITLES["time"]), True),
    ]
    if not names:  # runs recorded before members carried their settings: their labels
        columns.insert(1 if search else 0, Column("member", _("member"), False))
    cells, members = [], []
    for row in sort_rows(rows, sort, reverse):
        settings = row.get("settings") or {}
        line = [BEST_MARK if row["member"] == best else ""] if search else []
        line += [shown(settings[name]) if name in settings else "—" for name in names]
        if not names:
            line.append(str(row.get("label")))
        if val_key:
            line.append(format_metric(val_key, score(row, val_key)))
        if test_key:
            line.append(format_metric(test_key, score(row, test_key, "test")))
        line.append(status_name(row.get("status")))
        line += [verdict_name(str(row["verdict"])) if row.get("verdict") else "—", duration(row.get("duration_s"))]
        cells.append(line)
        members.append(row["member"])
    if sort is None and best is not None:
        title = _("results, best first (chosen on {metric} at each member's best epoch)").format(
            metric=metric_words(val_key or "loss", "val")
        )
    elif sort is None and val_key is not None:
        title = _("results, best first ({metric} at each member's best epoch)").format(
            metric=metric_words(val_key, "val")
        )
    elif sort is None:
        title = _("results")
    else:
        heading = next(c.title for c in columns if c.key == sort)
        title = _("results, sorted by {column}").format(column=heading)
    return ResultsTable(columns, cells, members, best, title)


def best_member_line(rows: list[dict], best: int | None) -> str | None:
    """'best member: lr=0.1, batch_size=16 (chosen on validation: val acc 97.0%); its test acc 96.0%', with
    its combination's mean over its seeds when it has several; None without a best member."""
    row = next((r for r in rows if r["member"] == best), None)
    key = headline_key(rows, "val")
    if row is None or key is None or score(row, key) is None:
        return None
    val = format_metric(key, score(row, key))
    seeds = [  # the members the mean is over, as group_means counts them
        r
        for r in rows
        if combination(r) == combination(row) and r.get("status") in FINISHED and score(r, key) is not None
    ]
    test_key = headline_key(rows, "test")
    test = score(row, test_key, "test") if test_key else None
    shown_val = {"label": row.get("label"), "val_metric": metric_title(key, "val"), "val": val}
    if test_key is not None and test is not None:
        shown_val |= {"test_metric": metric_title(test_key, "test"), "test": format_metric(test_key, test)}
    if len(seeds) > 1:
        mean = format_metric(key, group_means(rows, key)[combination(row)])
        if test is None:
            words = _(
                "best member: {label} (chosen on validation: {val_metric} {mean}, the mean of its {count} seeds; "
                "its own {val})"
            )
        else:
            words = _(
                "best member: {label} (chosen on validation: {val_metric} {mean}, the mean of its {count} seeds; "
                "its own {val}); its {test_metric} {test}"
            )
        return words.format(mean=mean, count=len(seeds), **shown_val)
    if test is None:
        return _("best member: {label} (chosen on validation: {val_metric} {val})").format(**shown_val)
    return _("best member: {label} (chosen on validation: {val_metric} {val}); its {test_metric} {test}").format(
        **shown_val
    )


def failures(rows: list[dict]) -> list[str]:
    """'lr=1, batch_size=64: <why it failed>', one line per member that ended with an error."""
    return [
        _("{label}: {error}").format(label=row.get("label"), error=row["error"]) for row in rows if row.get("error")
    ]


def searched_in(plan: dict | None) -> list[str]:
    """The settings a run's plan says its grid or random search varies (dotted); empty for a single run and
    for a seed or strength sweep."""
    sweep = (plan or {}).get("sweep")
    return [str(name) for name in (sweep or {}).get("settings") or []] if isinstance(sweep, dict) else []


def sweep_line(count: int, searched: list[str]) -> str:
    """What a sweep's curves and verdict are of: 'a search over optimizer.lr, training.batch_size: 4
    members; the curves are their mean, the verdict is the best member's'."""
    if searched:
        return _(
            "a search over {settings}: {count} members; the curves are their mean, the verdict is the best member's"
        ).format(settings=", ".join(searched), count=count)
    return _("a sweep of {count} members: the curves and the verdict are of their mean").format(count=count)


def verdict_title(diagnosis: dict) -> str:
    """The title of a verdict: 'verdict: good fit', or a grid's or random search's, which is its best
    member's own: 'verdict of the best member (lr=0.1, batch_size=16): good fit'."""
    name = verdict_name(str(diagnosis.get("verdict", "unknown")))
    if diagnosis.get("label") is not None:
        return _("verdict of the best member ({label}): {verdict}").format(label=diagnosis["label"], verdict=name)
    return _("verdict: {verdict}").format(verdict=name)


# --- a grid over two settings: a heatmap ------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One combination of a heatmap: the mean of `key` over its finished members (its seeds), how many,
    their lowest and highest."""

    mean: float | None
    count: int
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Heatmap:
    """`metric` ("accuracy") of `part` ("val") for each combination of two settings: one row per value of
    `row_setting`, one column per value of `column_setting`; `best` is the (row, column) of the best
    member's combination."""

    row_setting: str
    column_setting: str
    row_values: list
    column_values: list
    cells: list[list[Cell]]
    metric: str
    part: str
    best: tuple[int, int] | None


def _values(rows: list[dict], name: str) -> list:
    seen: list = []
    for row in rows:
        value = (row.get("settings") or {}).get(name)
        if value not in seen:
            seen.append(value)
    return sorted(seen, key=_value_order)


def heatmap(
    rows: list[dict], searched: list[str], metric: str | None = None, part: str = "val", best: int | None = None
) -> Heatmap | None:
    """The heatmap of a grid over exactly two settings (`searched`, the seed not counted), or None when the
    search varies another number of settings or its members do not fill a grid (a random search's draws)."""
    names = [name for name in searched if name != SEED]
    if len(names) != 2:
        return None
    key = metric or headline_key(rows, part)
    if key is None:
        return None
    row_values, column_values = _values(rows, names[0]), _values(rows, names[1])
    pairs = [((r.get("settings") or {}).get(names[0]), (r.get("settings") or {}).get(names[1])) for r in rows]
    combos = {(repr(a), repr(b)) for a, b in pairs}
    if len(combos) != len(row_values) * len(column_values):  # not a grid: a random search's draws
        return None
    best = best if best is not None else best_member(rows)
    best_row = next((r for r in rows if r["member"] == best), None)
    cells: list[list[Cell]] = []
    where = None
    for i, a in enumerate(row_values):
        line = []
        for j, b in enumerate(column_values):
            members = [r for r, pair in zip(rows, pairs, strict=True) if pair == (a, b)]
            values = [v for r in members if r.get("status") in FINISHED and (v := score(r, key, part)) is not None]
            if values:
                line.append(Cell(sum(values) / len(values), len(values), min(values), max(values)))
            else:
                line.append(Cell(None, 0, None, None))
            if best_row is not None and best_row in members:
                where = (i, j)
        cells.append(line)
    if all(cell.mean is None for line in cells for cell in line):  # no member has finished with a score
        return None
    return Heatmap(names[0], names[1], row_values, column_values, cells, key, part, where)


def shade(value: float, worst: float, best: float) -> str:
    """The ramp's character for a value between the worst and the best of the grid: █ the best, ░ the worst."""
    if best == worst:
        return SHADES[-1]
    position = (value - worst) / (best - worst)
    return SHADES[round(max(0.0, min(1.0, position)) * (len(SHADES) - 1))]


def heatmap_cells(h: Heatmap) -> list[list[str]]:
    """Each cell as text: its shade twice, its number, how many seeds when more than one, ★ on the best."""
    means = [c.mean for line in h.cells for c in line if c.mean is not None]
    higher = h.metric in HIGHER_IS_BETTER
    worst, top = (min(means, default=0), max(means, default=0))
    if not higher:
        worst, top = top, worst
    out = []
    for i, line in enumerate(h.cells):
        texts = []
        for j, cell in enumerate(line):
            if cell.mean is None:
                text = "   —"
            else:
                text = f"{shade(cell.mean, worst, top) * 2} {format_metric(h.metric, cell.mean)}"
                if cell.count > 1:
                    text += f" n={cell.count}"
            if h.best == (i, j):
                text += f" {BEST_MARK}"
            texts.append(text)
        out.append(texts)
    return out


def heatmap_lines(h: Heatmap) -> list[str]:
    """The heatmap as lines of text: a title, the column setting's name over its values, one line per value
    of the row setting, and a legend saying what the shades mean and which way is better."""
    cells = heatmap_cells(h)
    row_labels = [shown(v) for v in h.row_values]
    column_labels = [shown(v) for v in h.column_values]
    first = max(len(h.row_setting), *(len(label) for label in row_labels)) + 3
    widths = [max(len(label), *(len(line[j]) for line in cells)) + 3 for j, label in enumerate(column_labels)]
    words = metric_words(h.metric, h.part)
    if any(c.count > 1 for line in h.cells for c in line):
        title = _("{metric} by {rows} and {columns}; each cell the mean over its seeds (n of them)").format(
            metric=words, rows=h.row_setting, columns=h.column_setting
        )
    else:
        title = _("{metric} by {rows} and {columns}").format(metric=words, rows=h.row_setting, columns=h.column_setting)
    lines = [title, " " * first + h.column_setting]
    lines.append(
        h.row_setting.ljust(first) + "".join(label.ljust(w) for label, w in zip(column_labels, widths, strict=True))
    )
    for label, line in zip(row_labels, cells, strict=True):
        lines.append(label.ljust(first) + "".join(text.ljust(w) for text, w in zip(line, widths, strict=True)))
    if h.metric in HIGHER_IS_BETTER:
        legend = _("shade: █ highest … ░ lowest {metric}, higher is better; ★ the best member, chosen on validation")
    else:
        legend = _("shade: █ lowest … ░ highest {metric}, lower is better; ★ the best member, chosen on validation")
    lines.append(legend.format(metric=words))
    return [line.rstrip() for line in lines]


# --- one setting: the metric against its value -----------------------------------------------


@dataclass(frozen=True)
class Point:
    """One value of the setting: the mean of the metric over the members with it, their lowest, highest and
    how many they are."""

    value: Any
    mean: float
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class ValueCurve:
    """`metric` of `part` against the values of `setting`: numeric (drawn at their values, `log` when they
    span LOG_SPAN times or more) or not (drawn evenly, named); `best` is the best member's value."""

    setting: str
    metric: str
    part: str
    points: list[Point]
    numeric: bool
    log: bool
    best: Any


def log_axis(values: list) -> bool:
    """Whether values are drawn on a log scale: all positive numbers spanning LOG_SPAN times or more."""
    numbers = [float(v) for v in values if is_number(v)]
    if len(numbers) != len(values) or not numbers or min(numbers) <= 0:
        return False
    return max(numbers) / min(numbers) >= LOG_SPAN


def value_curve(
    rows: list[dict], setting: str, metric: str | None = None, part: str = "val", best: int | None = None
) -> ValueCurve | None:
    """The metric against the setting's values, the mean and min–max over the finished members with each
    value (its seeds, or the other settings' values); None when no member has the metric."""
    key = metric or headline_key(rows, part)
    if key is None:
        return None
    points = []
    for value in _values(rows, setting):
        scores = [
            v
            for r in rows
            if (r.get("settings") or {}).get(setting) == value
            and r.get("status") in FINISHED
            and (v := score(r, key, part)) is not None
        ]
        if scores:
            points.append(Point(value, sum(scores) / len(scores), min(scores), max(scores), len(scores)))
    if not points:
        return None
    best = best if best is not None else best_member(rows)
    best_value = next(((r.get("settings") or {}).get(setting) for r in rows if r["member"] == best), None)
    numeric = all(is_number(p.value) for p in points)
    return ValueCurve(setting, key, part, points, numeric, numeric and log_axis([p.value for p in points]), best_value)


def value_chart(curve: ValueCurve, width: int = 72, height: int = 14, color: bool = True, connect: bool = True) -> str:
    """The curve as text: a title line, an ASCII chart (plotext) of the mean at each value with a vertical
    min–max bar where several members share it and ★ at the best member's value, on a log axis for values
    spanning 100× or more, and a legend line. `connect`: a line through the means (a grid's values), else
    the points alone (each a member of a random search, or one setting of several)."""
    import plotext as plt

    from nnplay.tui.charts import ANSI, WIDE_FILLER, widened

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear" if not color else "pro")
    # A log axis is drawn as log10 of the values, named by the values themselves.
    xs = [
        (math.log10(p.value) if curve.log else float(p.value)) if curve.numeric else float(i + 1)
        for i, p in enumerate(curve.points)
    ]
    means = [p.mean for p in curve.points]
    several = any(p.count > 1 for p in curve.points)
    for x, p in zip(xs, curve.points, strict=True):
        if p.count > 1:
            plt.plot([x, x], [p.low, p.high], marker="|")
    marker = "braille" if color else "o"
    if connect:
        plt.plot(xs, means, marker=marker)
    else:
        plt.scatter(xs, means, marker=marker)
    margin = (max(xs) - min(xs)) * 0.06 or 0.5  # the first and last values are not drawn on the frame
    plt.xlim(min(xs) - margin, max(xs) + margin)
    if len(curve.points) <= 12:
        plt.xticks(xs, [shown(p.value) for p in curve.points])
    low, high = min(p.low for p in curve.points), max(p.high for p in curve.points)
    ticks = [low + (high - low) * i / 4 for i in range(5)] if high > low else [low]
    plt.yticks(ticks, [format_metric(curve.metric, t) for t in ticks])  # 96.0%, as the table writes it
    best = next(((x, p) for x, p in zip(xs, curve.points, strict=True) if p.value == curve.best), None)
    if best is not None:
        plt.text(BEST_MARK, best[0], best[1].mean, alignment="center")
    axis = _("{setting} (log scale)").format(setting=curve.setting) if curve.log else curve.setting
    plt.xlabel(widened(axis))
    chart = plt.build().replace(WIDE_FILLER, "")
    words = metric_words(curve.metric, curve.part)
    if several:
        title = _("{metric} by {setting}: the mean of the members with each value, | their lowest to highest").format(
            metric=words, setting=curve.setting
        )
    else:
        title = _("{metric} by {setting}").format(metric=words, setting=curve.setting)
    lines = [title, chart.rstrip("\n")]
    if best is not None:
        lines.append(
            _("★ the best member's {setting} ({value}), chosen on validation").format(
                setting=curve.setting, value=shown(curve.best)
            )
        )
    text = "\n".join(lines) + "\n"
    return text if color else ANSI.sub("", text)


def figures(
    rows: list[dict], searched: list[str], width: int = 72, color: bool = False, best: int | None = None
) -> list[str]:
    """What a grid or random search looks like against its settings, as blocks of text: the heatmap of a
    grid over two settings, else the metric against each setting's values (up to four). Nothing for a seed
    or strength sweep (no `searched` settings) or before a member has a score."""
    names = [name for name in searched if name != SEED]
    if not names:
        return []
    grid = heatmap(rows, names, best=best)
    if grid is not None:
        return ["\n".join(heatmap_lines(grid))]
    blocks = []
    for name in names[:4]:
        curve = value_curve(rows, name, best=best)
        if curve is not None:
            chart = value_chart(curve, width=width, height=14, color=color, connect=len(names) == 1)
            blocks.append(chart.rstrip("\n"))
    return blocks
