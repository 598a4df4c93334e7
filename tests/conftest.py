import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]  # the test helpers, and the repo's own modules

from lessons import MODELS, start_forkserver  # noqa: E402

from tutorial_env.offline import FakeOpenAIServer  # noqa: E402


def pytest_configure(config):
    """One fork server for the whole session (tests/forkserver.py), started as the session
    starts so that it preloads while the workers start; they find it through the
    environment they inherit."""
    if hasattr(config, "workerinput") or os.environ.get("TUTORIAL_FORKSERVER"):
        return
    config._forkserver, os.environ["TUTORIAL_FORKSERVER"] = start_forkserver()


def pytest_unconfigure(config):
    if server := getattr(config, "_forkserver", None):
        server.stdin.close()  # it ends when its stdin closes
        server.wait(timeout=10)
        del os.environ["TUTORIAL_FORKSERVER"]


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    """Each of the three model settings a lesson is run and asserted on (lessons.MODELS)."""
    return request.param


@pytest.fixture(scope="module")
def fake():
    """A fault-free offline model with no token delay, shared by one test module."""
    with FakeOpenAIServer(token_delay=0, fault="") as server:
        yield server


@pytest.fixture
def faulty_server(request):
    """A fake provider with the fault given by the test's parametrize, owned by the test."""
    with FakeOpenAIServer(token_delay=0, fault=request.param) as fake:
        yield fake


@pytest.fixture
def deepseek_like_server():
    """Answers an unknown model the way DeepSeek does: HTTP 400 "Model Not Exist"."""
    with FakeOpenAIServer(token_delay=0, fault="", unknown_model_status=400) as fake:
        yield fake


@pytest.fixture
def chat_completions_only_server():
    """Serves Chat Completions only, as many OpenAI-compatible servers do: /v1/responses
    answers 404 "Invalid URL"."""
    with FakeOpenAIServer(token_delay=0, fault="", responses_api=False) as fake:
        yield fake


@pytest.fixture
def fake_server():
    """A fake provider that answers normally, both Chat Completions and Responses."""
    with FakeOpenAIServer(token_delay=0, fault="") as fake:
        yield fake
