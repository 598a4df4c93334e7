"""The command line:

python -m tutorial_env --port 8000   serve the offline model standalone, like a local Ollama
python -m tutorial_env tour          run every lesson in order (what `make demo` does)
"""

from __future__ import annotations

import argparse
import sys

from .runner import tour


def serve(port: int) -> int:
    from .offline import FakeOpenAIServer

    try:
        server = FakeOpenAIServer(port)
    except ValueError as error:  # a bad TUTORIAL_* setting
        print(f"[config] {error}", file=sys.stderr)
        return 2
    print(
        f"Fake OpenAI-compatible server on {server.base_url} (Ctrl-C to stop).\n"
        f"In another shell:  OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY=anything "
        "python callbacks_constructor.py",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_env",
        description="Environment and backend choice for the lessons. Support code, not a lesson.",
    )
    parser.add_argument("command", nargs="?", choices=["serve", "tour"], default="serve")
    parser.add_argument("--port", type=int, default=8000, help="port for serve (default 8000)")
    args = parser.parse_args(argv)
    return tour() if args.command == "tour" else serve(args.port)


if __name__ == "__main__":
    sys.exit(main())
