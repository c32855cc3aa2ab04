"""Offline data sets for the course.

- `shapes`, `digits`, `letters`: synthetic images made on the fly (`course.data.synthetic`).
- `sklearn_digits`, `photo`, `faces`: small data sets bundled with scikit-learn and
  scikit-image (`course.data.bundled`).
- `load`, `is_cached`: the Keras data sets MNIST, Fashion-MNIST and CIFAR-10, read from the
  local Keras cache (`course.data.keras_datasets`).
"""

from course.data.bundled import PHOTOS, faces, photo, sklearn_digits
from course.data.keras_datasets import (
    KERAS_DATASETS,
    DatasetUnavailable,
    is_cached,
    keras_home,
    load,
)
from course.data.synthetic import (
    DIGIT_FONTS,
    EXTRA_FONTS,
    SHAPE_NAMES,
    SYMMETRIC_LETTERS,
    digits,
    letters,
    shapes,
)

__all__ = [
    "DIGIT_FONTS",
    "EXTRA_FONTS",
    "KERAS_DATASETS",
    "PHOTOS",
    "SHAPE_NAMES",
    "SYMMETRIC_LETTERS",
    "DatasetUnavailable",
    "digits",
    "faces",
    "is_cached",
    "keras_home",
    "letters",
    "load",
    "photo",
    "shapes",
    "sklearn_digits",
]
