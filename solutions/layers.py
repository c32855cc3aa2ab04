"""The course's layers, each the most complete version the lessons have built so far."""

from solutions.backprop import Conv2D as BackpropConv2D
from solutions.batchnorm import BatchNormalization
from solutions.dropout import Dropout, SpatialDropout2D
from solutions.mlp_limits import Dense
from solutions.padding import ZeroPadding2D
from solutions.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D
from solutions.stride import Conv2D

__all__ = [
    "AveragePooling2D",
    "BackpropConv2D",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "GlobalAveragePooling2D",
    "MaxPooling2D",
    "SpatialDropout2D",
    "ZeroPadding2D",
]
