"""Your own data: a table (.csv, .tsv, .npy, .npz) or a folder of class folders of images, read into arrays.

What was read comes back with the arrays (`OwnData.info`, the plan's `data_info`): the file, the rows, the
columns used, the target and the task decided from it, the classes and their counts, the encoded and unused
columns, the missing values and what was done with them. Every problem with the files is one sentence naming
the file, the row, column or class folder, and what is allowed (a ConfigError with the setting it concerns).
Nothing larger than MAX_DATA_BYTES is read: the size is checked before the first byte.

Tables: the first row names the columns (CSV and TSV; the delimiter is sniffed), every other row is one sample.
A .npz file holds an array `x` (samples x features, columns named "0", "1", ...) and an array `y` (the
target); a .npy file is one 2-D array whose last column is the target unless data.target names another.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnplay.engine.core.catalog import DATASETS
from nnplay.engine.core.config import ConfigError, ExperimentConfig, quoted, split_sizes
from nnplay.engine.core.i18n import _, ngettext
from nnplay.engine.data.split import split_indices

MAX_DATA_BYTES = 1_000_000_000  # 1 GB: on disk, and as float32 pixels for images
MIN_SAMPLES = 10  # the fewest samples a split into train, validation and test makes sense of
AUTO_CLASSES = 20  # task "auto": a target of at most this many different whole numbers is classes
MAX_CLASSES = 100  # classification: at most this many classes in a target
MAX_CATEGORIES = 50  # a text feature column one-hot encodes at most this many different values
MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})  # compared in lower case
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
SNIFF_CHARS = 64 * 1024
MAX_LISTED = 12  # column names listed in a message


@dataclass
class OwnData:
    """Your own data as read: inputs, targets, the task decided and what was read (the plan's data_info)."""

    x: np.ndarray  # float32: (n, features) for a table, (n, channels, side, side) in [0, 1] for images
    y: np.ndarray  # int64 class labels, or float32 targets for regression
    task: str  # classification, regression or generation
    class_names: list[str] | None
    feature_names: list[str] | None  # after one-hot encoding ("colour=red"); None for images
    info: dict[str, Any]


@dataclass
class Column:
    """One column of a table as read: numbers (NaN where missing) or text (None where missing)."""

    name: str
    numbers: np.ndarray | None  # float64
    text: np.ndarray | None  # object array of str

    @property
    def missing(self) -> np.ndarray:
        """True where the cell is empty (or NA, NaN, null, ?)."""
        if self.numbers is not None:
            return np.isnan(self.numbers)
        assert self.text is not None
        return np.array([v is None for v in self.text], dtype=bool)


def _error(message: str, setting: str = "data.path") -> ConfigError:
    return ConfigError(message, setting=setting)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (_(", ... ({count} in all)").format(count=len(names)) if len(names) > MAX_LISTED else "")


def _looked_in(path: Path) -> str:
    """Where a relative path was looked for, which depends on the directory nnplay runs in."""
    return "" if path.is_absolute() else _(" (looked for {path})").format(path=path.absolute())


def _size_words(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.3g} GB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:.3g} MB"


def load_own(config: ExperimentConfig, rng: np.random.Generator) -> OwnData:
    """Read the csv, numpy or image_folder data set that config.data names (data.path, target, features,
    missing, channels, image_size, n_samples); raises ConfigError with one sentence when it cannot."""
    if config.data.dataset == "image_folder":
        return read_image_folder(config, rng)
    return read_table(config, rng)


def fingerprint(config: ExperimentConfig) -> list:
    """What tells whether your own files changed since they were read (path, size, modification time; for an
    image folder those of the folder and its class folders), for caching; [] when there is nothing to stat."""
    if not config.data.path or not DATASETS[config.data.dataset].own:
        return []
    path = Path(config.data.path).expanduser()
    try:
        paths = [path]
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.is_dir())
        return [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in paths]
    except OSError:
        return []


# --- tables -----------------------------------------------------------------------------------------------


