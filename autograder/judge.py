"""A check declared as data: the student's code against an expected answer on every case.

A lesson declares what is its own (the exercise, its cases, the tolerance and why it holds,
the catalogue that names a mistake, the messages); `Compare` does what every such check does:
run the student's code on each case under the lesson's guard, compare, and on a mismatch fail
with the case, the numbers, the formula when the shape is off, and the likely mistake.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .compare import EXACT, Tolerance, compare
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
    `count(hidden)` when given); `name` is what feedback calls the output ("output"); `axes`
    names the axes of an output that is a map, for the picture of a mismatch ("hw" for one
    map; rank-4 outputs are "nhwc" unless named, see `compare`).
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
    axes: str | None = None
    same_dtype: bool = False  # the output must also come in the compute dtype, as Keras's does

    @property
    def keras_name(self) -> str:
        """The Keras layer whose output dtype a `same_dtype` check quotes."""
        return self.what

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
        expected = np.asarray(case.expected)
        mismatch = compare(output, expected, self.tolerance, self.name, self.axes)
        if mismatch:
            hint = case.shape_hint if mismatch.kind == "shape" and case.shape_hint else self.hint
            mistake = self.diagnosis(student) if self.diagnosis is not None else None
            fail(self.headline, mismatch, case=case.text, mistake=mistake, hint=hint)
        if self.same_dtype:
            self._judge_dtype(case, output)

    def _judge_dtype(self, case: Case, output) -> None:
        """The values match; the output's dtype must be the layer's compute dtype (float32), as
        Keras's is: a layer that computes in float64 must cast back."""
        import keras

        expected, got = keras.config.dtype_policy().compute_dtype, np.asarray(output).dtype
        if got != np.dtype(expected):
            fail(
                f"{self.what} returns {got}; Keras's {self.keras_name} returns {expected}.",
                ["the values match; only their dtype differs"],
                case=case.text,
                hint="cast back with ops.cast(..., self.compute_dtype)",
            )

    def __call__(self, student, hidden: bool = False) -> None:
        count = 0
        for case in self.cases(hidden):
            self.judge(student, case, self.run(student, case))
            count += 1
        passed(self.passed.format(count=self.count(hidden) if self.count else count))


def _same(answer, expected) -> bool:
    return answer == expected


@dataclass(frozen=True)
class Returns(Compare):
    """On every case, the student's function returns `case.expected` (a size, a pair of ints,
    ...), as `agrees(answer, expected)` judges it (an answer it cannot read disagrees).

    A failure's headline is `headline` formatted with `call` (the case's text), `got` (the
    answer) and `expected`; under it come the lines `explain` (or `explain(case)`), a line
    saying the value is right but no int when `loosely(answer)` is `expected` (a reader such as
    `whole_number`), then the likely mistake.
    """

    agrees: Callable[[object, object], bool] = _same
    explain: Callable[[Case], list[str]] | tuple[str, ...] = ()
    loosely: Callable[[object], object] | None = None

    def judge(self, student, case: Case, output) -> None:
        if self._agree(self.agrees, output, case.expected):
            return
        headline = self.headline.format(call=case.text, got=output, expected=case.expected)
        lines = self.explain(case) if callable(self.explain) else self.explain
        if self.loosely and self._agree(lambda a, e: self.loosely(a) == e, output, case.expected):
            lines = [*lines, NOT_INTS]
        mistake = self.diagnosis(student) if self.diagnosis is not None else None
        fail(headline, lines, mistake=mistake, hint=self.hint)

    @staticmethod
    def _agree(agrees, output, expected) -> bool:
        try:
            return bool(agrees(output, expected))
        except (TypeError, ValueError):
            return False


NOT_INTS = (
    "the value is right, but not an int: the layers give it to shapes and ops.pad, which take "
    "ints only; use // or int(...), not / or np.ceil, which give floats"
)


def pair_of_ints(value) -> tuple[int, int] | None:
    """A student's answer read as a pair of whole numbers (a tuple, list or array of two, as
    `whole_number` reads each: (1, 2.0) is (1, 2)), else None: (0.9, 1.2) is no pair of ints."""
    return _pair(value, whole_number)


def pair_of_integers(value) -> tuple[int, int] | None:
    """A student's answer read as a pair of ints (a tuple, list or array of two, each as
    `integer` reads it), else None: (1, 2.0) is no pair of ints here."""
    return _pair(value, integer)


def _pair(value, read) -> tuple[int, int] | None:
    try:
        pair = tuple(read(v) for v in np.asarray(value, dtype=object).reshape(-1))
    except (TypeError, ValueError):
        return None
    return pair if len(pair) == 2 and None not in pair else None


def integer(value) -> int | None:
    """A student's answer read as an int only when its type is an integer (28, np.int64(28));
    None for 28.0, None or anything else: a size that a layer's shapes or ops.pad are given
    must be an int."""
    array = np.asarray(value)
    if array.shape != () or not np.issubdtype(array.dtype, np.integer):
        return None
    return int(array)


def whole_number(value) -> int | None:
    """A student's answer read as an int (28, 28.0, np.int64(28)); None for None or 28.5;
    raises TypeError or ValueError when it is no number."""
    if value is None:
        return None
    number = float(np.asarray(value).reshape(()))
    return int(number) if number == int(number) else None


def returns(what: str, cases, forbidden: ForbiddenOps, passed: str, **kwargs) -> Returns:
    """The check that `what` returns each case's answer exactly, with the usual headline
    ("{call} returned {got!r}; expected {expected}.")."""
    headline = kwargs.pop("headline", "{call} returned {got!r}; expected {expected}.")
    return Returns(what, cases, EXACT, forbidden, headline, passed, **kwargs)
