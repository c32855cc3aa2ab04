import numpy as np
import pytest

from course.data import DIGIT_FONTS, EXTRA_FONTS, SYMMETRIC_LETTERS, digits, letters


def test_letters_shapes_range_and_balanced_classes():
    x, y = letters(53, seed=1)
    assert x.shape == (53, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    counts = np.bincount(y, minlength=len(SYMMETRIC_LETTERS))
    assert counts.max() - counts.min() <= 1


def test_letters_are_deterministic_by_seed_and_characters():
    a, ya = letters(20, "XO", seed=4)
    b, yb = letters(20, "XO", seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert set(ya.tolist()) == {0, 1}
    assert not np.array_equal(a, letters(20, "XO", seed=5)[0])


def test_digits_through_letters_are_the_digits():
    x, y = digits(30, seed=2)
    x2, y2 = letters(30, "0123456789", seed=2)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_symmetric_letters_look_alike_in_a_mirror():
    x, y = letters(
        40,
        seed=0,
        max_rotation=0,
        max_shift=0,
        shear=0,
        noise=0,
        scale=(1, 1),
        fonts=("DejaVuSans.ttf",),
    )
    mirrored = x[:, :, ::-1]
    assert np.abs(mirrored - x).mean() < 0.25 * np.abs(x).mean()


def test_every_extra_font_draws_every_symmetric_letter_and_differs_from_the_defaults():
    assert not set(EXTRA_FONTS) & set(DIGIT_FONTS)
    for font in EXTRA_FONTS:
        x, _ = letters(10, seed=0, fonts=(font,), noise=0)
        assert (x.reshape(10, -1).max(axis=1) > 0.5).all(), font


@pytest.mark.parametrize("characters", ["", "AA", 7, "A B"])
def test_bad_characters_are_refused_by_name(characters):
    with pytest.raises(ValueError, match="characters"):
        letters(5, characters)