def _checked_file(config: ExperimentConfig) -> tuple[Path, str]:
    """The table's path and how messages name it, once it is known to be a readable file of allowed size."""
    given = config.data.path or ""
    shown = f"data.path = {quoted(given)}"
    path = Path(given).expanduser()
    if config.data.dataset == "csv":
        allowed = _("the path of a .csv, .tsv or .txt file")
    else:
        allowed = _("the path of a .npz or .npy file")
    if not path.exists():
        raise _error(
            _("{shown} does not exist{looked}; allowed: {allowed}").format(
                shown=shown, looked=_looked_in(path), allowed=allowed
            )
        )
    if not path.is_file():
        raise _error(_("{shown} is a folder, not a file; allowed: {allowed}").format(shown=shown, allowed=allowed))
    size = path.stat().st_size
    if size > MAX_DATA_BYTES:
        raise _error(
            _(
                "{shown} holds {size:,} bytes; allowed: at most {limit} ({limit_bytes:,} bytes) of data, "
                "so use a sample of its rows"
            ).format(shown=shown, size=size, limit=_size_words(MAX_DATA_BYTES), limit_bytes=MAX_DATA_BYTES)
        )
    if size == 0:
        raise _error(_("{shown} is empty; allowed: a table with a row for each sample").format(shown=shown))
    return path, shown


def read_table(config: ExperimentConfig, rng: np.random.Generator) -> OwnData:
    """A csv or numpy table: target and features chosen, missing values handled, text one-hot encoded."""
    path, shown = _checked_file(config)
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        columns, default_target = _read_arrays(path, shown, config)
        delimiter = None
    else:
        columns, delimiter = _read_text(path, shown, suffix)
        default_target = -1
    table_format = suffix.lstrip(".") if suffix in (".tsv", ".npy", ".npz") else "csv"
    return _from_columns(config, rng, columns, default_target, shown, table_format, delimiter, str(path))


def _sniff(sample: str) -> str:
    """The delimiter of a text table: comma, semicolon, tab or bar, as csv.Sniffer reads the first lines."""
    sample = sample[: sample.rfind("\n") + 1] or sample  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or too irregular to tell: a comma
        return ","


