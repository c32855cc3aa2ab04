"""Content helpers for the Keras CNN course notebooks.

- `course.data`: offline data sets (synthetic shapes and digits, photographs and small data sets
  bundled with scikit-image and scikit-learn, Keras data sets read from the local Keras cache).
- `course.plot`: matplotlib figures for images, kernels, feature maps and training curves.
- `course.pretrained`: a small convolutional base trained on the course's own glyphs, shipped
  with its weights, for transfer learning offline (`python -m course.pretrained.train` remakes it).
- `course.ready`: one line saying which exercise to finish, when a demonstration needs one that
  is not done yet (asked before the demonstration does any work).
- `course.validate_pictures`: the Jupyter server extension behind nbgrader's Validate button
  that shows a failing check's picture of the mismatch under its message.

Nothing here imports TensorFlow or Keras at import time, and nothing touches the network
unless explicitly asked to (`course.data.load(..., download=True)`).
"""

import os as _os

# TensorFlow's C++ runtime prints start-up log lines to stderr (absl, oneDNN, CPU features),
# which a notebook shows in red and nbgrader counts against a test cell. Set before TensorFlow
# is first imported, these keep it quiet; an environment that sets them itself wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__all__ = ["data", "plot", "pretrained", "ready"]
