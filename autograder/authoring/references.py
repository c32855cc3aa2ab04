"""Produce the stored reference outputs of each lesson from the `solutions` package."""

import importlib
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import references


def _case_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(1000 + seed)


def convolution_references() -> dict[str, np.ndarray]:
    """Inputs and reference outputs of lesson 02's cross_correlate2d and im2col cases."""
    from ..checks.convolution import CROSS_CORRELATE_CASES, IM2COL_CASES

    solution = importlib.import_module("solutions.convolution")
    arrays = {}
    for kind, cases in CROSS_CORRELATE_CASES.items():
        for index, (x_shape, k_shape, seed) in enumerate(cases):
            rng = _case_rng(seed)
            x, kernel = rng.normal(size=x_shape), rng.normal(size=k_shape)
            prefix = f"cross_correlate2d/{kind}/{index}"
            arrays[f"{prefix}/x"], arrays[f"{prefix}/kernel"] = x, kernel
            arrays[f"{prefix}/out"] = np.asarray(solution.cross_correlate2d(x, kernel))
    for kind, cases in IM2COL_CASES.items():
        for index, (x_shape, size, seed) in enumerate(cases):
            x = _case_rng(seed).normal(size=x_shape).astype("float32")
            prefix = f"im2col/{kind}/{index}"
            arrays[f"{prefix}/x"] = x
            arrays[f"{prefix}/out"] = np.asarray(solution.im2col(x, size))
    return arrays


GENERATORS: dict[str, Callable[[], dict[str, np.ndarray]]] = {
    "02_convolution": convolution_references,
}


def serialize(arrays: dict[str, np.ndarray]) -> bytes:
    """A byte-for-byte reproducible .npz (sorted keys, fixed zip timestamps)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def write_references(assignments=None, folder: Path | None = None) -> list[Path]:
    """Regenerate the .npz files of `assignments` (all by default); return the paths written."""
    written = []
    for assignment in assignments or sorted(GENERATORS):
        if assignment not in GENERATORS:
            raise KeyError(
                f"no reference generator for {assignment!r}; known: {sorted(GENERATORS)}"
            )
        target = (folder / f"{assignment}.npz") if folder else references.path(assignment)
        target.write_bytes(serialize(GENERATORS[assignment]()))
        written.append(target)
    return written
