"""Name a student's mistake by comparing their output with catalogued wrong variants."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .compare import Tolerance, compare, to_numpy


@dataclass(frozen=True)
class Mistake:
    """A known wrong way to implement something, as a student would recognise it."""

    id: str
    title: str
    explanation: str

    def feedback(self) -> str:
        return f"Likely mistake: {self.title}. {self.explanation}"


@dataclass(frozen=True)
class Variant:
    """How a mistake shows in the output: `matches(output, probe)` says whether it does."""

    mistake: Mistake
    matches: Callable[[np.ndarray, dict], bool]


DIAGNOSIS_TOLERANCE = Tolerance(1e-3, 1e-3, "loose on purpose: it only tells variants apart")


def same_as(wrong: Callable[[dict], np.ndarray]) -> Callable[[np.ndarray, dict], bool]:
    """A matcher: the output equals `wrong(probe)` (shape and values)."""

    def matches(output, probe):
        return compare(output, wrong(probe), DIAGNOSIS_TOLERANCE) is None

    return matches


def first_match(
    outputs: Sequence, probes: Sequence[dict], variants: Sequence[Variant]
) -> Mistake | None:
    """The first variant whose matcher accepts the student's output on every probe."""
    outputs = [to_numpy(out) if out is not None else None for out in outputs]
    if any(out is None for out in outputs):
        return None
    for variant in variants:
        try:
            if all(variant.matches(out, probe) for out, probe in zip(outputs, probes, strict=True)):
                return variant.mistake
        except Exception:  # a matcher that cannot apply to this output is simply not a match
            continue
    return None
