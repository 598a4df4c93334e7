"""Check for real that Arize Phoenix shows the OpenTelemetry lesson's trace as the lesson made it.

1. `make phoenix` installs Phoenix into .phoenix/ (its own lock) and serves it on
   127.0.0.1:6006, with its data in a fresh temp dir;
2. tests/otel_probe.py makes the lesson's spans against the offline model (no key), on each
   of the three models the tests use (tests/lessons.py MODELS: both of OpenAI's APIs), prints
   them as JSON ({"spans": [...]}) and, with OTEL_EXPORTER_OTLP_ENDPOINT pointing at Phoenix,
   exports them;
3. Phoenix's own REST API (GET /v1/projects, GET /v1/projects/{id}/spans) gives back the spans
   it stored, and they must form the same tree: names, parents, and every attribute the probe
   sent, with its value; and each span under the probe's span id, trace id, parent id and
   status. Phoenix adds OpenInference attributes it derives from the gen_ai.* ones (llm.*,
   tool.*, ...): those are listed, not failed. It stores no OTLP span kind, so kinds cannot
   be compared; it shows a kind of its own instead (LLM, TOOL, AGENT, ...).
4. With --screenshot PATH, headless Chromium takes a picture of the largest trace in
   Phoenix's UI (make screenshots writes docs/phoenix_trace.png so).

Phoenix is stopped by its PID when the check ends, whether it passed or failed.
Run: .ci/phoenix-check [--screenshot PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST, PORT = "127.0.0.1", 6006
URL = f"http://{HOST}:{PORT}"
PROBE = ROOT / "tests" / "otel_probe.py"
INSTALL_SECONDS = 600  # `make phoenix` installs .phoenix/ first when it is missing or stale
START_SECONDS = 120
INGEST_SECONDS = 30  # Phoenix writes the spans it receives to its database in batches
# The OpenInference attributes Phoenix derives from gen_ai.* ones as it receives a span.
DERIVED = (
    "openinference.",
    "llm.",
    "input.",
    "output.",
    "tool.",
    "tool_call.",
    "retrieval.",
    "embedding.",
    "reranker.",
    "agent.",
    "graph.",
    "session.",
    "user.",
    "metadata",
    "tag.",
)


class CheckFailed(Exception):
    """The check failed; the message says why, in one line or a short list."""


Span = tuple[str, "str | None", dict]  # name, parent's name, attributes


def probe_tree(probe: list[dict]) -> list[Span]:
    """The probe's spans as (name, parent, attributes)."""
    return [(span["name"], span["parent"], span["attributes"]) for span in probe]


def phoenix_tree(spans: list[dict]) -> list[Span]:
    """Phoenix's spans (its REST API's `data` items) as (name, parent, attributes): the parent
    found by span id among them. A parent id that matches none shows as `<missing ID>`."""
    names = {span["context"]["span_id"]: span["name"] for span in spans}
    tree = []
    for span in spans:
        parent_id = span.get("parent_id")
        parent = None if parent_id is None else names.get(parent_id, f"<missing {parent_id}>")
        tree.append((span["name"], parent, span.get("attributes") or {}))
    return tree


def same_value(a, b) -> bool:
    """Equal, and of the same JSON type (so 1 is not True, and 1 is not 1.0 or "1")."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same_value, a, b))
    return type(a) is type(b) and a == b


def attribute_problems(sent: dict, stored: dict) -> list[str]:
    """How Phoenix's attributes differ from what the probe sent, other than derived ones."""
    problems = []
    for key, value in sent.items():
        if key not in stored:
            problems.append(f"{key} missing (sent {value!r})")
        elif not same_value(value, stored[key]):
            problems.append(f"{key}: sent {value!r}, Phoenix has {stored[key]!r}")
    for key, value in stored.items():
        if key not in sent and not key.startswith(DERIVED):
            problems.append(f"{key}={value!r} added, not derived")
    return problems


def compare_trees(sent: list[Span], stored: list[Span]) -> list[str]:
    """Every difference between the probe's tree and Phoenix's; none when they are the same.
    Spans pair up by name and parent; among spans with the same name and parent, a sent span
    pairs with a stored one whose attributes match."""
    problems = []
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for name, parent, attributes in sent:
        groups[name, parent][0].append(attributes)
    for name, parent, attributes in stored:
        groups[name, parent][1].append(attributes)
    for (name, parent), (ours, theirs) in groups.items():
        where = f"{name!r} under {parent!r}" if parent else f"{name!r} (a root)"
        if len(ours) != len(theirs):
            problems.append(f"{where}: the probe sent {len(ours)}, Phoenix has {len(theirs)}")
        unmatched, differing = list(theirs), []
        for attributes in ours:  # first the exact pairs, then each other with its closest
            match = next((t for t in unmatched if not attribute_problems(attributes, t)), None)
            if match is None:
                differing.append(attributes)
            else:
                unmatched.remove(match)
        for attributes in differing:
            if unmatched:
                closest = min(unmatched, key=lambda t: len(attribute_problems(attributes, t)))
                unmatched.remove(closest)
                diff = "; ".join(attribute_problems(attributes, closest))
                problems.append(f"{where}: attributes differ: {diff}")
    return problems


