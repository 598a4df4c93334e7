import collections
import gc
import os
import ssl
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]  # the test helpers, and the repo's own modules

from lessons import MODELS, check_clean_run, run_lesson, start_forkserver  # noqa: E402

from tutorial_env.offline import FakeOpenAIServer  # noqa: E402

# Each openai client the tests and their lesson runs make builds an SSL context, and loading a
# CA file into it costs about 16 ms of CPU, some 12 s over a run of the suite, though no test
# makes a TLS connection. OpenSSL's hashed CA directory gives the same trust and is read only
# at a handshake; the SDK's HTTP stack takes SSL_CERT_FILE first, then SSL_CERT_DIR. Set
# here, it reaches the workers and every run forked for them.
CA_DIRECTORY = Path(ssl.get_default_verify_paths().openssl_capath)
if CA_DIRECTORY.is_dir() and any(CA_DIRECTORY.glob("*.0")):
    os.environ.pop("SSL_CERT_FILE", None)
    os.environ["SSL_CERT_DIR"] = str(CA_DIRECTORY)


def pytest_configure(config):
    """One fork server for the whole session (tests/forkserver.py), started as the session
    starts so that it preloads while the workers start; they find it through the
    environment they inherit."""
    if hasattr(config, "workerinput") or os.environ.get("TUTORIAL_FORKSERVER"):
        return
    config._forkserver, os.environ["TUTORIAL_FORKSERVER"] = start_forkserver()


# The files that take longest, longest first (`pytest --durations=0`, summed per file). xdist
# hands whole files to its workers in collection order; a long file handed out last keeps one
# worker busy while the others have finished. The rest follow with the most tests first.
LONGEST_FIRST = (
    "test_claims.py",
    "test_tour.py",
    "test_web_browser.py",
    "test_web_streaming.py",
    "test_offline_responses.py",
    "test_token_counting.py",
)


def pytest_collection_modifyitems(items):
    tests_in = collections.Counter(item.path.name for item in items)

    def order(item):
        name = item.path.name
        first = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        return first, -tests_in[name], name

    items.sort(key=order)  # stable: each file keeps its own order


def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        # The worker's heap is large by now, and the interpreter's exit would walk it in
        # several full garbage collections only to free it: some 2 s at the end of each run.
        gc.freeze()
    if server := getattr(config, "_forkserver", None):
        server.stdin.close()  # it ends when its stdin closes
        server.wait(timeout=10)
        del os.environ["TUTORIAL_FORKSERVER"]


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    """Each of the three model settings a lesson is run and asserted on (lessons.MODELS)."""
    return request.param


@pytest.fixture(scope="module")
def lesson_runs(request):
    """The test module's LESSON run offline on every model setting, all three at once: a run
    mostly waits on the offline model and the lesson's own pauses, so they overlap.
    model -> the Future of its CompletedProcess."""
    with ThreadPoolExecutor(len(MODELS)) as pool:
        yield {
            model: pool.submit(run_lesson, request.module.LESSON, model=model) for model in MODELS
        }


@pytest.fixture(scope="module")
def output(request, lesson_runs, model):
    """That run's output, normalised as the expected outputs are, once it has passed the
    three checks every lesson run gets (lessons.check_clean_run)."""
    return check_clean_run(lesson_runs[model].result(), request.module.LESSON, model)


@pytest.fixture(scope="module")
def result(lesson_runs, model, output):
    """`python <LESSON>` on one model setting, as it ran (exit status, merged output), once
    `output` has checked it."""
    return lesson_runs[model].result()


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
