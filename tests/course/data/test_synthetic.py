import numpy as np
import pytest

from course.data import DIGIT_FONTS, SHAPE_NAMES, digits, shapes


def _centre_of_mass(x):
    """(n, 2) row/column centre of mass of images (n, H, W, 1)."""
    x = x[..., 0]
    grid = np.arange(x.shape[1])
    total = x.sum(axis=(1, 2))
    rows = (x.sum(axis=2) * grid).sum(axis=1) / total
    cols = (x.sum(axis=1) * grid).sum(axis=1) / total
    return np.stack([rows, cols], axis=1)


def test_shapes_shapes_dtypes_and_range():
    x, y = shapes(100, size=32)
    assert x.shape == (100, 32, 32, 1) and x.dtype == np.float32
    assert y.shape == (100,) and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert set(np.unique(y)) == {0, 1, 2, 3}


def test_shapes_balanced_classes_and_kinds():
    _, y = shapes(403)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    x, y = shapes(10, kinds=("circle", "cross"))
    assert set(np.unique(y)) == {0, 1}


def test_shapes_deterministic_by_seed():
    x1, y1 = shapes(50, seed=3)
    x2, y2 = shapes(50, seed=3)
    x3, _ = shapes(50, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_shapes_offset_moves_centre_of_mass_and_stays_inside():
    jitter = 2
    x, y = shapes(400, offset=(0, 8), jitter=jitter, noise=0.0, seed=1)
    com = _centre_of_mass(x)
    centre = (28 - 1) / 2
    # Shapes are symmetric left-right, so the column centre of mass is the shape's centre.
    dx = com[:, 1] - centre
    assert np.all(dx >= 8 - jitter - 0.1) and np.all(dx <= 8 + jitter + 0.1)
    assert abs(dx.mean() - 8) < 1.5
    # No shape touches the border.
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    assert border.max() == 0.0
    # Centred shapes: the centre of mass is near the image centre (triangles sit lower).
    x0, _ = shapes(400, jitter=jitter, noise=0.0, seed=1)
    com0 = _centre_of_mass(x0)
    assert np.all(np.abs(com0[:, 1] - centre) <= jitter + 0.1)
    not_triangle = y != SHAPE_NAMES.index("triangle")
    assert np.all(np.abs(com0[not_triangle, 0] - centre) <= jitter + 0.1)


@pytest.mark.parametrize("offset", [(-7, 0), (7, 7), (0, -8), (9, -9)])
def test_shapes_never_touch_the_border(offset):
    x, _ = shapes(200, offset=offset, scale=(0.25, 0.5), noise=0.0, seed=2)
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    assert border.max() == 0.0
    assert np.all(x.sum(axis=(1, 2, 3)) > 10)


def test_shapes_larger_than_the_image_are_shrunk():
    x, _ = shapes(40, size=16, scale=(1.0, 1.0), noise=0.0)
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    assert border.max() == 0.0


def test_shapes_filled_and_outlined():
    filled, _ = shapes(40, filled=True, noise=0.0, kinds=("square",))
    outlined, _ = shapes(40, filled=False, noise=0.0, kinds=("square",))
    assert filled.sum() > 1.3 * outlined.sum()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "Received: n=0"),
        ({"n": 5, "size": 3}, "Received: size=3"),
        ({"n": 5, "kinds": ("square", "hexagon")}, "kinds="),
        ({"n": 5, "offset": (1.5, 0)}, "Received: offset=(1.5, 0)"),
        ({"n": 5, "jitter": -1}, "Received: jitter=-1"),
        ({"n": 5, "scale": (0.8, 0.5)}, "Received: scale=(0.8, 0.5)"),
        ({"n": 5, "noise": -0.1}, "Received: noise=-0.1"),
        ({"n": 5, "filled": "yes"}, "Received: filled='yes'"),
    ],
)
def test_shapes_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        shapes(**kwargs)


def test_shapes_is_fast():
    import time

    start = time.perf_counter()
    shapes(5000)
    assert time.perf_counter() - start < 2.0  # ~0.15 s on a laptop; loose for slow CI


def test_digits_shapes_dtypes_range_and_balance():
    x, y = digits(95, size=28)
    assert x.shape == (95, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (95,) and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    counts = np.bincount(y, minlength=10)
    assert counts.max() - counts.min() <= 1
    # White digits on a black background, like MNIST.
    clean, _ = digits(50, noise=0.0)
    assert np.median(clean) < 0.05 and clean.max() > 0.9
    assert digits(4, size=20)[0].shape == (4, 20, 20, 1)


def test_digits_deterministic_by_seed():
    x1, y1 = digits(30, seed=5)
    x2, y2 = digits(30, seed=5)
    x3, _ = digits(30, seed=6)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_digits_look_like_digits():
    # Nearest-centroid classifier built on clean renders, tested on jittered, noisy digits.
    clean_x, clean_y = digits(
        200, seed=0, max_rotation=0, max_shift=0, scale=(1, 1), shear=0, noise=0
    )
    centroids = np.stack([clean_x[clean_y == d].mean(axis=0).ravel() for d in range(10)])

    def accuracy(x, y):
        distances = ((x.reshape(len(x), -1)[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
        return np.mean(distances.argmin(axis=1) == y)

    # Rotation, scale, shear and noise keep digits recognisable by pixel templates (~0.92) ...
    assert accuracy(*digits(300, seed=1, max_shift=0)) > 0.75
    # ... while shifts of up to 3 pixels hurt templates a lot (~0.37; chance is 0.1).
    assert accuracy(*digits(300, seed=1)) > 0.25


def test_digits_fonts():
    x, _ = digits(10, fonts=["DejaVuSans.ttf"])
    assert x.shape == (10, 28, 28, 1)
    assert all(isinstance(f, str) for f in DIGIT_FONTS)
    with pytest.raises(ValueError, match="fonts="):
        digits(10, fonts=["Arial.ttf"])
    with pytest.raises(ValueError, match="fonts="):
        digits(10, fonts=["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": -1}, "Received: n=-1"),
        ({"n": 5, "max_rotation": -5}, "Received: max_rotation=-5"),
        ({"n": 5, "scale": (1.2,)}, "Received: scale=(1.2,)"),
        ({"n": 5, "shear": "a"}, "Received: shear='a'"),
    ],
)
def test_digits_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        digits(**kwargs)


def test_digits_is_fast():
    import time

    digits(10)  # fills the glyph cache
    start = time.perf_counter()
    digits(2000)
    assert time.perf_counter() - start < 3.0  # ~0.1 s once the glyphs are cached
