"""Support code for the lessons, not a lesson. Each lesson calls ``tutorial_env.load()``
once, where a script would call ``load_dotenv()``. Which module to open:

    settings.py    load(): .env, and the choice between a real provider and the offline model
    errors.py      explain() and mask(): one short line for each failure, never the key
    runner.py      the tour (`make demo`) and the forked lesson runs it and the tests share
    __main__.py    `python -m tutorial_env --port 8000` (the offline model standalone) and
                   `python -m tutorial_env tour`
    offline/       the offline model: its brain, one module per API dialect, faults, server
    waterfall.py   custom_tracer.py's picture of a run tree: one timed bar per run
    span_table.py  otel_export.py's span trees, the lesson's and the official one's side by side
    web_demo.py    web_streaming.py's demo readers, which act like browsers
    sse_reader.py  web_streaming.py's Server-Sent Events, read as a browser's EventSource would
"""

from .errors import SKIPPED_TOOL, explain, mask
from .runner import LESSON_ARGS, LESSONS, lesson_argv, lesson_title, preload, run_as_main, tour
from .settings import DEFAULT_MODEL, ROOT, ConfigError, load, url_setting

__all__ = [
    "DEFAULT_MODEL",
    "LESSONS",
    "LESSON_ARGS",
    "SKIPPED_TOOL",
    "ROOT",
    "ConfigError",
    "explain",
    "lesson_argv",
    "lesson_title",
    "load",
    "mask",
    "preload",
    "run_as_main",
    "tour",
    "url_setting",
]
