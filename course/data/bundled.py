"""Small data sets that ship inside scikit-learn and scikit-image (no download needed)."""

import numpy as np

from course import arguments

# skimage.data images stored inside the scikit-image package itself (they load offline).
PHOTOS = (
    "camera",
    "astronaut",
    "coins",
    "chelsea",
    "coffee",
    "moon",
    "page",
    "text",
    "brick",
    "grass",
    "gravel",
    "rocket",
    "clock",
    "cell",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "colorwheel",
    "checkerboard",
    "shepp_logan_phantom",
)


def sklearn_digits():
    """The 8x8 handwritten digits of `sklearn.datasets.load_digits` (1797 images).

    Returns:
        `(x, y)`: `x` float32 `(1797, 8, 8, 1)` in [0, 1] (pixel counts 0-16 divided by 16),
        `y` int64 `(1797,)` in [0, 9].
    """
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    return x, y.astype(np.int64)


def photo(name="camera", grey=True, size=None):
    """One of scikit-image's bundled photographs, as floats in [0, 1].

    Args:
        name: one of `PHOTOS`.
        grey: if `True`, colour photos are converted to grey with `skimage.color.rgb2gray`.
            If `False`, photos are returned as stored: colour ones as `(H, W, 3)`, grey ones as
            `(H, W)`.
        size: optional `(height, width)` to resize to (`skimage.transform.resize` with
            anti-aliasing).

    Returns:
        float32 array `(H, W)` (grey) or `(H, W, 3)` (colour) in [0, 1].
    """
    if name not in PHOTOS:
        raise ValueError(f"Expected `name` to be one of {PHOTOS}. Received: name={name!r}")
    if size is not None:
        ok = isinstance(size, tuple | list) and len(size) == 2
        if not ok or not all(_is_positive_integer(v) for v in size):
            raise ValueError(
                "Expected `size` to be None or a pair of positive integers (height, width). "
                f"Received: size={size!r}"
            )
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.transform import resize
    from skimage.util import img_as_float

    image = img_as_float(getattr(skimage.data, name)())
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if grey and image.ndim == 3:
        image = rgb2gray(image)
    if size is not None:
        image = resize(image, tuple(size) + image.shape[2:], anti_aliasing=True)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def faces():
    """The 25x25 face / non-face patches of `skimage.data.lfw_subset()` (200 images).

    As documented by scikit-image, the first 100 images are faces (from the LFW data set) and
    the last 100 are non-faces (background patches from the same photos).

    Returns:
        `(x, y)`: `x` float32 `(200, 25, 25, 1)` in [0, 1], `y` int64 `(200,)` with 1 for the
        first 100 (faces) and 0 for the last 100 (non-faces).
    """
    import skimage.data

    x = np.asarray(skimage.data.lfw_subset())
    if np.issubdtype(x.dtype, np.integer):
        x = x / 255.0
    x = np.clip(x, 0.0, 1.0).astype(np.float32)[..., None]
    y = np.zeros(len(x), dtype=np.int64)
    y[:100] = 1
    return x, y


def _is_positive_integer(value):
    try:
        arguments.integer("size", value)
    except ValueError:
        return False
    return True
