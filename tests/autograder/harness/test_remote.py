"""Refs name student objects in another process; the agent serves operations on them."""

import numpy as np
import pytest

from autograder.checks import convolution
from autograder.feedback import CheckFailed
from autograder.guard import ForbiddenOps
from autograder.harness.remote import Agent, LoopbackSession, Ref, session_of
from autograder.student import perform, run

CONVOLUTION = convolution.CONVOLUTION

NOTHING = ForbiddenOps("nothing", (), "")


def namespace():
    def add(a, b):
        return a + b

    class Box:
        def __init__(self, value):
            self.value = value

        def twice(self):
            return self.value * 2

    def stub():
        raise NotImplementedError()

    return {"add": add, "Box": Box, "stub": stub}


def test_a_ref_is_only_a_name():
    ref = LoopbackSession({}).globals(["Conv2D"])["Conv2D"]
    assert repr(ref) == "<student Conv2D>" and ref.build._path == ("build",)
    for use in (lambda: ref(1), lambda: bool(ref), lambda: list(ref)):
        with pytest.raises(TypeError, match="student object"):
            use()
    with pytest.raises(TypeError):
        ref.value = 1
    with pytest.raises(AttributeError):
        ref.__dict__  # noqa: B018


def test_operations_on_refs_run_in_the_agent_and_return_data():
    objects = LoopbackSession(namespace()).globals(["add", "Box", "stub"])
    assert session_of([1, (2, objects["add"])]) is objects["add"]._session
    assert run("add", objects["add"], np.ones(2), 1, forbidden=NOTHING).tolist() == [2.0, 2.0]
    box = run("Box(3)", objects["Box"], 3, forbidden=NOTHING)
    assert isinstance(box, Ref) and box._label == "Box"
    assert run("Box.twice", box.twice, forbidden=NOTHING) == 6
    assert perform("Box.value", "value", box.value, forbidden=NOTHING) == 3
    with pytest.raises(CheckFailed, match="stub is not implemented yet"):
        run("stub", objects["stub"], forbidden=NOTHING)


def test_forbidden_calls_are_caught_in_the_agent():
    from scipy.signal import correlate2d

    session = LoopbackSession({"cc": lambda x, k: correlate2d(x, k, mode="valid")})
    cc = session.globals(["cc"])["cc"]
    with pytest.raises(CheckFailed, match=r"calls a built-in convolution \(scipy.signal"):
        run("cross_correlate2d", cc, np.ones((3, 3)), np.ones((2, 2)), forbidden=CONVOLUTION)


def test_unknown_names_and_malformed_requests_fail_as_student_errors():
    refs = LoopbackSession({}).globals(["missing"])
    with pytest.raises(CheckFailed, match="NameError: name 'missing' is not defined"):
        run("missing", refs["missing"], forbidden=NOTHING)
    with pytest.raises(Exception):  # noqa: B017 - the agent refuses what it cannot decode
        Agent({}).handle(b"not json")
