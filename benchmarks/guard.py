"""What the forbidden-op guard costs: a lesson's test cells on its reference, as the grader runs
them (across the loopback, fresh cases), with the guard as it is and with a guard that watches
nothing, measured in the same run.

An audit hook that returns at once, as the sandbox's witness does for most events, is installed
first: inside the sandbox every audited event the guard causes goes through one.

    python benchmarks/guard.py [--lesson 07_batchnorm] [--repeat 3]
"""

import argparse
import importlib
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import lessons  # noqa: E402
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells  # noqa: E402
from autograder.harness import execution, guarding  # noqa: E402

WATCHED = frozenset({"object.__getattr__", "import", "open"})


def witness_like(event, args):
    if event not in WATCHED and not event.startswith("ctypes."):
        return


@contextmanager
def watching_nothing():
    """The operations' guard replaced by a block that records nothing."""

    @contextmanager
    def nothing(*args, **kwargs):
        yield []

    saved = execution.forbid, guarding.forbid
    execution.forbid = guarding.forbid = nothing
    try:
        yield
    finally:
        execution.forbid, guarding.forbid = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="07_batchnorm")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.addaudithook(witness_like)
    topic = lessons.topic(args.lesson)
    checks = lessons.module(args.lesson, "checks")
    objects = vars(importlib.import_module(f"solutions.{topic}"))
    cells = read_test_cells(ROOT / "notebooks" / args.lesson / f"{topic}.ipynb")
    grade_test_cells(cells, objects, checks)  # warm up: imports, traces, cached cases

    times = {"guarded": [], "unguarded": []}
    for _ in range(args.repeat):
        for label in times:
            start = time.perf_counter()
            if label == "guarded":
                results = grade_test_cells(cells, objects, checks, across=True)
            else:
                with watching_nothing():
                    results = grade_test_cells(cells, objects, checks, across=True)
            times[label].append(time.perf_counter() - start)
            failed = [cell for cell, feedback in results.items() if feedback is not None]
            assert not failed, f"the reference failed {failed}"
    guarded, unguarded = (statistics.median(times[k]) for k in ("guarded", "unguarded"))
    print(f"{args.lesson}: {len(cells)} test cells on the reference, median of {args.repeat}")
    print(f"  guarded    {guarded:7.2f} s")
    print(f"  unguarded  {unguarded:7.2f} s")
    print(f"  ratio      {guarded / unguarded:7.2f}x")


if __name__ == "__main__":
    main()