def _read_text(path: Path, shown: str, suffix: str) -> tuple[list[Column], str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(
            _("{shown} is not UTF-8 text (byte {byte} is not); allowed: a table saved as UTF-8").format(
                shown=shown, byte=exc.start
            )
        ) from None
    except OSError as exc:
        raise _error(
            _("{shown} could not be read ({reason})").format(shown=shown, reason=exc.strerror or exc)
        ) from None
    if not text.strip():
        raise _error(
            _("{shown} is empty; allowed: a first row naming the columns, then a row for each sample").format(
                shown=shown
            )
        )
    delimiter = "\t" if suffix == ".tsv" else _sniff(text[:SNIFF_CHARS])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    names: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []  # each row's line in the file, for messages
    try:
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if header is None:
                header, names = fields, _column_names(fields, shown)
                continue
            if len(fields) != len(header):
                raise _error(
                    _(
                        "{shown} has {fields} in row {row} but {columns} in its first row; allowed: {n} in every row"
                    ).format(
                        shown=shown,
                        fields=ngettext("{n} field", "{n} fields", len(fields)).format(n=len(fields)),
                        row=reader.line_num,
                        columns=ngettext("{n} column", "{n} columns", len(header)).format(n=len(header)),
                        n=len(header),
                    )
                )
            rows.append(fields)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise _error(
            _("{shown} could not be read as a table at row {row} ({reason})").format(
                shown=shown, row=reader.line_num, reason=exc
            )
        ) from None
    if not rows:
        raise _error(
            _("{shown} names its columns but holds no rows; allowed: a row for each sample after the first").format(
                shown=shown
            )
        )

    def where(i: int) -> str:
        return _("row {row}").format(row=lines[i])

    columns = [_column(name, [row[j] for row in rows], where, shown) for j, name in enumerate(names)]
    return columns, delimiter


def _column_names(header: list[str], shown: str) -> list[str]:
    names = [cell.strip() or f"column {j + 1}" for j, cell in enumerate(header)]
    if all(_is_number(cell) for cell in header):
        raise _error(
            _(
                "{shown} starts with a row of numbers ({names}), not column names; "
                "allowed: a first row naming the columns"
            ).format(shown=shown, names=_listed(names))
        )
    for name in names:
        if names.count(name) > 1:
            raise _error(
                _("{shown} names the column {column} twice; allowed: a different name for each column").format(
                    shown=shown, column=quoted(name)
                )
            )
    if len(names) < 2:
        raise _error(
            _(
                "{shown} has one column ({column}); allowed: a target and one or more feature columns, "
                "separated by commas, semicolons or tabs"
            ).format(shown=shown, column=quoted(names[0]))
        )
    return names


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _column(name: str, cells: list[str], where: Callable[[int], str], shown: str) -> Column:
    """A column from its cells' text: numbers when every cell that is not missing is one, else text."""
    stripped = [cell.strip() for cell in cells]
    missing = np.array([cell.lower() in MISSING_WORDS for cell in stripped], dtype=bool)
    present = [cell for cell, gap in zip(stripped, missing, strict=True) if not gap]
    try:
        values = np.array(present, dtype=np.float64) if present else np.zeros(0)
    except ValueError:
        text = np.empty(len(stripped), dtype=object)
        for i, (cell, gap) in enumerate(zip(stripped, missing, strict=True)):
            text[i] = None if gap else cell
        return Column(name, None, text)
    numbers = np.full(len(stripped), np.nan)
    numbers[~missing] = values
    return Column(name, _finite(numbers, name, where, shown), None)


def _finite(numbers: np.ndarray, name: str, where: Callable[[int], str], shown: str) -> np.ndarray:
    infinite = np.flatnonzero(np.isinf(numbers))
    if len(infinite):
        i = int(infinite[0])
        raise _error(
            _(
                "{shown} holds {value:g} in {where}, column {column}; allowed: finite numbers "
                "(or an empty cell for a missing value)"
            ).format(shown=shown, value=numbers[i], where=where(i), column=quoted(name))
        )
    return numbers


def _read_arrays(path: Path, shown: str, config: ExperimentConfig) -> tuple[list[Column], str | int]:
    """Columns of a .npz (x and y) or .npy (a 2-D table) file, and the default target."""

    def where(i: int) -> str:
        return _("row {row} (counting from 0)").format(row=i)

    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as exc:  # not NumPy's format, truncated, or object arrays (which need pickle)
        raise _error(
            _("{shown} could not be read as a NumPy {suffix} file ({reason})").format(
                shown=shown, suffix=path.suffix, reason=exc
            )
        ) from None
    if isinstance(loaded, np.ndarray):  # .npy
        if loaded.ndim != 2 or loaded.shape[1] < 2:
            raise _error(
                _(
                    "{shown} holds an array of shape {shape}; allowed: a 2-D array, one row per sample, "
                    "with the target as a column (the last, unless data.target names another)"
                ).format(shown=shown, shape=loaded.shape)
            )
        names = [str(j) for j in range(loaded.shape[1])]
        return [_array_column(n, loaded[:, j], where, shown) for j, n in enumerate(names)], -1
    with loaded:
        keys = list(loaded.keys())
        if "x" not in keys or "y" not in keys:
            raise _error(
                _(
                    "{shown} holds the arrays {arrays}; allowed: an array x (one row of features "
                    "per sample) and an array y (their targets)"
                ).format(shown=shown, arrays=", ".join(keys) or _("none"))
            )
        try:
            x, y = loaded["x"], loaded["y"]
        except Exception as exc:
            raise _error(
                _("{shown} could not be read as a NumPy {suffix} file ({reason})").format(
                    shown=shown, suffix=".npz", reason=exc
                )
            ) from None
    if config.data.target is not None and config.data.target != "y":
        raise _error(
            _("data.target = {target} does not apply to a .npz file, whose target is its array y; remove it").format(
                target=quoted(config.data.target)
            ),
            "data.target",
        )
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if x.ndim != 2 or y.ndim != 1:
        raise _error(
            _(
                "{shown} holds x of shape {x_shape} and y of shape {y_shape}; allowed: x shaped (samples, features) "
                "and y shaped (samples,) (for images use data.dataset = 'image_folder')"
            ).format(shown=shown, x_shape=x.shape, y_shape=y.shape)
        )
    if len(x) != len(y):
        raise _error(
            _("{shown} holds {x_rows} rows in x but {y_rows} in y; allowed: one target per row").format(
                shown=shown, x_rows=len(x), y_rows=len(y)
            )
        )
    columns = [_array_column(str(j), x[:, j], where, shown) for j in range(x.shape[1])]
    return [*columns, _array_column("y", y, where, shown)], "y"


def _array_column(name: str, values: np.ndarray, where: Callable[[int], str], shown: str) -> Column:
    if values.dtype.kind in "biuf":
        return Column(name, _finite(values.astype(np.float64), name, where, shown), None)
    if values.dtype.kind in "US":
        cells = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values.tolist()]
        return _column(name, cells, where, shown)
    raise _error(
        _("{shown} holds {dtype} values in column {column}; allowed: numbers or text").format(
            shown=shown, dtype=values.dtype, column=quoted(name)
        )
    )


