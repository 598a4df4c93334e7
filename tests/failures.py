"""Helpers for the failure tests: a planted key, the two APIs ChatOpenAI can call, and the
check that a failure ends in exactly one short message. The faulty_server fixture is in
conftest.py."""

import pytest
from lessons import offline_env

PLANTED_KEY = "sk-plantedSECRETkey-0123456789abcd"
# ChatOpenAI picks the API by model: Chat Completions for gpt-4o-mini, with or without tools;
# the Responses API for gpt-5.6-sol, always. A failure must read the same on both.
API_PATHS = {"gpt-4o-mini": "/chat/completions", "gpt-5.6-sol": "/responses"}
on_both_apis = pytest.mark.parametrize(
    "model",
    [
        pytest.param("gpt-4o-mini", id="chat_completions"),
        pytest.param("gpt-5.6-sol", id="responses"),
    ],
)


def online_env(url, **extra):
    return offline_env(OPENAI_API_KEY=PLANTED_KEY, OPENAI_BASE_URL=url, **extra)


def assert_one_message(result, status, *needles):
    output = result.stdout
    assert result.returncode == status, output
    assert "Traceback" not in output
    message = [line for line in output.splitlines() if line.startswith(("[error]", "[config]"))]
    assert len(message) == 1, output
    for needle in needles:
        assert needle in message[0], message[0]
    assert PLANTED_KEY not in output
    assert PLANTED_KEY[:6] not in output and "plantedSECRET" not in output
    return message[0]
