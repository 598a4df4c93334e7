import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]  # the test helpers, and the repo's own modules

from tutorial_env.offline import FakeOpenAIServer  # noqa: E402


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
