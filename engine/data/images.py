"""Grey-level digit and clothing images: sklearn's bundled 8x8 digits, and MNIST / Fashion-MNIST from IDX files.

Images come back as uint8 (n, side, side) arrays with their int64 labels; the loader scales them to [0, 1].
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
from sklearn import datasets

from nnplay.engine.core.config import ConfigError
from nnplay.engine.core.i18n import _

DIGIT_NAMES = [str(d) for d in range(10)]
FASHION_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CLASS_NAMES = {"digits": DIGIT_NAMES, "mnist": DIGIT_NAMES, "fashion_mnist": FASHION_NAMES}

IDX_SIDE = 28
# The standard file pairs: train first (required), then t10k (used too when present).
IDX_PARTS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)
_UBYTE = 0x08  # IDX type code of unsigned bytes, the only one MNIST files use


def load_digits() -> tuple[np.ndarray, np.ndarray, float]:
    """sklearn's 1,797 8x8 digits: (images, labels, brightest pixel value); pixels run 0..16."""
    bunch = datasets.load_digits()
    return bunch.images.astype(np.uint8), bunch.target.astype(np.int64), 16.0


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes with `ndim` dimensions, raw or gzip-compressed.

    Raises ConfigError (one sentence naming the file) when it is not such a file or is truncated.
    """
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        # gzip raises BadGzipFile (an OSError) for a wrong header and EOFError when cut short.
        if path.suffix == ".gz":
            message = _("{path} could not be read as gzip: {reason}")
        else:
            message = _("{path} could not be read as a file: {reason}")
        raise ConfigError(message.format(path=path, reason=exc)) from None
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:2] != b"\x00\x00" or raw[2] != _UBYTE or raw[3] != ndim:
        magic = raw[:4].hex() if len(raw) >= 4 else _("missing")
        raise ConfigError(
            _(
                "{path} is not an IDX file of {ndim}-D unsigned bytes (magic number {magic}, expected 0000080{ndim})"
            ).format(path=path, ndim=ndim, magic=magic)
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        if len(raw) < expected:
            message = _(
                "{path} is truncated: its header announces shape {shape} ({expected} bytes) but it holds {size} bytes"
            )
        else:
            message = _(
                "{path} has trailing bytes: its header announces shape {shape} ({expected} bytes) but it holds {size} bytes"
            )
        raise ConfigError(message.format(path=path, shape=shape, expected=expected, size=len(raw)))
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(directory: Path, stem: str) -> Path | None:
    """The raw file if present, else its .gz, else None."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx(name: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST from `path`: train files required, t10k files added when present.

    Our own split decides train/val/test, so both parts are simply concatenated.
    """
    label = "MNIST" if name == "mnist" else "Fashion-MNIST"
    directory = Path(path).expanduser()
    train_images, train_labels = IDX_PARTS[0]
    if not directory.is_dir():
        if directory.exists():
            message = _(
                "data.path = {path} is not a directory; expected the {data} files {images} and {labels} (raw or .gz) there"
            )
        else:
            message = _(
                "data.path = {path} does not exist; expected the {data} files {images} and {labels} (raw or .gz) there"
            )
        raise ConfigError(
            message.format(path=repr(path), data=label, images=train_images, labels=train_labels), setting="data.path"
        )
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for images_stem, labels_stem in IDX_PARTS:
        images_file, labels_file = _find(directory, images_stem), _find(directory, labels_stem)
        if images_file is None and labels_file is None and parts:
            continue  # the t10k pair is optional
        if images_file is None and labels_file is None:
            raise ConfigError(
                _("data.path = {path} has no {data} files; expected {images} and {labels} (raw or .gz) there").format(
                    path=repr(path), data=label, images=images_stem, labels=labels_stem
                ),
                setting="data.path",
            )
        if images_file is None or labels_file is None:
            found, missing = (images_stem, labels_stem) if labels_file is None else (labels_stem, images_stem)
            raise ConfigError(
                _(
                    "data.path = {path} has {found} but not {missing} (raw or .gz); {data} needs both files of the pair"
                ).format(path=repr(path), found=found, missing=missing, data=label),
                setting="data.path",
            )
        images, labels = read_idx(images_file, 3), read_idx(labels_file, 1)
        if images.shape[1:] != (IDX_SIDE, IDX_SIDE):
            raise ConfigError(
                _("{file} holds {height}x{width} images; {dataset} expects {side}x{side}").format(
                    file=images_file, height=images.shape[1], width=images.shape[2], dataset=name, side=IDX_SIDE
                )
            )
        if len(images) != len(labels):
            raise ConfigError(
                _("{images_file} holds {images} images but {labels_file} holds {labels} labels").format(
                    images_file=images_file, images=len(images), labels_file=labels_file, labels=len(labels)
                )
            )
        if labels.size and labels.max() > 9:
            raise ConfigError(
                _("{file} holds label {label}; {data} labels run from 0 to 9").format(
                    file=labels_file, label=labels.max(), data=label
                )
            )
        parts.append((images, labels))
    images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    return images, labels.astype(np.int64)
