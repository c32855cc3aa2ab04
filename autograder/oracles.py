"""Plain NumPy answers to the course's computations, in float64, for checks and catalogues.

They are the independent side of a comparison (or the base a catalogued wrong variant is
built from), written the most direct way, not the fast way.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def correlate(x, kernel) -> np.ndarray:
    """Valid cross-correlation of inputs (N, H, W, C) with a kernel (kh, kw, C, F)."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    windows = sliding_window_view(x, kernel.shape[:2], axis=(1, 2))  # n h w c m k
    return np.einsum("nhwcmk,mkcf->nhwf", windows, kernel)
