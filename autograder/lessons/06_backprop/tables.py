"""How lesson 06 reads its case tables: the stored rows, public or hidden, followed when
grading by fresh ones (`pick`); a size given as one int or a pair; random signs to disguise a
worked example.
"""

from ...harness import cases

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3


def pair(value):
    """A size given as one int or a pair, as a pair."""
    return (value, value) if isinstance(value, int) else tuple(value)


def pick(table: dict, draw, hidden: bool) -> list:
    """The stored rows of `table` (public or hidden); when grading, hidden ones are followed
    by EXTRA_HIDDEN rows made by `draw(generator)`."""
    return cases.rows(table, hidden, draw, EXTRA_HIDDEN)


def signs(rng, size):
    """Whole numbers 2 to 5, each of a random sign."""
    return [int(v) * int(rng.choice([-1, 1])) for v in rng.integers(2, 6, size=size)]