def _find(ref: str | int, columns: list[Column], setting: str, shown: str) -> Column:
    """The column a setting names, by name or number."""
    names = [c.name for c in columns]
    if isinstance(ref, int):
        if -len(columns) <= ref < len(columns):
            return columns[ref]
        raise _error(
            _(
                "{setting} = {ref} is not a column of {shown}, which has {count}: numbers 0 to "
                "{last} (or -1 for the last); its columns: {columns}"
            ).format(
                setting=setting, ref=ref, shown=shown, count=len(columns), last=len(columns) - 1, columns=_listed(names)
            ),
            setting,
        )
    if ref in names:
        return columns[names.index(ref)]
    raise _error(
        _("{setting} = {ref} is not a column of {shown}; its columns: {columns}").format(
            setting=setting, ref=quoted(ref), shown=shown, columns=_listed(names)
        ),
        setting,
    )


def _from_columns(
    config: ExperimentConfig,
    rng: np.random.Generator,
    columns: list[Column],
    default_target: str | int,
    shown: str,
    table_format: str,
    delimiter: str | None,
    path: str,
) -> OwnData:
    d = config.data
    n_read = len(columns[0].missing)
    target = _find(d.target if d.target is not None else default_target, columns, "data.target", shown)
    if d.features is not None:
        features = [_find(ref, columns, "data.features", shown) for ref in d.features]
        if any(f is target for f in features):
            raise _error(
                _(
                    "data.features = {features} holds the target column {target}; a column is "
                    "either input or target: leave it out of data.features"
                ).format(features=quoted(d.features), target=quoted(target.name)),
                "data.features",
            )
    else:
        features = [c for c in columns if c is not target]

    # Missing values: refused (counted per column), or their rows dropped, or filled in below.
    used = [*features, target]
    gaps = {c.name: int(c.missing.sum()) for c in used if c.missing.any()}
    if gaps and d.missing == "refuse":
        counts = ", ".join(
            _("{count} in {column}").format(count=count, column=quoted(name)) for name, count in gaps.items()
        )
        raise _error(
            _(
                "{shown} has missing values ({counts}); "
                'set data.missing = "drop" to leave those rows out or "mean" to fill them in '
                "(allowed: refuse, drop, mean)"
            ).format(shown=shown, counts=counts),
            "data.missing",
        )
    keep = ~target.missing  # a target is never invented
    if d.missing == "drop":
        for column in features:
            keep &= ~column.missing
    rows = np.flatnonzero(keep)
    dropped = n_read - len(rows)
    if len(rows) < MIN_SAMPLES:
        if dropped:
            message = _(
                "{shown} has {rows} usable rows ({dropped} of {read} dropped for missing values); "
                "allowed: {least} or more, one per sample"
            )
        else:
            message = _("{shown} has {rows} usable rows; allowed: {least} or more, one per sample")
        raise _error(message.format(shown=shown, rows=len(rows), dropped=dropped, read=n_read, least=MIN_SAMPLES))
    if d.n_samples is not None:
        if d.n_samples > len(rows):
            raise _error(
                _("data.n_samples = {n} exceeds the {rows} usable rows of {shown}; allowed: 10 to {rows}").format(
                    n=d.n_samples, rows=len(rows), shown=shown
                ),
                "data.n_samples",
            )
        rows = np.sort(rng.choice(rows, size=d.n_samples, replace=False))

    y, task, class_names, reason = _target(config, target, rows, shown)
    x, feature_names, encoded = _encode(features, rows, shown)
    if np.isnan(x).any():  # data.missing = "mean": each column's mean over the training split
        train = _training_rows(config, len(rows))
        with np.errstate(all="ignore"):
            means = np.nanmean(x[train], axis=0)
        if np.isnan(means).any():
            empty = feature_names[int(np.flatnonzero(np.isnan(means))[0])]
            raise _error(
                _(
                    "{shown} has no value of {column} in the training split to take the mean of; "
                    "leave that column out with data.features"
                ).format(shown=shown, column=quoted(empty)),
                "data.missing",
            )
        x = np.where(np.isnan(x), means, x)
    info = {
        "path": path,
        "format": table_format,
        "delimiter": delimiter,
        "rows": n_read,
        "used": len(rows),
        "columns": [c.name for c in columns],
        "target": target.name,
        "task": task,
        "task_reason": reason,
        "features": [c.name for c in features],
        "encoded": encoded,
        "unused": [c.name for c in columns if c is not target and all(c is not f for f in features)],
        "missing": gaps,
        "missing_policy": d.missing,
        "dropped_rows": dropped,
        "class_counts": _class_counts(y, class_names),
        "image_size": None,
        "channels": None,
        "skipped_files": None,
    }
    return OwnData(x.astype(np.float32), y, task, class_names, feature_names, info)