def compare_ids(probe: list[dict], spans: list[dict]) -> list[str]:
    """Where the probe gives span ids: Phoenix has each span under its id, in the same trace,
    with the same name, parent id and status, and no span the probe did not send."""
    problems = []
    stored = {span["context"]["span_id"]: span for span in spans}
    for span in probe:
        theirs = stored.pop(span["span_id"], None)
        if theirs is None:
            problems.append(f"span {span['span_id']} ({span['name']!r}) not in Phoenix")
            continue
        for field, value in [
            ("name", theirs["name"]),
            ("trace_id", theirs["context"]["trace_id"]),
            ("parent_span_id", theirs.get("parent_id")),
            ("status", theirs.get("status_code")),
        ]:
            if field in span and span[field] != value:
                problems.append(
                    f"span {span['span_id']}: {field} {span[field]!r}, Phoenix {value!r}"
                )
    problems += [f"span {i} ({span['name']!r}) only in Phoenix" for i, span in stored.items()]
    return problems


def derived_keys(sent: list[Span], stored: list[Span]) -> list[str]:
    """The attribute keys Phoenix added of its own (derived OpenInference ones)."""
    ours = {key for _, _, attributes in sent for key in attributes}
    return sorted({key for _, _, attributes in stored for key in attributes} - ours)


def get_json(path: str, timeout: float = 5):
    with urllib.request.urlopen(URL + path, timeout=timeout) as response:
        return json.load(response)


def port_is_free() -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, PORT))
        except OSError:
            return False
        return True


@contextmanager
def phoenix_running(log: Path) -> Iterator[None]:
    """`make phoenix` in the background, with a fresh data dir; stopped by its PID at the end."""
    if not port_is_free():
        raise CheckFailed(f"{HOST}:{PORT} is in use: stop what listens there, then run again")
    data = Path(tempfile.mkdtemp(prefix="phoenix-check."))
    pidfile = data / "phoenix.pid"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "MAKE"))}
    env["PHOENIX_WORKING_DIR"] = str(data / "data")
    (data / "data").mkdir()
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "-s", "phoenix", f"PIDFILE={pidfile}", f"PHOENIX_PORT={PORT}"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    pid = None
    try:
        pid = wait_for_pid(make, pidfile, log)
        wait_until_ready(make, log)
        yield
    finally:
        if pid is not None:
            stop(pid)
        try:
            make.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"make (PID {make.pid}) is still running after Phoenix stopped", file=sys.stderr)
        shutil.rmtree(data, ignore_errors=True)


def log_tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


def wait_for_pid(make: subprocess.Popen, pidfile: Path, log: Path) -> int:
    deadline = time.monotonic() + INSTALL_SECONDS
    while time.monotonic() < deadline:
        if pidfile.exists() and pidfile.read_text().strip():
            return int(pidfile.read_text())
        if make.poll() is not None:
            raise CheckFailed(f"`make phoenix` failed (exit {make.returncode}):\n{log_tail(log)}")
        time.sleep(0.2)
    raise CheckFailed(f"`make phoenix` did not start Phoenix in {INSTALL_SECONDS} s")


