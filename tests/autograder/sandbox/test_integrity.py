"""The record of what the grader trusts in the kernel notices every kind of change to it."""

import threading

import pytest

from autograder import grader_modules, guard
from autograder.harness import execution, ops
from autograder.sandbox import integrity


@pytest.fixture(scope="module")
def snapshot():
    guard.prepare([guard.ForbiddenOps("a test list", ("scipy.signal.correlate2d",), "")])
    try:
        yield integrity.take()
    finally:
        guard._PREPARED = None
        guard._WATCHLISTS.clear()
        grader_modules._FIXED = None


def test_an_untouched_interpreter_has_nothing_to_report(snapshot):
    assert snapshot.verify() == []


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        ((execution, "forbid", lambda *a, **k: None), "autograder.harness.execution.forbid"),
        ((guard, "_setprofile", print), "autograder.guard._setprofile"),
        ((threading, "_start_new_thread", print), "threading._start_new_thread"),
        ((guard.Watchlist, "traced_hits", lambda *a: []), "Watchlist"),
        ((guard, "_PREPARED", {}), "autograder.guard._PREPARED"),
        ((grader_modules, "_FIXED", None), "autograder.grader_modules._FIXED"),
    ],
)
def test_a_rebound_name_is_reported(snapshot, change, seen):
    owner, name, value = change
    original = owner.__dict__[name]
    setattr(owner, name, value)
    try:
        problems = snapshot.verify()
    finally:
        setattr(owner, name, original)
    assert any(seen in problem for problem in problems), problems
    assert snapshot.verify() == []


def test_a_changed_function_or_container_is_reported(snapshot):
    code = execution.describe.__code__
    execution.describe.__code__ = (lambda exc: None).__code__
    try:
        assert any("describe was changed" in p for p in snapshot.verify())
    finally:
        execution.describe.__code__ = code
    registry = dict(ops.OPERATIONS)
    (watched,) = guard._WATCHLISTS.values()
    codes = dict(watched.codes)
    watched.codes.clear()
    try:
        assert any("codes" in p for p in snapshot.verify())
    finally:
        watched.codes.update(codes)
    assert dict(ops.OPERATIONS) == registry
    assert snapshot.verify() == []


def test_a_new_submodule_of_the_package_is_no_change(snapshot):
    import autograder.grading.scan  # noqa: F401 - imported after the record was taken

    assert snapshot.verify() == []
