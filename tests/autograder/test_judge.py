"""How a plain function's answers are read before they are compared."""

import numpy as np
import pytest

from autograder.judge import pair_of_ints, whole_number


@pytest.mark.parametrize(
    ("answer", "read"),
    [
        ((1, 2), (1, 2)),
        ([1, 2.0], (1, 2)),
        (np.array([0, 3]), (0, 3)),
        ((np.int64(1), np.int32(2)), (1, 2)),
        ((0.9, 1.2), None),  # truncated to (0, 1) before: a wrong answer read as right
        ((1, None), None),
        ((1, 2, 3), None),
        (((1, 2), (3, 4)), None),
        ("ab", None),
        (None, None),
    ],
)
def test_a_pair_of_ints_is_two_whole_numbers(answer, read):
    assert pair_of_ints(answer) == read


def test_a_whole_number_is_an_int_or_a_whole_float():
    read = [whole_number(v) for v in (28, 28.0, np.int64(28), 28.5, None)]
    assert read == [28, 28, 28, None, None]
    with pytest.raises(ValueError):
        whole_number("x")