def _training_rows(config: ExperimentConfig, n: int) -> np.ndarray:
    """The rows the training split will hold (k-fold: every row but the test part), as the engine splits."""
    d = config.data
    if d.k_folds:
        pool, _no_val, _test = split_indices(n, 1.0 - d.test, 0.0, d.test, d.seed)
        return pool.numpy()
    if split_sizes(n, d.train, d.val, d.test)[0] < 1:
        return np.arange(n)
    return split_indices(n, d.train, d.val, d.test, d.seed)[0].numpy()


def _target(
    config: ExperimentConfig, target: Column, rows: np.ndarray, shown: str
) -> tuple[np.ndarray, str, list[str] | None, str]:
    """Targets, the task, class names and why that task: text or a few whole numbers make classes."""
    task, name = config.task, quoted(target.name)
    if target.text is not None:
        if task == "regression":
            example = next(v for v in target.text[rows] if v is not None)
            raise _error(
                _(
                    "data.target = {target} holds text (e.g. {example}), which regression cannot predict; "
                    "allowed: task = 'classification' or 'auto', or a target column of numbers"
                ).format(target=name, example=quoted(example)),
                "task",
            )
        names, labels = np.unique(target.text[rows].astype(str), return_inverse=True)
        class_names = [str(v) for v in names]
        reason = _("the target holds text") if task == "auto" else "task = 'classification'"
        return _classes(config, labels, class_names, name, shown), "classification", class_names, reason
    assert target.numbers is not None
    values = target.numbers[rows]
    distinct = np.unique(values)
    whole = bool(np.all(values == np.round(values)))
    if task == "auto":
        if whole and len(distinct) <= AUTO_CLASSES:
            task = "classification"
            reason = _("the target holds {count} different whole numbers ({limit} or fewer)").format(
                count=len(distinct), limit=AUTO_CLASSES
            )
        else:
            task = "regression"
            reason = (
                _("the target holds {count} different whole numbers (more than {limit})").format(
                    count=len(distinct), limit=AUTO_CLASSES
                )
                if whole
                else _("the target holds numbers that are not all whole")
            )
    else:
        reason = f"task = {task!r}"
    if task == "regression":
        return values.astype(np.float32), task, None, reason
    if len(distinct) > MAX_CLASSES:
        raise _error(
            _(
                "data.target = {target} holds {count} different values, too many for classes "
                "(at most {limit}); allowed: task = 'regression' or 'auto'"
            ).format(target=name, count=len(distinct), limit=MAX_CLASSES),
            "task",
        )
    labels = np.searchsorted(distinct, values)
    class_names = [f"{int(v)}" if whole else f"{v:g}" for v in distinct]
    return _classes(config, labels, class_names, name, shown), task, class_names, reason


