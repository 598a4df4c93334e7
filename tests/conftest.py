import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]  # the test helpers, and the repo's own modules

from fake_openai import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def faulty_server(request):
    """A fake provider with the fault given by the test's parametrize, owned by the test."""
    fake = FakeOpenAIServer(token_delay=0, fault=request.param).start()
    yield fake
    fake.stop()
