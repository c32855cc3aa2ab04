"""Shared test set-up: quiet TensorFlow, make the repository importable."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# Tests that grade through nbgrader, or drive a browser, start kernels and servers of their own
# and may use both cores: xdist runs each of the two groups below one test after another on one
# worker ("loadgroup"), the grading group on one worker and the browser group on the other, each
# worker going on to the unit tests when its group is done. (The two groups once were one, which
# left one worker with 27 of the run's 28 minutes.)
GROUPS = {
    "grading": ("tests/autograder/grading/", "tests/autograder/sandbox/"),
    "browser": ("tests/browser/",),
}


def _group(item) -> str | None:
    path = Path(str(item.fspath)).relative_to(ROOT).as_posix()
    return next((name for name, folders in GROUPS.items() if path.startswith(folders)), None)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    # The groups first, so that each worker starts on one while the units wait.
    items.sort(key=lambda item: _group(item) is None)
    for item in items:
        if group := _group(item):
            item.add_marker(pytest.mark.xdist_group(group))
