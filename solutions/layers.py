"""The course's layers, each the most complete version the lessons have built so far.

Each is a drop-in for its `keras.layers` namesake on the features its docstring lists, and
is registered with Keras as `"cnn_course>Name"`: a model built from them and saved with
`model.save("m.keras")` loads with `keras.models.load_model("m.keras")` in any process that
has imported `solutions.layers`, without `custom_objects`.

Nothing here names a lesson: each lesson's module (`solutions.<topic>`) lists what it gives
the library in its `LIBRARY`, and the lessons are read in order, so a later lesson's layer of
the same name replaces an earlier one. Lesson 06's Conv2D (its gradient is the student's
backward pass) is exported as `BackpropConv2D`, so that it does not take the place of the full
Conv2D.
"""

import importlib
import re
from pathlib import Path

import keras

PACKAGE = "cnn_course"
LESSONS = sorted(
    p.name
    for p in (Path(__file__).parent / "lessons").iterdir()
    if re.fullmatch(r"\d\d_[a-z][a-z0-9_]*", p.name)
)

# exported name -> the Keras test module (under keras/src/layers) that tests its namesake
KERAS_TESTS: dict[str, str | None] = {}
for _lesson in LESSONS:
    _module = importlib.import_module(f"solutions.{_lesson.partition('_')[2]}")
    for _name, (_layer, _test) in getattr(_module, "LIBRARY", {}).items():
        globals()[_name] = _layer
        KERAS_TESTS[_name] = _test

__all__ = sorted(KERAS_TESTS)

for _name in __all__:
    keras.saving.register_keras_serializable(package=PACKAGE, name=_name)(globals()[_name])