def _classes(config: ExperimentConfig, labels: np.ndarray, class_names: list[str], name: str, shown: str) -> np.ndarray:
    if len(class_names) < 2:
        raise _error(
            _(
                "data.target = {target} in {shown} holds one class ({label}) in all {rows} rows; "
                "allowed: a target with two or more classes"
            ).format(target=name, shown=shown, label=quoted(class_names[0]), rows=len(labels)),
            "data.target",
        )
    if config.loss == "bce" and len(class_names) != 2:
        raise _error(
            _(
                "loss = 'bce' needs two classes but data.target = {target} holds {count}; allowed: auto, cross_entropy"
            ).format(target=name, count=len(class_names)),
            "loss",
        )
    return labels.astype(np.int64)


def _encode(features: list[Column], rows: np.ndarray, shown: str) -> tuple[np.ndarray, list[str], dict]:
    """Inputs as float64 (NaN where missing): numbers as they are, text one-hot (one input per value)."""
    blocks, names, encoded = [], [], {}
    for column in features:
        if column.numbers is not None:
            blocks.append(column.numbers[rows, None])
            names.append(column.name)
            continue
        assert column.text is not None
        cells = column.text[rows]
        present = np.array([v is not None for v in cells], dtype=bool)
        categories, index = np.unique(cells[present].astype(str), return_inverse=True)
        if len(categories) > MAX_CATEGORIES:
            raise _error(
                _(
                    "column {column} of {shown} holds text with {count} different values, too "
                    "many to encode one input each (at most {limit}); leave it out with data.features"
                ).format(column=quoted(column.name), shown=shown, count=len(categories), limit=MAX_CATEGORIES),
                "data.features",
            )
        one_hot = np.full((len(cells), len(categories)), np.nan)
        one_hot[present] = 0.0
        one_hot[np.flatnonzero(present), index] = 1.0
        blocks.append(one_hot)
        encoded[column.name] = [str(c) for c in categories]
        names += [f"{column.name}={c}" for c in categories]
    return np.concatenate(blocks, axis=1), names, encoded


def _class_counts(labels: np.ndarray, class_names: list[str] | None) -> dict[str, int] | None:
    if class_names is None:
        return None
    counts = np.bincount(labels, minlength=len(class_names))
    return {name: int(count) for name, count in zip(class_names, counts, strict=True)}


# --- image folders -----------------------------------------------------------------------------------------


