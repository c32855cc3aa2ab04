"""Students get a working environment without the `solutions` package."""

import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]

STUDENT_SESSION = r"""
import importlib.abc, sys

class NoSolutions(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "solutions" or name.startswith("solutions."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoSolutions())

import numpy as np
from keras import ops

from autograder.checks import convolution as checks
from course import data, plot

try:
    import solutions  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("solutions should not be importable here")


def cross_correlate2d(x, kernel):
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + kh, j:j + kw] * kernel)
    return out


def im2col(x, kernel_size):
    kh, kw = kernel_size
    b, h, w, c = x.shape
    rows = [x[:, m:m + h - kh + 1, n:n + w - kw + 1, :] for m in range(kh) for n in range(kw)]
    return ops.reshape(ops.stack(rows, axis=3), (b, h - kh + 1, w - kw + 1, kh * kw * c))


checks.check_hand_example(cross_correlate2d)
checks.check_cross_correlate2d(cross_correlate2d, hidden=True)
checks.check_im2col(im2col, hidden=True)
data.digits(10)
plot.image_grid(data.shapes(4)[0])
assert not any(m == "solutions" or m.startswith("solutions.") for m in sys.modules)
print("student environment OK")
"""


def test_installed_packages_exclude_solutions():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(str(ROOT), include=include)
    assert "course" in packages and "autograder" in packages
    assert not any(p.split(".")[0] == "solutions" for p in packages)


def test_student_checks_run_without_solutions(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", STUDENT_SESSION],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "student environment OK" in result.stdout