def wait_until_ready(make: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if make.poll() is not None:
            raise CheckFailed(f"Phoenix exited (make: {make.returncode}):\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(URL + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise CheckFailed(f"Phoenix did not answer {URL}/healthz in {START_SECONDS} s")


def stop(pid: int) -> None:
    """Stop Phoenix, only it, by its PID: SIGTERM, then SIGKILL after 15 s."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def run_probe(probe: Path, model: str) -> list[dict]:
    """The probe offline (no key, as the tests run lessons) on `model`, exporting to Phoenix."""
    from lessons import offline_env

    env = {k: v for k, v in offline_env(OPENAI_MODEL=model).items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = URL
    done = subprocess.run(
        [sys.executable, str(probe)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-10:])
        raise CheckFailed(f"{probe.name} on {model} exited {done.returncode}:\n{tail}")
    try:
        printed = json.loads(done.stdout)
        spans = printed["spans"] if isinstance(printed, dict) else printed
    except (json.JSONDecodeError, KeyError) as error:
        raise CheckFailed(f"{probe.name} on {model} printed no JSON spans: {error!r}") from None
    if not spans:
        raise CheckFailed(f"{probe.name} on {model} printed no spans")
    return spans


def phoenix_spans() -> list[dict]:
    """Every span in every project of this (fresh) Phoenix, from its REST API."""
    spans = []
    for project in get_json("/v1/projects")["data"]:
        cursor = None
        while True:
            query = "limit=1000" + (f"&cursor={cursor}" if cursor else "")
            page = get_json(f"/v1/projects/{project['id']}/spans?{query}")
            spans += [dict(span, project_id=project["id"]) for span in page["data"]]
            if not (cursor := page.get("next_cursor")):
                break
    return spans


def wait_for_spans(count: int, seen: set[str]) -> list[dict]:
    """The spans Phoenix has stored besides those in `seen` (span ids), once there are `count`
    of them, or after INGEST_SECONDS."""

    def new() -> list[dict]:
        return [span for span in phoenix_spans() if span["context"]["span_id"] not in seen]

    deadline = time.monotonic() + INGEST_SECONDS
    while len(new()) < count and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(0.5)  # then make sure no more arrive
    return new()


def screenshot(spans: list[dict], path: Path) -> None:
    """Phoenix's UI on the trace with the most spans, in headless Chromium."""
    from playwright.sync_api import TimeoutError as PageTimeout
    from playwright.sync_api import sync_playwright

    by_trace: dict[tuple, list] = defaultdict(list)
    for span in spans:
        by_trace[span["project_id"], span["context"]["trace_id"]].append(span)
    (project_id, trace_id), trace = max(by_trace.items(), key=lambda item: len(item[1]))
    # Its first model call selected, with the Attributes tab open: the gen_ai.* ones show.
    chosen = min(trace, key=lambda span: (span.get("span_kind") != "LLM", span["start_time"]))
    browser_path = shutil.which("chromium")
    if not browser_path:
        raise CheckFailed("no chromium on PATH: apt-get install chromium (as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(
                f"{URL}/projects/{project_id}/traces/{trace_id}?selectedSpanNodeId={chosen['id']}"
            )
            for span in trace:  # the whole tree is drawn
                page.get_by_text(span["name"], exact=True).first.wait_for(timeout=30_000)
            page.get_by_role("tab", name="Attributes").click()
            page.get_by_text("gen_ai.operation.name", exact=True).first.wait_for(timeout=30_000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(path))
        except PageTimeout as error:
            raise CheckFailed(f"Phoenix's UI did not show the trace: {error.message}") from None
        finally:
            browser.close()
    print(f"wrote {path}: trace {trace_id}, {len(trace)} spans")


def show(spans: list[dict]) -> None:
    """Phoenix's spans as an indented tree, each with the kind Phoenix gave it."""
    children = defaultdict(list)
    for span in sorted(spans, key=lambda span: span.get("start_time") or ""):
        children[span.get("parent_id")].append(span)

    def walk(parent_id, depth):
        for span in children.get(parent_id, []):
            print(f"    {'  ' * depth}{span['name']}  [{span.get('span_kind', '?')}]")
            walk(span["context"]["span_id"], depth + 1)

    walk(None, 0)


def check_model(probe_script: Path, model: str, seen: set[str], verbose: bool) -> list[dict]:
    """Run the probe on `model`; Phoenix must give back its spans as the same tree."""
    probe = run_probe(probe_script, model)
    spans = wait_for_spans(len(probe), seen)
    sent, stored = probe_tree(probe), phoenix_tree(spans)
    problems = compare_trees(sent, stored)
    with_ids = all("span_id" in span for span in probe)
    if with_ids:
        problems += compare_ids(probe, spans)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise CheckFailed(f"on {model}, Phoenix's spans are not the probe's:\n{listed}")
    attributes = sum(len(a) for _, _, a in sent)
    ids = ", each under its span id, trace id, parent id and status" if with_ids else ""
    print(f"{model}: Phoenix has the probe's {len(probe)} spans as the same tree, with all")
    print(f"  {attributes} attributes the probe sent and their values{ids}")
    if verbose:
        show(spans)
        print(f"  Phoenix added (derived OpenInference): {', '.join(derived_keys(sent, stored))}")
        print("  span kinds not compared: Phoenix stores none from OTLP, it shows its own")
    return spans


def check(probe_script: Path, screenshot_to: Path | None) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from lessons import MODELS

    started = time.monotonic()
    log = Path(tempfile.gettempdir()) / f"phoenix-check.{os.getpid()}.log"
    try:
        with phoenix_running(log):
            print(f"Phoenix ready on {URL} after {time.monotonic() - started:.1f} s")
            seen: set[str] = set()
            for model in MODELS:  # the default first: the screenshot shows its trace
                spans = check_model(probe_script, model, seen, verbose=model == MODELS[0])
                if screenshot_to and model == MODELS[0]:
                    screenshot(spans, screenshot_to)
                seen |= {span["context"]["span_id"] for span in spans}
    finally:
        log.unlink(missing_ok=True)
    print(f"Phoenix check passed in {time.monotonic() - started:.1f} s; Phoenix stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, metavar="PATH", help="also write a PNG")
    parser.add_argument("--probe", type=Path, default=PROBE, help="the script that sends spans")
    args = parser.parse_args()
    try:
        check(args.probe, args.screenshot)
    except CheckFailed as error:
        print(f"PHOENIX CHECK FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
