"""Shared test set-up: quiet TensorFlow, make the repository importable."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# Tests that grade through nbgrader or drive a browser start kernels and servers of their own
# and use both cores: xdist runs them one after another on one worker ("loadgroup").
SERIAL = ("tests/autograder/grading/", "tests/autograder/sandbox/", "tests/browser/")


def _serial(item) -> bool:
    return Path(str(item.fspath)).relative_to(ROOT).as_posix().startswith(SERIAL)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    # The grading group first, so that its worker starts on it while the other takes the rest.
    items.sort(key=lambda item: not _serial(item))
    for item in items:
        if _serial(item):
            item.add_marker(pytest.mark.xdist_group("grading"))
