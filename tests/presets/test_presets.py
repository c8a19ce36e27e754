"""The presets loader: shipped presets and the user's own (in NNPLAY_PRESETS, a tmp directory in tests)."""

from __future__ import annotations

from pathlib import Path

from nnplay import presets
from nnplay.presets import (
    INVALID_DESCRIPTION,
    PRESETS_DIR,
    find_preset,
    list_presets,
    reserved_name_reason,
    user_preset_path,
    user_presets_dir,
)


def write(path: Path, description: str) -> Path:
    path.write_text(f'description = "{description}"\n', encoding="utf-8")
    return path


def test_user_presets_live_in_nnplay_presets_else_the_user_config_dir(user_presets, monkeypatch):
    assert user_presets_dir() == user_presets
    assert user_preset_path("mine") == user_presets / "mine.toml"
    monkeypatch.delenv("NNPLAY_PRESETS")
    monkeypatch.setattr("platformdirs.user_config_dir", lambda app: f"/config/{app}")
    assert user_presets_dir() == Path("/config/nnplay/presets")


def test_find_preset_finds_a_user_preset_but_a_shipped_one_wins(user_presets):
    mine = write(user_presets / "mine.toml", "Mine.")
    write(user_presets / "xor-perceptron.toml", "Dropped here by hand.")
    assert find_preset("mine") == mine
    assert find_preset("xor-perceptron") == PRESETS_DIR / "xor-perceptron.toml"
    assert find_preset(str(mine)) == mine
    assert find_preset("course") is None and find_preset("nobody") is None


def test_list_presets_marks_the_users_own_after_the_shipped_ones_and_never_twice(user_presets):
    write(user_presets / "zeta.toml", "Zeta.")
    write(user_presets / "alpha.toml", "Alpha.")
    write(user_presets / "xor-perceptron.toml", "Dropped here by hand.")
    (user_presets / "broken.toml").write_text("x = [", encoding="utf-8")
    found = list_presets()
    names = [p.name for p in found]
    assert len(names) == len(set(names))
    assert [(p.name, p.user) for p in found if p.user] == [("alpha", True), ("broken", True), ("zeta", True)]
    assert names[-3:] == ["alpha", "broken", "zeta"]
    assert not any(p.user for p in found[:-3])
    assert next(p for p in found if p.name == "xor-perceptron").path.parent == PRESETS_DIR
    assert next(p for p in found if p.name == "broken").description == INVALID_DESCRIPTION


def test_a_missing_user_directory_lists_only_the_shipped_presets(user_presets, monkeypatch):
    monkeypatch.setenv("NNPLAY_PRESETS", str(user_presets / "not-yet"))
    assert {p.path.parent for p in list_presets()} == {PRESETS_DIR}
    assert find_preset("mine") is None


def test_a_shipped_presets_name_is_reserved():
    assert reserved_name_reason("xor-perceptron") == (
        "name = 'xor-perceptron' is a lesson of the course; choose another name"
    )
    assert reserved_name_reason("my-xor") is None


def test_a_shipped_preset_outside_the_course_is_reserved_too(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for path in PRESETS_DIR.glob("*.toml"):
        (shipped / path.name).write_bytes(path.read_bytes())
    write(shipped / "extra.toml", "Not a lesson.")
    monkeypatch.setattr(presets, "PRESETS_DIR", shipped)
    assert reserved_name_reason("extra") == "name = 'extra' is a preset shipped with nnplay; choose another name"
