"""custom_tracer.py's picture of a run tree: one row per run, indented under its parent,
with a bar that shows when it ran, as a tracing UI draws it."""

import math


def token_usage(run):
    """The usage a model run reported, or None."""
    if run.run_type == "llm" and run.outputs:
        return run.outputs["generations"][0][0]["message"]["kwargs"].get("usage_metadata")


def print_waterfall(root, width=30):
    """One row per run of the tree under `root`: its label, its bar, its start and duration."""
    total = max((root.end_time - root.start_time).total_seconds(), 1e-6)

    def row(run, depth, parent_end):
        end_time = run.end_time or parent_end  # a cancelled run never ends: stop at the parent
        start, end = ((t - root.start_time).total_seconds() for t in (run.start_time, end_time))
        left = min(int(start / total * width), width - 1)
        right = max(math.ceil(end / total * width), left + 1)
        bar = " " * left + "#" * (right - left) + " " * (width - right)
        usage = token_usage(run)
        tokens = f"  {usage['input_tokens']} in, {usage['output_tokens']} out" if usage else ""
        label = f"{'  ' * depth}{run.run_type} {run.name}"
        took = f"{(end - start) * 1000:7.1f} ms" if run.end_time else " unfinished"
        print(f"{label:<28}|{bar}|{start * 1000:7.1f} ms{took}{tokens}")
        for child in sorted(run.child_runs, key=lambda child: child.start_time):
            row(child, depth + 1, end_time)

    print(f"{'run':<28} {'0 ms':<{width}} {'start':>9}{'took':>10}")
    row(root, 0, root.end_time)
