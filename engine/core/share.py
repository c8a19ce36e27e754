"""Experiment strings: a whole experiment as one short, URL-safe line, for handing out exercises.

A string holds only the settings that differ from the defaults (name and description included), as
compact JSON, compressed with zlib against a frozen preset dictionary (engine/core/share_dictionary.py)
and written in base64url without padding, behind a version prefix: `nnp1.` + payload, only the
characters A-Z a-z 0-9 . _ -. The zlib checksum catches a mistyped or cut string.

decode() gives the config's plain data back, not validated: the caller validates it, so a bad value
gets the usual sentence naming its setting. Torch-free: the app, the CLI and `nnplay web` use it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

from nnplay.engine.core.config import ConfigError, ExperimentConfig, quoted, validate
from nnplay.engine.core.i18n import _
from nnplay.engine.core.share_dictionary import FORMAT_1

FORMAT = 1  # the format this nnplay writes and reads; a string names its own after "nnp"
PREFIX = f"nnp{FORMAT}."
URL_PARAMETER = "experiment"  # the query parameter of `nnplay web` that carries a string
MAX_SETTINGS_BYTES = 64 * 1024  # what a string may unpack to: a config is ~1 KB, a zip bomb is refused
_VERSIONED = re.compile(r"nnp(\d{1,9})\.(.*)", re.DOTALL)
_DICTIONARIES = {1: FORMAT_1}  # each format's preset dictionary, frozen with the format
# Settings outside the sections that the defaults of others hinge on (your own data's task and its loss).
TOP_LEVEL_CHOICES = ("task", "loss")


class ShareError(ValueError):
    """Text that is not an experiment string this nnplay can read, with one sentence why."""


def encode(config: ExperimentConfig | dict[str, Any]) -> str:
    """The experiment string of a config (a validated one, or plain data, which is validated first and
    raises ConfigError): the settings that differ from the defaults, such that validating decode()'s
    data gives this config again."""
    if not isinstance(config, ExperimentConfig):
        config = validate(copy.deepcopy(config))
    text = json.dumps(changed_settings(config), separators=(",", ":"), ensure_ascii=False)
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARIES[FORMAT])
    packed = packer.compress(text.encode("utf-8")) + packer.flush()
    return PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def changed_settings(config: ExperimentConfig) -> dict[str, Any]:
    """The settings of `config` that differ from the defaults, as nested plain data.

    A default can depend on other settings (your own data's task is "auto" unless the config names
    one), so a setting equal to the plain default is still kept when leaving it out would change the
    config: the result is checked by validating it, and what still differs is added."""
    full = config.model_dump()
    kept = _differences(full, ExperimentConfig().model_dump())
    for _round in range(len(full) + 1):  # each round adds a setting, or ends
        try:
            settled = validate(copy.deepcopy(kept)).model_dump()
        except ConfigError:  # a setting left out changed another's default: keep the top-level choices
            extra = {k: v for k, v in full.items() if k in TOP_LEVEL_CHOICES and k not in kept}
        else:
            if settled == full:
                return kept
            extra = _differences(full, settled)
        if not extra:
            break
        _merge(kept, extra)
    return _differences(full, {})  # every setting: always the same config


def _differences(full: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The settings of `full` whose value differs from `base`'s, by section (a list is one value)."""
    out: dict[str, Any] = {}
    for key, value in full.items():
        if isinstance(value, dict):
            found = base.get(key)
            section: dict[str, Any] = found if isinstance(found, dict) else {}
            changed = {k: v for k, v in value.items() if k not in section or section[k] != v}
            if changed:
                out[key] = changed
        elif key not in base or base[key] != value:
            out[key] = value
    return out


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict):
            into.setdefault(key, {}).update(value)
        else:
            into[key] = value


def decode(text: Any) -> dict[str, Any]:
    """The config data an experiment string holds (not validated). `text` may have whitespace around
    it, or be a whole `nnplay web` address with `experiment=STRING` in its query. Raises ShareError
    with one sentence: not an experiment string, made by a newer nnplay, damaged, or too large."""
    string = experiment_of(text)
    found = _VERSIONED.fullmatch(string)
    if found is None:
        raise ShareError(
            _("{string} is not an experiment string; they start with {prefix}").format(
                string=quoted(string), prefix=repr(PREFIX)
            )
        )
    version, payload = int(found.group(1)), "".join(found.group(2).split())  # a line an e-mail wrapped
    if version > FORMAT:
        raise ShareError(
            _("{string} was made by a newer nnplay (format {version}); this nnplay reads format {format}").format(
                string=quoted(string), version=version, format=FORMAT
            )
        )
    damaged = _("{string} is not an experiment string: its data is damaged (copy the whole line)").format(
        string=quoted(string)
    )
    if version not in _DICTIONARIES:
        raise ShareError(damaged)
    try:
        packed = base64.b64decode(payload + "=" * (-len(payload) % 4), altchars=b"-_", validate=True)
        unpacker = zlib.decompressobj(zlib.MAX_WBITS, _DICTIONARIES[version])
        settings = unpacker.decompress(packed, MAX_SETTINGS_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):  # ValueError: a payload that is not ASCII
        raise ShareError(damaged) from None
    if len(settings) > MAX_SETTINGS_BYTES:
        raise ShareError(
            _("{string} unpacks to more than {size} KB of settings; allowed: at most {size} KB").format(
                string=quoted(string), size=MAX_SETTINGS_BYTES // 1024
            )
        )
    if not unpacker.eof or unpacker.unused_data:  # cut short, or something after its end
        raise ShareError(damaged)
    try:
        data = json.loads(settings.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, a number too long, nested too deeply
        raise ShareError(damaged) from None
    if not isinstance(data, dict):
        raise ShareError(damaged)
    return data


def experiment_of(text: Any) -> str:
    """The experiment string in `text`: the text itself without the whitespace around it, or the
    `experiment` parameter of an address; ShareError when `text` is not text at all."""
    if not isinstance(text, str):
        raise ShareError(
            _("{string} is not an experiment string; they are text starting with {prefix}").format(
                string=quoted(text), prefix=repr(PREFIX)
            )
        )
    string = text.strip()
    if f"{URL_PARAMETER}=" in string and not _VERSIONED.match(string):
        try:
            values = parse_qs(urlsplit(string).query).get(URL_PARAMETER)
        except ValueError:  # an address Python cannot split (a bad port, an unclosed bracket)
            values = None
        if values:
            return values[0].strip()
    return string


def looks_like_experiment(text: str) -> bool:
    """Whether `text` is meant as an experiment string (or an address carrying one) rather than a
    preset, file or run name: it starts with "nnp" and a format number and a dot."""
    string = text.strip()
    if _VERSIONED.match(string):
        return True
    return string.startswith(("http://", "https://")) and f"{URL_PARAMETER}=" in string


def web_url(string: str, host: str = "127.0.0.1", port: int = 8000) -> str:
    """The `nnplay web` address that opens the experiment string: http://HOST:PORT/?experiment=STRING."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host  # an IPv6 address
    return f"http://{shown}:{port}/?{URL_PARAMETER}={string}"
