"""Whether the exercises a demonstration uses are done, asked before it does any work.

A demonstration or experiment cell that uses a student's function or layer starts with

    ready.require("Exercise 2", BatchNormalization)

When the code still holds the exercise's placeholder (`raise NotImplementedError()`), the cell
stops there with one line saying which exercise to finish: nothing is trained or drawn first.
The check reads the code of the function, or of each method the class defines, without calling
it: it costs nothing, draws no random number, and works on any object. Code that is written but
wrong is left to the exercise's checks.

The line is shown as a failed check's message is (`autograder.feedback.CheckFailed`, whose
`_render_traceback_` makes IPython show it instead of a traceback).
"""

import inspect

from autograder.feedback import CheckFailed

__all__ = ["Unfinished", "require", "placeholder"]


class Unfinished(CheckFailed):
    """An exercise that a demonstration needs is not done: one line, no traceback."""


def require(exercise: str, *objects) -> None:
    """Raise Unfinished, naming `exercise`, if one of `objects` still holds its placeholder.

    Args:
        exercise: how the notebook names the exercise, e.g. `"Exercise 2"`.
        objects: the student's functions and classes that the exercise asks for.
    """
    for obj in objects:
        where = placeholder(obj)
        if where:
            raise Unfinished(f"Finish {exercise} first: {where} still raises NotImplementedError.")


def placeholder(obj) -> str:
    """The qualified name of the function (of `obj`, or a method `obj` defines) whose code still
    raises the exercise's placeholder `NotImplementedError`, or "" if there is none."""
    from autograder.harness.student_errors import STUB_LINE

    functions = [obj] if inspect.isroutine(obj) else _methods(obj)
    for function in functions:
        try:
            lines, _ = inspect.getsourcelines(inspect.unwrap(function))
        except (OSError, TypeError):  # no source to read (built in, or compiled): assume done
            continue
        if any(STUB_LINE.match(line) for line in lines):
            return getattr(function, "__qualname__", getattr(function, "__name__", repr(obj)))
    return ""


def _methods(cls) -> list:
    if not isinstance(cls, type):
        return []
    found = []
    for value in vars(cls).values():
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        elif isinstance(value, property):
            value = value.fget
        if inspect.isfunction(value):
            found.append(value)
    return found
