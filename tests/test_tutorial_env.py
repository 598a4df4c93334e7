"""Backend choice (tutorial_env.settings) and the standalone server (python -m tutorial_env)."""

import re
import signal
import subprocess
import sys

import pytest
from dotenv import dotenv_values
from lessons import (
    ROOT,
    check_clean_run,
    ctrl_c_reaches_python,
    expected_output,
    free_port,
    normalise,
    offline_env,
    read_until,
    run_lesson,
    run_python,
)

PROBE = "import tutorial_env, os; print(tutorial_env.load(), os.environ['OPENAI_MODEL'])"


def probe(**env):
    return run_python(PROBE, env=offline_env(**env), timeout=30)


def test_no_key_goes_offline_with_one_line_notice():
    result = probe(OPENAI_MODEL="")  # an empty line in .env: the default model
    assert result.stdout == "offline gpt-6-luna\n"
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("[offline] no OPENAI_API_KEY is set")
    assert "Put a real key in .env" in result.stderr


def env_example_blocks() -> dict[str, dict[str, str]]:
    """Each provider block of .env.example, as the settings it gives once uncommented."""
    blocks, name = {}, None
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"# --- (.+?) ---", line):
            name = heading[1].split(" (")[0]
            blocks[name] = {}
        elif name and (setting := re.match(r"# ([A-Z_]+)=(\S+)$", line)):
            blocks[name][setting[1]] = setting[2]
    return blocks


def test_env_example_sets_nothing_until_one_block_is_uncommented():
    """Choosing a provider is uncommenting one whole block; no other model line is active."""
    assert dotenv_values(ROOT / ".env.example") == {}
    blocks = env_example_blocks()
    assert blocks.pop("Optional, with any block") == {
        "TUTORIAL_OFFLINE": "1",
        "TUTORIAL_TIMEOUT": "30",
        "TUTORIAL_OFFLINE_NO_RESPONSES": "1",
    }
    assert len(blocks) == 7
    for name, block in blocks.items():
        wanted = {"OPENAI_API_KEY", "OPENAI_MODEL"}
        if name != "OpenAI":
            wanted.add("OPENAI_BASE_URL")
        assert set(block) == wanted, f".env.example block {name!r}: {sorted(block)}"


PLACEHOLDER_KEYS = sorted(
    {b["OPENAI_API_KEY"] for b in env_example_blocks().values() if "OPENAI_API_KEY" in b}
    - {"ollama", "EMPTY", "lm-studio"}  # what local servers accept: no secret to fill in
)


@pytest.mark.parametrize("key", PLACEHOLDER_KEYS)
def test_placeholder_keys_are_ignored_and_say_so(key):
    result = probe(OPENAI_API_KEY=key)
    assert result.stdout.startswith("offline")
    assert "placeholder, so it was ignored" in result.stderr


@pytest.mark.parametrize(
    "stray",
    [{"OPENAI_API_BASE": "http://127.0.0.1:9/v1"}, {"OPENAI_PROXY": "http://127.0.0.1:9"}],
    ids=lambda stray: next(iter(stray)),
)
def test_no_key_runs_offline_even_with_a_stray_base_or_proxy_setting(stray):
    result = run_lesson("callbacks_constructor.py", env=offline_env(**stray))
    check_clean_run(result, "callbacks_constructor.py")


def test_real_looking_key_goes_online_quietly():
    result = probe(OPENAI_API_KEY="sk-test-not-real", OPENAI_MODEL="qwen-plus")
    assert result.stdout == "online qwen-plus\n"
    assert result.stderr == ""


def test_tutorial_offline_wins_over_a_key_and_says_how_to_go_online():
    result = probe(OPENAI_API_KEY="sk-test-not-real", TUTORIAL_OFFLINE="1")
    assert result.stdout.startswith("offline")
    assert result.stderr.startswith("[offline] TUTORIAL_OFFLINE=1")
    assert "Unset TUTORIAL_OFFLINE to use your OPENAI_API_KEY." in result.stderr
    assert "Put a real key" not in result.stderr


def test_tutorial_offline_without_a_key_names_both_steps():
    result = probe(TUTORIAL_OFFLINE="1")
    assert "Unset TUTORIAL_OFFLINE and put a real key in .env" in result.stderr


def test_lesson_against_standalone_server_prints_the_same_lesson():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tutorial_env", "--port", str(port)],
        cwd=ROOT,
        env=offline_env(),
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_reaches_python,
    )
    try:
        banner = read_until(server, lambda text: "\n" in text)
        assert f"http://127.0.0.1:{port}/v1" in banner, banner
        env = offline_env(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="x")
        result = run_lesson("callbacks_constructor.py", env=env)
        assert result.returncode == 0, result.stdout
        offline = expected_output("callbacks_constructor.py")
        assert normalise(result.stdout) == offline.split("\n", 1)[1]
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 130
