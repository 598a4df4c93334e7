import re

LESSON = "callbacks_async.py"


def test_countdown_ticks_while_the_async_handler_awaits(result):
    lines = result.stdout.splitlines()
    first_start = next(i for i, line in enumerate(lines) if line.startswith("[async] model start"))
    first_end = next(i for i, line in enumerate(lines) if line.startswith("[async] model end"))
    ticks = [i for i, line in enumerate(lines) if line.startswith("[countdown]")]
    assert any(first_start < i < first_end for i in ticks)
    assert len(ticks) == 10


def test_the_countdown_ticks_while_the_async_start_handlers_await(result):
    """A blocking start handler (time.sleep) would let at most one tick through here."""
    lines = result.stdout.splitlines()
    last_start = max(i for i, line in enumerate(lines) if line.startswith("[async] model start"))
    first_token = min(i for i, line in enumerate(lines) if line.startswith("[sync]"))
    between = [line for line in lines[last_start:first_token] if line.startswith("[countdown]")]
    assert len(between) >= 2, lines


LINE = re.compile(
    r"\[offline\] .*|The event loop runs on thread MainThread\.|\[countdown\] \d+"
    r"|\[async\] model (start for|end with) '[^']*': awaiting 0\.3 s"
    r"|\[sync\]  call \d: token '[^']*' on thread asyncio_\d+"
    r"|Answers: \[.*\]|All the sleeps add up to .*"
)


def test_every_line_is_printed_whole(result):
    garbled = [line for line in result.stdout.splitlines() if not LINE.fullmatch(line)]
    assert not garbled, garbled


def test_sync_handler_runs_on_an_executor_thread_not_the_loop(result):
    assert "The event loop runs on thread MainThread." in result.stdout
    token_lines = [line for line in result.stdout.splitlines() if line.startswith("[sync]")]
    assert token_lines
    assert all(re.search(r"on thread asyncio_\d+$", line) for line in token_lines)


def test_elapsed_is_clearly_below_the_sum_of_sleeps(result):
    match = re.search(
        r"add up to (\d+\.\d) s; everything together took (\d+\.\d+) s", result.stdout
    )
    slept, elapsed = map(float, match.groups())
    assert slept == 2.2
    assert elapsed < 0.75 * slept


def test_both_answers_come_back(result):
    assert "Answers: ['1 + 2 = 3.', '3 + 4 = 7.']" in result.stdout
