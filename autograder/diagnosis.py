"""Name a student's mistake by comparing their output with catalogued wrong variants.

A catalogue (a lesson's `mistakes.py`) holds `Mistake`s, probes (small inputs that tell the
variants apart) and `Variant`s (how each mistake shows in the output). A check declares a
`Diagnosis`: the catalogue's probes and variants and how to run the student's code on a probe.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .compare import Tolerance, compare, to_numpy
from .feedback import CheckFailed
from .guard import ForbiddenOps
from .student import run


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


@dataclass(frozen=True)
class Diagnosis:
    """Which catalogued mistake the student's code makes, if any: run it on every probe (with
    `output(student, probe)`, through `student.run`/`perform`) and match the variants."""

    probes: Callable[[], Sequence[dict]]
    variants: Sequence[Variant]
    output: Callable[[object, dict], object]
    # When given, a probe the code cannot run (it raises, or its output is None) is left out,
    # and only the variants `usable(variants, probes that ran)` are tried.
    usable: Callable[[Sequence[Variant], list[dict]], Sequence[Variant]] | None = None

    def __call__(self, student) -> Mistake | None:
        probes = self.probes()
        if self.usable is not None:
            return self._on_what_ran(student, probes)
        try:
            outputs = [self.output(student, probe) for probe in probes]
        except CheckFailed:  # code that fails on a probe shows no catalogued mistake
            return None
        return first_match(outputs, probes, self.variants)

    def _on_what_ran(self, student, probes) -> Mistake | None:
        outputs, ran = [], []
        for probe in probes:
            try:
                output = self.output(student, probe)
            except Exception:  # a probe the code cannot run tells nothing
                output = None
            if output is not None:
                outputs.append(output)
                ran.append(probe)
        return first_match(outputs, ran, self.usable(self.variants, ran))


def naming(check: Callable, diagnosis: "Diagnosis") -> Callable:
    """`check`, whose failure also names the catalogued mistake `diagnosis` finds in the
    student's code when it names none itself: for a check that does not consult a catalogue,
    such as a `Contract` failing on a wrong default in the signature. The mistake is attached
    as `fail` attaches it (its line, the fold, the class report's count)."""

    def named(student, *args, **kwargs):
        try:
            return check(student, *args, **kwargs)
        except CheckFailed as failure:
            if failure.mistake is not None:
                raise
            mistake = diagnosis(student)
            if mistake is None:
                raise
            details = [*failure.details, mistake.feedback()]
            raise CheckFailed(
                failure.headline, details, failure.hint, failure.picture, mistake, folds=True
            ) from None

    named.__doc__ = getattr(check, "__doc__", None)
    return named


def calls_table(
    what: str,
    read: Callable[[object], object],
    forbidden: ForbiddenOps,
    calls: Callable[[dict], Sequence[tuple]] = lambda probe: probe["calls"],
) -> Callable[[object, dict], np.ndarray | None]:
    """A `Diagnosis.output` for a function of a few numbers: its answers to the probe's calls
    (`probe["calls"]`, argument tuples), each read by `read`, as one array; None when an
    answer is unreadable (`read` gives None or raises TypeError/ValueError)."""

    def output(fn, probe):
        answers = []
        for args in calls(probe):
            try:
                answer = read(run(what, fn, *args, forbidden=forbidden))
            except (TypeError, ValueError):
                return None
            if answer is None:
                return None
            answers.append(answer)
        return np.array(answers, dtype=float)

    return output
