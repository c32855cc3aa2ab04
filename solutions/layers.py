"""The course's layers, each the most complete version the lessons have built so far.

Each is a drop-in for its `keras.layers` namesake on the features its docstring lists, and
is registered with Keras as `"cnn_course>Name"`: a model built from them and saved with
`model.save("m.keras")` loads with `keras.models.load_model("m.keras")` in any process that
has imported `solutions.layers`, without `custom_objects`.
"""

import keras

from solutions.backprop import Conv2D as BackpropConv2D
from solutions.batchnorm import BatchNormalization
from solutions.dropout import Dropout, SpatialDropout2D
from solutions.mlp_limits import Dense
from solutions.padding import ZeroPadding2D
from solutions.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D
from solutions.stride import Conv2D
from solutions.transfer_learning import RandomFlip

__all__ = [
    "AveragePooling2D",
    "BackpropConv2D",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "GlobalAveragePooling2D",
    "MaxPooling2D",
    "RandomFlip",
    "SpatialDropout2D",
    "ZeroPadding2D",
]

PACKAGE = "cnn_course"

# Registered under the name exported here: lesson 06's Conv2D (its gradient is the student's
# backward pass) is `BackpropConv2D`, so that it does not take the place of the full Conv2D.
for _name in __all__:
    keras.saving.register_keras_serializable(package=PACKAGE, name=_name)(globals()[_name])
