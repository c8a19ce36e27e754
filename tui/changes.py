"""What differs between two experiments, in words: it names a run that is no longer the preset it
was loaded from, and labels a ghost with what the next run changed ("dropout 0 → 0.5")."""

from __future__ import annotations

from typing import Any

from nnplay.engine.core.i18n import _

IDENTITY = ("name", "description")  # what an experiment is called, not how it trains
MODIFIED_SUFFIX = "-modified"


def flat(config: dict, prefix: str = "") -> dict[str, Any]:
    """{"regularization": {"dropout": 0.5}} -> {"regularization.dropout": 0.5}."""
    items: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            items.update(flat(value, path + "."))
        else:
            items[path] = value
    return items


def config_changes(before: dict, after: dict) -> list[tuple[str, Any, Any]]:
    """(setting, old, new) for every setting that differs, in the order of `after`; both configs
    should be complete (validated, defaults filled) so that a default never reads as a change."""
    old, new = flat(before), flat(after)
    paths = list(new) + [p for p in old if p not in new]
    return [(p, old.get(p), new.get(p)) for p in paths if p not in IDENTITY and old.get(p) != new.get(p)]


def shown(value: Any) -> str:
    """A setting's value as the user would write it: on/off, none, 0.5, [2, 3]."""
    if value is None:
        return _("none")
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def describe(changes: list[tuple[str, Any, Any]], limit: int | None = 2) -> str:
    """'dropout 0 → 0.5, lr 0.003 → 0.01 (and 2 more)'. A setting is named by its last part unless
    that part is ambiguous among the changes (data.seed and training.seed)."""
    if not changes:
        return _("same settings")
    lasts = [path.rsplit(".", 1)[-1] for path, _old, _new in changes]
    words = [
        f"{last if lasts.count(last) == 1 else path} {shown(old)} → {shown(new)}"
        for (path, old, new), last in zip(changes, lasts, strict=True)
    ]
    if limit is not None and len(words) > limit:
        return _("{changes} (and {count} more)").format(changes=", ".join(words[:limit]), count=len(words) - limit)
    return ", ".join(words)
