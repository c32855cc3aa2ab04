"""What lesson 08 forbids in graded code: a built-in dropout. Every check reads
`forbidden.DROPOUT` at each call (never binds it into a declaration), so that a test may lift
it."""

from ...builtin_ops import DROPOUT_OPS
from ...guard import ForbiddenOps

DROPOUT = ForbiddenOps(
    "a built-in dropout",
    DROPOUT_OPS,
    "this lesson asks you to draw the mask yourself with keras.random (a uniform draw "
    "compared with the rate) and apply it with keras.ops",
)
