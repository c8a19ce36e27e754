"""The course: every lesson is complete and its claim holds, checked on three data seeds.

The claims are the tool's word to a learner: each lesson and its variation are run in process and
judged by the lesson's own check (engine/course.py), on data seeds 0, 1 and 2. `make lessons` runs
the same on three training seeds as well and writes docs/lessons.md.
"""

from __future__ import annotations

import pytest

from nnplay.engine.core.config_files import load
from nnplay.engine.core.course import CHECKS
from nnplay.engine.lessons import run_lesson
from nnplay.presets import course, find_lesson, find_preset, list_presets

LESSONS = [lesson for section in course() for lesson in section.lessons]
DATA_SEEDS = (0, 1, 2)


def test_the_readmes_lesson_table_is_the_course():
    from pathlib import Path

    from nnplay.presets import course_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert course_markdown() in readme


def test_the_course_has_every_section_of_the_basics_in_teaching_order():
    titles = [section.title for section in course()]
    assert titles[0].startswith("Learning from data") and titles[-1] == "Transfer learning"
    assert len(LESSONS) >= 24
    assert [lesson.number for lesson in LESSONS] == list(range(1, len(LESSONS) + 1))
    assert [p.name for p in list_presets()][: len(LESSONS)] == [lesson.name for lesson in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_every_lesson_has_a_claim_what_to_watch_a_variation_and_a_check(lesson):
    assert lesson.claim and lesson.watch and lesson.try_next and lesson.variation and lesson.title != lesson.name
    assert lesson.name in CHECKS
    assert load(lesson.path).name == lesson.name  # the [lesson] table is the lesson's, not the experiment's
    variation = load(lesson.path, lesson.variation_overrides)
    assert variation.name == f"{lesson.name}-try-next"
    assert variation != load(lesson.path).model_copy(update={"name": variation.name})
    if lesson.requires:
        assert find_preset(lesson.requires) is not None and find_lesson(lesson.requires).number < lesson.number


@pytest.mark.parametrize("data_seed", DATA_SEEDS)
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_the_lessons_claim_holds(lesson, data_seed, tmp_path):
    result = run_lesson(lesson, data_seed=data_seed, training_seed=0, root=tmp_path)
    assert result.outcome.held, f"{lesson.name}, data seed {data_seed}: {result.outcome.comparison}"