def read_image_folder(config: ExperimentConfig, rng: np.random.Generator) -> OwnData:
    """One class per sub-folder of data.path; PNG, JPEG and BMP images in grey levels or RGB, resized square."""
    from PIL import Image  # only image folders need Pillow

    d = config.data
    given = d.path or ""
    shown = f"data.path = {quoted(given)}"
    root = Path(given).expanduser()
    allowed = _("a folder holding one sub-folder of PNG, JPEG or BMP images per class (e.g. cats/ and dogs/)")
    if not root.exists():
        raise _error(
            _("{shown} does not exist{looked}; allowed: {allowed}").format(
                shown=shown, looked=_looked_in(root), allowed=allowed
            )
        )
    if not root.is_dir():
        raise _error(_("{shown} is a file, not a folder; allowed: {allowed}").format(shown=shown, allowed=allowed))
    try:
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise _error(
            _("{shown} could not be read ({reason})").format(shown=shown, reason=exc.strerror or exc)
        ) from None
    if not class_dirs:
        raise _error(_("{shown} holds no class folders; allowed: {allowed}").format(shown=shown, allowed=allowed))
    if config.task != "generation" and len(class_dirs) < 2:
        raise _error(
            _(
                "{shown} holds one class folder ({folder}); allowed: two or more, one per class "
                "(or task = 'generation', which needs no classes)"
            ).format(shown=shown, folder=quoted(class_dirs[0].name))
        )
    files: list[Path] = []
    labels: list[int] = []
    skipped = 0
    for label, folder in enumerate(class_dirs):
        entries = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        images = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES]
        skipped += len(entries) - len(images)
        if not images:
            raise _error(
                _(
                    "class folder {folder} of {shown} holds no PNG, JPEG or BMP image; allowed: one or "
                    "more images in every class folder (or remove the folder)"
                ).format(folder=quoted(folder.name), shown=shown)
            )
        files += images
        labels += [label] * len(images)
    side, channels = d.image_size, d.channels
    on_disk = sum(f.stat().st_size for f in files)
    as_pixels = len(files) * channels * side * side * 4  # float32, as training holds them
    if max(on_disk, as_pixels) > MAX_DATA_BYTES:
        if on_disk >= as_pixels:
            what = _("{size} on disk").format(size=_size_words(on_disk))
        else:
            what = _("{size} as pixels").format(size=_size_words(as_pixels))
        raise _error(
            _(
                "{shown} holds {count:,} images, {what}; allowed: at most {limit} of data "
                "(fewer images, or a smaller data.image_size)"
            ).format(shown=shown, count=len(files), what=what, limit=_size_words(MAX_DATA_BYTES))
        )
    if len(files) < MIN_SAMPLES:
        raise _error(
            _("{shown} holds {count} images; allowed: {least} or more, one per sample").format(
                shown=shown, count=len(files), least=MIN_SAMPLES
            )
        )
    label_array = np.array(labels, dtype=np.int64)
    chosen = np.arange(len(files))
    if d.n_samples is not None:
        if d.n_samples > len(files):
            raise _error(
                _("data.n_samples = {n} exceeds the {count} images of {shown}; allowed: 10 to {count}").format(
                    n=d.n_samples, count=len(files), shown=shown
                ),
                "data.n_samples",
            )
        chosen = np.sort(rng.choice(len(files), size=d.n_samples, replace=False))
    mode = "L" if channels == 1 else "RGB"
    pixels = np.empty((len(chosen), channels, side, side), dtype=np.uint8)
    for i, k in enumerate(chosen):
        try:
            with Image.open(files[k]) as image:
                resized = image.convert(mode).resize((side, side), Image.Resampling.BILINEAR)
        except Exception as exc:  # not an image, truncated, or too large to decode safely
            raise _error(
                _(
                    "the image {image} in {shown} could not be read ({reason}); "
                    "allowed: PNG, JPEG or BMP files (remove or replace it)"
                ).format(image=quoted(str(files[k].relative_to(root))), shown=shown, reason=exc)
            ) from None
        array = np.asarray(resized)
        pixels[i] = array[None] if channels == 1 else array.transpose(2, 0, 1)
    y = label_array[chosen]
    class_names = [p.name for p in class_dirs]
    task = "generation" if config.task == "generation" else "classification"
    info = {
        "path": str(root),
        "format": "image_folder",
        "delimiter": None,
        "rows": len(files),
        "used": len(chosen),
        "columns": None,
        "target": None,
        "task": task,
        "task_reason": _("the class folders") if task == "classification" else "task = 'generation'",
        "features": None,
        "encoded": None,
        "unused": None,
        "missing": None,
        "missing_policy": None,
        "dropped_rows": 0,
        "class_counts": _class_counts(y, class_names),
        "image_size": side,
        "channels": channels,
        "skipped_files": skipped,
    }
    x = pixels.astype(np.float32) / 255.0
    return OwnData(x, y, task, class_names if task == "classification" else None, None, info)
