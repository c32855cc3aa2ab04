"""Run a student's function or layer inside a check: guarded, with errors turned into feedback.

Checks call student code only through `run` (a call) and `perform` (any operation of
`autograder.harness.ops`). The student objects a check receives are the real ones in the
student's kernel, or `Ref`s to them across the grading sandbox; both go through the same
operations and give the same feedback.
"""

from contextlib import contextmanager

from .feedback import CheckFailed
from .grader_modules import GRADER_CODE
from .guard import UNWATCHABLE_OP_TYPES, ForbiddenOps
from .harness.execution import execute
from .harness.remote import session_of
from .harness.student_errors import StudentError, error_message, is_stub

__all__ = [
    "run",
    "perform",
    "label",
    "error_hint",
    "error_message",
    "is_stub",
    "NOT_IMPLEMENTED_HINT",
]

NOT_IMPLEMENTED_HINT = (
    "replace `raise NotImplementedError()` in the exercise cell with your code, run that cell, "
    "then run this test again"
)
INTERRUPTED = "KeyboardInterrupt"


def perform(what: str, op: str, *args, forbidden: ForbiddenOps, case="", **kwargs):
    """Run operation `op` on student code, named `what` in feedback; return its value.

    Raises CheckFailed if the code raised, called a forbidden built-in, or (across the grading
    sandbox) did something the sandbox reports. `case` describes the inputs in one line.
    """
    session = session_of((*args, *kwargs.values()))
    names, op_types = forbidden.names, forbidden.op_types
    if session is None:
        result = execute(op, args, kwargs, names, op_types)
    else:
        result = session.perform(op, args, kwargs, names, op_types)
    details = [f"case: {case}"] if case else []
    if result.integrity:
        raise CheckFailed(
            f"While {what} ran, the grader saw it {result.integrity[0]}.",
            [*details, *(f"also: {note}" for note in result.integrity[1:4])],
            "graded code may only compute: no changes to the grader, other threads, "
            "processes, files outside its folder or dynamic imports; your instructor will "
            "see this note",
        )
    if result.error is not None:
        raise _raised(what, result.error, details)
    if result.forbidden and result.forbidden[0].startswith(GRADER_CODE):
        raise CheckFailed(
            f"{what} calls {result.forbidden[0]}, which graded code may not call.",
            details,
            "compute the answer with your own code: the grader's modules hold the answers "
            "the checks compare against",
        )
    if result.forbidden and _runs_python_in_tensorflow(result.forbidden[0]):
        raise CheckFailed(
            f"{what} runs Python inside TensorFlow ({result.forbidden[0]}: tf.numpy_function "
            "or tf.py_function), which graded code may not do.",
            details,
            "compute with keras.ops or TensorFlow ops: Python that TensorFlow runs on its own "
            "threads cannot be checked, so every lesson refuses it",
        )
    if result.forbidden:
        raise CheckFailed(
            f"{what} calls {forbidden.label} ({result.forbidden[0]}), which this lesson forbids.",
            details,
            forbidden.hint,
        )
    return result.value


def _runs_python_in_tensorflow(hit: str) -> bool:
    """Whether the guard's hit is an op that runs Python on TensorFlow's threads."""
    words = hit.split()
    return hit.startswith("TensorFlow op ") and words[2] in UNWATCHABLE_OP_TYPES


def run(what: str, fn, *args, forbidden: ForbiddenOps, case: str = "", **kw):
    """Call `fn(*args, **kw)` as student code named `what`; raise CheckFailed if it misbehaves.

    `case` describes the inputs in one line; it is added to any feedback.
    """
    return perform(what, "call", fn, *args, forbidden=forbidden, case=case, **kw)


@contextmanager
def error_hint(hint: str):
    """Inside this block, feedback on student code that fails (other than a stub) ends with
    `hint` instead of its own; an empty `hint` changes nothing."""
    try:
        yield
    except CheckFailed as failure:
        if not hint or failure.hint == NOT_IMPLEMENTED_HINT:
            raise
        raise CheckFailed(failure.headline, failure.details, hint) from failure


def label(obj) -> str:
    """The class name of a student object, for feedback (a class's own name for a class)."""
    if getattr(obj, "_is_ref", False):
        return obj.__name__
    return obj.__name__ if isinstance(obj, type) else type(obj).__name__


class Raised(CheckFailed):
    """Student code raised an exception: not the exercise's placeholder, not a time-out."""


def _raised(what: str, error: StudentError, details: list[str]) -> CheckFailed:
    if error.stub:
        return CheckFailed(f"{what} is not implemented yet.", details, NOT_IMPLEMENTED_HINT)
    if error.type == INTERRUPTED:
        return CheckFailed(
            f"{what} was stopped: it ran out of time.",
            details,
            "look for a loop that never ends, or for work far larger than the exercise needs",
        )
    if error.called_from:  # the innermost line may be given code: it is not called yours
        hint = f"it happened at {error.where}, called from your code at {error.called_from}"
    elif error.where:
        hint = f"it happened in your code at {error.where}"
    else:
        hint = "run your function on a small input in a cell of its own to see where it fails"
    return Raised(f"{what} raised {error.type}: {error.message}", details, hint)
