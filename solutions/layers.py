"""The course's layers, each the most complete version the lessons have built so far."""

from solutions.convolution import Conv2D

__all__ = ["Conv2D"]
