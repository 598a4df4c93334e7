"""The tour (tutorial_env.runner, `make demo`): every lesson in order, forked from one warm
interpreter, each printing what it prints on its own, and a clear end when lessons fail."""

import re
import subprocess

import pytest
from lessons import LESSON_ENV, ROOT, matches_expected, normalise, offline_env, run_python

import tutorial_env


def run_tour(cwd, **env) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """`python -m tutorial_env tour` from another folder, and its output under each header."""
    result = run_python(  # `python -m tutorial_env tour`, forked warm
        "import runpy; runpy.run_module('tutorial_env', run_name='__main__', alter_sys=True)",
        "tour",
        env=offline_env(PYTHONPATH=str(ROOT), **env),
        cwd=cwd,
        timeout=120,
        merge_stderr=True,
    )
    parts = re.split(r"^=+\n\[\d+/\d+\] ([\w.]+): .*\n=+\n", result.stdout, flags=re.M)
    return result, dict(zip(parts[1::2], parts[2::2], strict=True))


def test_a_tour_whose_lessons_fail_exits_1_and_names_every_one_that_failed(tmp_path):
    result, sections = run_tour(tmp_path, TUTORIAL_OFFLINE_FAULT="404")
    assert result.returncode == 1, result.stdout
    assert list(sections) == list(tutorial_env.LESSONS)  # it went on after the failures
    failed = [lesson for lesson, output in sections.items() if "[error] HTTP 404" in output]
    assert failed
    assert f"These lessons failed: {', '.join(failed)}" in result.stdout
    assert "Tour complete." not in result.stdout
    assert "Traceback" not in result.stdout  # one [error] line per failed lesson, no wall


@pytest.mark.parametrize("lesson", tutorial_env.LESSONS)
def test_every_lesson_has_a_docstring_title_for_the_tour(lesson):
    title = tutorial_env.lesson_title(lesson)
    assert title and title != lesson and len(title) < 80


def test_tour_runs_every_lesson_with_the_output_it_has_on_its_own(tmp_path):
    """The tour forks each lesson from one warm interpreter; each must print what it prints
    when run alone (and what the README shows)."""
    result, sections = run_tour(tmp_path, **LESSON_ENV["web_streaming.py"])
    assert result.returncode == 0, result.stdout
    assert result.stdout.rstrip().endswith("Tour complete.")
    assert list(sections) == list(tutorial_env.LESSONS)
    for lesson, output in sections.items():
        shown = normalise(output.replace("\nTour complete.", ""))
        assert matches_expected(shown, lesson), f"{lesson} prints differently inside the tour"
