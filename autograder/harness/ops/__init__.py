"""Operations on student code: the only ways a check runs it.

Each operation takes the student's objects (already resolved, in the process where they live)
and plain data, and returns what a check needs to judge: plain data, or a new object that stays
where it was made. They run under the guard, in the student's kernel or, for grading, across
the sandbox; a check never touches a student object any other way.

Operations that build models take a *model spec*: a list of layers, each `("keras", name, args,
kwargs)` for a built-in Keras layer or `(cls, args, kwargs)` for a student class (or layer).

`layers` holds the operations every lesson uses; a lesson adds its own in its folder's
`ops.py` (`autograder.lessons`). `OPERATIONS` maps each operation's name (what a request
names) to the function.
"""

from types import MappingProxyType

from ... import lessons
from . import layers
from .layers import *  # noqa: F403


def _registry() -> dict:
    modules = [layers, *filter(None, (lessons.optional(n, "ops") for n in lessons.names()))]
    found = {}
    for module in modules:
        for operation in module.OPERATIONS:
            name = operation.__name__
            if name in found:
                raise RuntimeError(f"two operations are named {name!r}: rename one")
            found[name] = operation
    return found


OPERATIONS = MappingProxyType(_registry())


def prepare() -> None:
    """Make now what operations would make on first use (the grading kernel then records
    it as trusted), and let each lesson's operations do the same (`prepare()` in its ops)."""
    for name in lessons.names():
        module = lessons.optional(name, "ops")
        if module is not None and hasattr(module, "prepare"):
            module.prepare()
