"""Checks, feedback and grading for the Keras CNN course.

Student notebooks call the checks in `autograder.checks`; instructors use the `cnn-course`
command (`autograder.cli`) to keep notebooks in sync with `solutions/`, release, grade and
run the demo.
"""
