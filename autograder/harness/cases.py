"""Which inputs a check uses: its stored cases, or fresh ones drawn when grading.

In the student's kernel a check uses its stored cases, the same every run, so that feedback is
reproducible and matches the stored reference outputs. When the grader runs a check across
the sandbox, it first enters `fresh()`: every check then draws new inputs (new values for the
public cases, new shapes and values for the hidden ones) from a generator seeded at grading
time, so a submission cannot know them and precomputed answers are worth nothing.
"""

import secrets
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

_FRESH: ContextVar[np.random.Generator | None] = ContextVar("fresh_cases", default=None)


@contextmanager
def fresh(seed: int | None = None):
    """Inside this block checks draw fresh cases (seeded by `seed`, default: unpredictable)."""
    token = _FRESH.set(np.random.default_rng(secrets.randbits(64) if seed is None else seed))
    try:
        yield
    finally:
        _FRESH.reset(token)


def drawing() -> bool:
    """Whether checks draw fresh cases (grading) rather than use their stored ones."""
    return _FRESH.get() is not None


def generator() -> np.random.Generator:
    """The generator of fresh cases; only inside `fresh()`."""
    rng = _FRESH.get()
    if rng is None:
        raise RuntimeError("cases.generator() outside cases.fresh()")
    return rng


def seed(stored: int) -> int:
    """`stored` in the student's kernel; a fresh random seed when grading."""
    rng = _FRESH.get()
    return stored if rng is None else int(rng.integers(2**31 - 1))


def normal(shape, stored: int, scale: float = 1.0) -> np.ndarray:
    """float32 normal values of `shape`, drawn from `seed(stored)`."""
    rng = np.random.default_rng(seed(stored))
    return rng.normal(scale=scale, size=shape).astype("float32")


def pick(
    stored: Sequence, draw: Callable[[np.random.Generator], object] | None = None, extra: int = 0
) -> list:
    """The stored cases; when grading, followed by `extra` cases made by `draw(generator)`.

    A check draws the values of every case through `seed`, so when grading even the stored
    shapes get fresh values, and the drawn shapes add cases nobody could know of.
    """
    rng = _FRESH.get()
    if rng is None or draw is None:
        return list(stored)
    return [*stored, *(draw(rng) for _ in range(extra))]


def rows(tables: dict, hidden: bool, draw=None, extra: int = 0) -> list:
    """The stored rows of `tables["hidden"]` or `tables["public"]`; when grading, the hidden
    ones followed by `extra` rows made by `draw(generator)` (see `pick`)."""
    return pick(tables["hidden" if hidden else "public"], draw, extra if hidden else 0)


def stored_or_fresh(
    assignment: str, prefix: str, table: Sequence, names: Sequence[str], values, oracle
) -> list[tuple]:
    """(row, input arrays, expected output) for each row of `table`.

    In the student's kernel the arrays are the stored references of `assignment`
    (`{prefix}/{index}/{name}` for each of `names`, and `{prefix}/{index}/out`); when grading
    they are fresh, `values(generator, row)`, and the answer is `oracle(row, *arrays)`.
    """
    if not drawing():
        from .. import references

        data = references.load(assignment)
        return [
            (row, tuple(data[f"{prefix}/{i}/{name}"] for name in names), data[f"{prefix}/{i}/out"])
            for i, row in enumerate(table)
        ]
    found = []
    for row in table:
        arrays = tuple(values(generator(), row))
        found.append((row, arrays, oracle(row, *arrays)))
    return found
