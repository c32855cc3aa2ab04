"""A check declared as data: the student's code against an expected answer on every case.

A lesson declares what is its own (the exercise, its cases, the tolerance and why it holds,
the catalogue that names a mistake, the messages); `Compare` does what every such check does:
run the student's code on each case under the lesson's guard, compare, and on a mismatch fail
with the case, the numbers, the formula when the shape is off, and the likely mistake.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .compare import Tolerance, compare
from .diagnosis import Diagnosis
from .feedback import fail, passed
from .guard import ForbiddenOps
from .student import error_hint, run


@dataclass(frozen=True)
class Case:
    """One input of a check: what the student's code is given, the answer, the line that
    describes it in feedback ("case: ...") and the shape formula shown when the shape is off;
    `error_hint`, if any, replaces the hint of feedback on student code that fails on the case
    (other than a stub)."""

    args: tuple
    expected: object
    text: str
    shape_hint: str = ""
    kwargs: dict | None = None
    error_hint: str = ""


@dataclass(frozen=True)
class Compare:
    """On every case, the student's `what` gives `expected` within `tolerance`.

    `cases(hidden)` yields the `Case`s (stored ones, or fresh ones when grading); `call(student,
    case)` runs the student's code on one (default: call it with the case's arguments);
    `passed` is the OK line, formatted with `count` (the number of cases checked, or
    `count(hidden)` when given); `name` is what the compared output is called in feedback.
    """

    what: str
    cases: Callable[[bool], Iterable[Case]]
    tolerance: Tolerance
    forbidden: ForbiddenOps
    headline: str
    passed: str
    diagnosis: Diagnosis | None = None
    hint: str = ""
    call: Callable | None = None
    count: Callable[[bool], int] | None = None
    name: str = "output"

    def run(self, student, case: Case):
        """The student's output on `case`."""
        if self.call is not None:
            return self.call(student, case)
        with error_hint(case.error_hint):
            return run(
                self.what,
                student,
                *case.args,
                case=case.text,
                forbidden=self.forbidden,
                **(case.kwargs or {}),
            )

    def judge(self, student, case: Case, output) -> None:
        """Fail unless `output` is `case.expected` within the tolerance."""
        mismatch = compare(output, np.asarray(case.expected), self.tolerance, self.name)
        if mismatch:
            hint = case.shape_hint if mismatch.kind == "shape" and case.shape_hint else self.hint
            mistake = self.diagnosis(student) if self.diagnosis is not None else None
            fail(self.headline, mismatch.lines, case=case.text, mistake=mistake, hint=hint)

    def __call__(self, student, hidden: bool = False) -> None:
        count = 0
        for case in self.cases(hidden):
            self.judge(student, case, self.run(student, case))
            count += 1
        passed(self.passed.format(count=self.count(hidden) if self.count else count))
