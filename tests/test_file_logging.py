import re
import shutil

import pytest
from lessons import check_clean_run, offline_env, run_lesson

LESSON = "file_logging.py"
RUNS = 20
EVENT_LINE = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3} \| (INFO|DEBUG|SUCCESS) *\| "
    r"(chain start|model start|model end|chain end) "
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, model):
    """Run the lesson twice in a fresh folder, as a reader would, keeping the first logs."""
    folder = tmp_path_factory.mktemp("reader")
    first = check_clean_run(run_lesson(LESSON, cwd=folder, model=model), LESSON, model)
    (folder / "screen.txt").write_text(first, encoding="utf-8")
    shutil.copytree(folder / "logs", folder / "first-run-logs")
    check_clean_run(run_lesson(LESSON, cwd=folder, model=model), LESSON, model)
    return folder


def read(workdir, name):
    return (workdir / "logs" / name).read_bytes().decode("utf-8")


def test_file_handler_logged_every_chain_of_all_runs_in_whole_lines(workdir):
    log = read(workdir, "chain.log")
    lines = [line for line in log.splitlines() if line]
    assert all(
        re.fullmatch(r"> (Entering new \w+ chain\.\.\.|Finished chain\.)", line) for line in lines
    ), "a line was cut or mixed with another"
    for n in range(1, RUNS + 1):
        assert lines.count(f"> Entering new Joke{n:02d} chain...") == 1
    assert lines.count("> Entering new RunnableSequence chain...") == 1
    assert lines.count("> Entering new ChatPromptTemplate chain...") == RUNS + 1
    assert lines.count("> Entering new StrOutputParser chain...") == RUNS + 1
    assert lines.count("> Finished chain.") == 3 * (RUNS + 1)


def test_screen_shows_the_same_chain_lines_as_the_file(workdir):
    screen = (workdir / "screen.txt").read_text(encoding="utf-8")
    part = screen.split("== 1.")[1].split("== 2.")[0]
    shown = [line for line in part.splitlines() if line.startswith(">")]
    logged = read(workdir, "chain.log").split("> Entering new Joke01")[0]
    assert shown == [line for line in logged.splitlines() if line.startswith(">")]
    assert len(shown) == 6


def test_loguru_lines_are_whole_levelled_and_utf8(workdir):
    raw = (workdir / "logs" / "events.log").read_bytes()
    assert "寿司".encode() in raw
    lines = ANSI.sub("", raw.decode("utf-8")).splitlines()
    assert len(lines) == 4 * (RUNS + 1)
    assert all(EVENT_LINE.match(line) for line in lines), "a loguru line is malformed"
    for n in range(1, RUNS + 1):
        assert sum(f"chain start Joke{n:02d} " in line for line in lines) == 1
    assert "\x1b[32m" in raw.decode("utf-8")  # coloured


def test_html_keeps_the_colours(workdir):
    html = read(workdir, "events.html")
    assert html.lstrip().startswith("<!DOCTYPE") and "</html>" in html
    assert '<span class="ansi32">' in html
    assert "寿司" in html


def test_bare_model_call_writes_nothing(workdir):
    assert (workdir / "logs" / "bare_model.log").stat().st_size == 0


def test_second_run_replaces_the_logs_instead_of_appending(workdir):
    for name in ("chain.log", "events.log"):
        first = (workdir / "first-run-logs" / name).read_text("utf-8")
        assert len(read(workdir, name).splitlines()) == len(first.splitlines())


def test_log_dir_is_configurable(tmp_path):
    target = tmp_path / "elsewhere"
    result = run_lesson(LESSON, cwd=tmp_path, env=offline_env(TUTORIAL_LOG_DIR=str(target)))
    assert result.returncode == 0
    assert (target / "chain.log").exists() and not (tmp_path / "logs").exists()


def test_verbose_prints_nothing_and_a_run_time_stdout_handler_prints_the_chain(workdir):
    screen = (workdir / "screen.txt").read_text(encoding="utf-8")
    lines = screen.split("== 4.")[1].splitlines()[1:]
    silent = [line for line in lines if line.endswith("printed nothing")]
    assert [line.split("  ")[0] for line in silent] == [
        "ChatOpenAI(verbose=True).invoke()",
        "prompt | ChatOpenAI(verbose=True)",
        "set_verbose(True), prompt | ChatOpenAI()",
    ]
    assert lines[3].startswith("prompt | ChatOpenAI(), StdOutCallbackHandler at run time")
    assert lines[3].endswith(" entered RunnableSequence, ChatPromptTemplate")
