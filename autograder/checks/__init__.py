"""The checks of each lesson, by topic: `from autograder.checks import convolution as checks`.

This is what the notebooks import; each name is the `checks` module of the lesson with that
topic (`autograder/lessons/02_convolution/checks.py`), found by convention.
"""

from .. import lessons


def __getattr__(name: str):
    assignment = lessons.by_topic(name)
    if assignment is None:
        raise AttributeError(f"no lesson has the topic {name!r}")
    return lessons.module(assignment, "checks")
