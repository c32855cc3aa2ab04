"""Operations on student code: the only ways a check runs it.

Each operation takes the student's objects (already resolved, in the process where they live)
and plain data, and returns what a check needs to judge: plain data, or a new object that stays
where it was made. They run under the guard, in the student's kernel or, for grading, across
the sandbox; a check never touches a student object any other way.

Operations that build models take a *model spec*: a list of layers, each `("keras", name, args,
kwargs)` for a built-in Keras layer or `(cls, args, kwargs)` for a student class (or layer).

`layers` holds the operations every lesson uses; the other modules add those of one lesson.
`OPERATIONS` maps each operation's name (what a request names) to the function.
"""

from types import MappingProxyType

from . import backprop, batchnorm, dropout, layers, transfer
from .backprop import *  # noqa: F403
from .batchnorm import *  # noqa: F403
from .dropout import *  # noqa: F403
from .layers import *  # noqa: F403
from .transfer import *  # noqa: F403


def _registry(*modules) -> dict:
    found = {}
    for module in modules:
        for operation in module.OPERATIONS:
            name = operation.__name__
            if name in found:
                raise RuntimeError(f"two operations are named {name!r}: rename one")
            found[name] = operation
    return found


OPERATIONS = MappingProxyType(_registry(layers, dropout, backprop, batchnorm, transfer))


def prepare() -> None:
    """Make now what operations would make on first use (the grading kernel then records
    it as trusted, before any student code runs)."""
    transfer._trusted_layers()
