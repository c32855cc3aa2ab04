import numpy as np
import pytest

from course.data import PHOTOS, faces, photo, sklearn_digits


def test_sklearn_digits():
    x, y = sklearn_digits()
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_faces():
    x, y = faces()
    assert x.shape == (200, 25, 25, 1) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    np.testing.assert_array_equal(y, [1] * 100 + [0] * 100)


@pytest.mark.parametrize("name", PHOTOS)
def test_every_photo_loads_offline(name):
    image = photo(name)
    assert image.dtype == np.float32 and image.ndim == 2
    assert image.min() >= 0.0 and image.max() <= 1.0 and image.max() > image.min()


def test_photo_colour_and_resize():
    assert photo("astronaut", grey=False).shape == (512, 512, 3)
    assert photo("camera", grey=False).shape == (512, 512)
    small = photo("chelsea", grey=False, size=(30, 40))
    assert small.shape == (30, 40, 3) and small.dtype == np.float32
    assert photo("coins", size=[16, 16]).shape == (16, 16)
    np.testing.assert_array_equal(photo("moon"), photo("moon"))


def test_photo_errors():
    with pytest.raises(ValueError, match=r"Received: name='lena'") as info:
        photo("lena")
    assert "camera" in str(info.value) and "astronaut" in str(info.value)
    with pytest.raises(ValueError, match=r"Received: size=\(0, 10\)"):
        photo("camera", size=(0, 10))
    with pytest.raises(ValueError, match=r"Received: size=32"):
        photo("camera", size=32)
