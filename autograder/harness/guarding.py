"""The guard of the operation running now, and blocks inside it that allow some built-ins.

An operation that must itself call a forbidden built-in (Keras's own layer as the reference
inside a gradient, say) allows just that, and every other hit still counts.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from ..guard import forbid, implied_op_types

# (names, op_types, hits) of the guard of the operation running now
ACTIVE: ContextVar[tuple | None] = ContextVar("guard", default=None)


@contextmanager
def allowing(names, while_differentiating: bool = False):
    """Inside an operation, a block where the forbidden functions `names` (and the op types
    only they imply) are allowed; every other hit still counts. Outside one: no effect.
    `while_differentiating` allows them only where TensorFlow calls them to build a gradient
    graph (a tf.function called under a tape builds its backward function in its forward)."""
    current = ACTIVE.get()
    allowed = set(names)
    if current is None or not allowed:
        yield
        return
    watched, op_types, hits = current
    if while_differentiating:
        block = forbid(watched, op_types, differentiating=allowed)
    else:
        kept = tuple(name for name in watched if name not in allowed)
        dropped = set(implied_op_types(allowed)) - set(implied_op_types(kept))
        block = forbid(kept, tuple(t for t in op_types if t not in dropped))
    with block as inner:
        try:
            yield
        finally:
            hits.extend([name for name in inner if name not in hits])
