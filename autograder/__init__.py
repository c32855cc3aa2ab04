"""Checks, feedback and grading for the Keras CNN course.

Student notebooks call the checks in `autograder.checks`; instructors use the `cnn-course`
command (`autograder.cli`) to keep notebooks in sync with `solutions/`, release, grade and
run the demo.
"""

import os as _os

# TensorFlow's C++ runtime prints start-up log lines to stderr (absl, oneDNN, CPU features),
# which a notebook shows in red and nbgrader counts against a test cell. Set before TensorFlow
# is first imported, these keep it quiet; an environment that sets them itself wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
