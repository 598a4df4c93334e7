"""Every "Try it" answer in the READMEs is what its variant of the lesson really prints."""

import re

import pytest
from exercises import (
    EXERCISES,
    LATER,
    Exercise,
    LessonChanged,
    answers,
    apply_edits,
    run_variants,
    wrong_lines,
)
from lessons import LESSONS, ROOT, callback_errors, expected_output

from docs import READMES, lesson_sections

ENGLISH = READMES[0]
# Each edition that carries an exercise is checked; a missing one is test_docs's business.
ANSWERS = [
    (readme, exercise_id)
    for readme in READMES
    for exercise_id in answers(readme.read_text(encoding="utf-8"))
]


@pytest.fixture(scope="module")
def variants():
    """Every registered variant, run once, all at once, for every edition's check."""
    return run_variants(list(EXERCISES.values()))


@pytest.mark.parametrize("readme, exercise_id", ANSWERS, ids=[f"{r.name}:{i}" for r, i in ANSWERS])
def test_the_answer_is_what_the_variant_prints(variants, readme, exercise_id):
    assert exercise_id in EXERCISES, f"{readme.name}: exercise {exercise_id} is not registered"
    exercise = EXERCISES[exercise_id]
    status, output = variants[exercise_id]
    assert status is not None, output  # the lesson changed under the exercise
    assert status == exercise.exit_code, f"{exercise_id} exited {status}:\n{output}"
    errors = callback_errors(output, exercise.lesson)
    assert not errors, f"{exercise_id}: a handler raised, and LangChain only logged it: {errors}"
    answer = answers(readme.read_text(encoding="utf-8"))[exercise_id]
    problems = wrong_lines(answer, expected_output(exercise.lesson), output)
    assert not problems, (
        f"{readme.name}: the answer to exercise {exercise_id} is wrong in these lines "
        f"(run `python tests/exercises.py {exercise_id}` for what the variant prints):\n"
        + "\n".join(problems)
    )


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_each_edit_still_applies_once(exercise_id):
    exercise = EXERCISES[exercise_id]
    source = (ROOT / exercise.lesson).read_text(encoding="utf-8")
    assert apply_edits(exercise, source) != source


def test_an_edit_that_no_longer_applies_names_its_exercise():
    exercise = Exercise("callbacks_runtime.gone", (("no such line in the lesson", ""),))
    source = (ROOT / exercise.lesson).read_text(encoding="utf-8")
    with pytest.raises(LessonChanged, match=r"the lesson changed under exercise .*\.gone"):
        apply_edits(exercise, source)


def test_the_registry_and_the_english_readme_agree():
    text = ENGLISH.read_text(encoding="utf-8")
    shown = list(answers(text))
    assert len(shown) == len(set(shown)), "an exercise appears twice in README.md"
    assert set(shown) == set(EXERCISES), (
        f"in README.md but not registered: {sorted(set(shown) - set(EXERCISES))}; "
        f"registered but not in README.md: {sorted(set(EXERCISES) - set(shown))}"
    )
    for exercise_id in shown:
        lesson = EXERCISES[exercise_id].lesson
        assert f"<!-- exercise: {exercise_id} -->" in lesson_sections(text)[lesson], (
            f"exercise {exercise_id} is not in the README section of {lesson}"
        )


@pytest.mark.parametrize("lesson", [lesson for lesson in LESSONS if lesson not in LATER])
def test_every_lesson_section_ends_with_one_to_three_exercises(lesson):
    section = lesson_sections(ENGLISH.read_text(encoding="utf-8"))[lesson]
    assert "\n### Try it\n" in section, f"README.md: the {lesson} section has no '### Try it'"
    tail = section.split("\n### Try it\n")[1]
    assert 1 <= len(answers(tail)) <= 3, f"README.md: {lesson} needs one to three exercises"
    assert not re.search(r"^#+ ", tail, flags=re.M), f"README.md: 'Try it' is not last in {lesson}"


def test_a_planted_wrong_answer_fails(variants, tmp_path):
    """Flip one `+` line of a real answer into a `-` line, in a copy of README.md."""
    text = ENGLISH.read_text(encoding="utf-8")
    exercise_id, answer = next((i, a) for i, a in answers(text).items() if a.added)
    planted = answer.added[0]
    marker = text.index(f"<!-- exercise: {exercise_id} -->")
    copy = tmp_path / "README.md"
    copy.write_text(
        text[:marker] + text[marker:].replace(f"\n+ {planted}\n", f"\n- {planted}\n", 1),
        encoding="utf-8",
    )
    wrong = answers(copy.read_text(encoding="utf-8"))[exercise_id]
    _, output = variants[exercise_id]
    lesson = EXERCISES[exercise_id].lesson
    assert not wrong_lines(answer, expected_output(lesson), output)
    assert wrong_lines(wrong, expected_output(lesson), output) == [f"- {planted}"]
