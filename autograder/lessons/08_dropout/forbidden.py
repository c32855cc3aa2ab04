"""What lesson 08 forbids in graded code: a built-in dropout. Every check reads
`forbidden.DROPOUT` at each call (never binds it into a declaration), so that a test may lift
it; `perform`, `run` and `layer` call student code under it."""

from ... import student
from ...builtin_ops import DROPOUT_OPS
from ...contract import make_layer
from ...guard import ForbiddenOps

DROPOUT = ForbiddenOps(
    "a built-in dropout",
    DROPOUT_OPS,
    "this lesson asks you to draw the mask yourself with keras.random (a uniform draw "
    "compared with the rate) and apply it with keras.ops",
)


def perform(what, op, *args, **kwargs):
    return student.perform(what, op, *args, forbidden=DROPOUT, **kwargs)


def run(what, fn, *args, **kwargs):
    return student.run(what, fn, *args, forbidden=DROPOUT, **kwargs)


def layer(cls, args, kwargs=None):
    return make_layer(cls, args, kwargs, forbidden=DROPOUT)
