"""Run a student's function or layer inside a check: guarded, with errors turned into feedback."""

import linecache
import re

from .feedback import CheckFailed
from .guard import CONVOLUTION, ForbiddenOps, forbid

NOT_IMPLEMENTED_HINT = (
    "replace `raise NotImplementedError()` in the exercise cell with your code, run that cell, "
    "then run this test again"
)


def run(what: str, fn, *args, forbidden: ForbiddenOps = CONVOLUTION, case: str = "", **kw):
    """Call `fn(*args, **kw)` as student code named `what`; raise CheckFailed if it misbehaves.

    `case` describes the inputs in one line; it is added to any feedback.
    """
    details = [f"case: {case}"] if case else []
    with forbid(forbidden.names) as hits:
        try:
            result = fn(*args, **kw)
        except CheckFailed:
            raise
        except NotImplementedError as exc:
            if is_stub(exc):
                raise CheckFailed(
                    f"{what} is not implemented yet.", details, NOT_IMPLEMENTED_HINT
                ) from exc
            raise _raised(what, exc, details) from exc  # e.g. NumPy on a symbolic tensor
        except Exception as exc:
            raise _raised(what, exc, details) from exc
    if hits:
        used = hits[0]
        raise CheckFailed(
            f"{what} calls {forbidden.label} ({used}), which this lesson forbids.",
            details,
            forbidden.hint,
        )
    return result


ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")
KERAS_WRAPPER = "Exception encountered when calling"
KERAS_ARGUMENTS = "Arguments received by"


def error_message(exc: BaseException) -> str:
    """The first informative line of an exception's message.

    Keras re-raises errors from a layer's call() under the line "Exception encountered when
    calling X.call()."; the original message follows it.
    """
    lines = [ln.strip() for ln in ANSI_CODES.sub("", str(exc)).splitlines() if ln.strip()]
    if lines and lines[0].startswith(KERAS_WRAPPER):
        lines = lines[1:]
        if lines and lines[0].startswith(KERAS_ARGUMENTS):  # the original message was empty
            return ""
    return lines[0] if lines else ""


def _raised(what: str, exc: BaseException, details: list[str]) -> CheckFailed:
    return CheckFailed(
        f"{what} raised {type(exc).__name__}: {error_message(exc)}",
        details,
        "the traceback above shows the line of your code where it happened",
    )


STUB_LINE = re.compile(r"^\s*raise\s+NotImplementedError\s*(\(\s*\))?\s*$")


def is_stub(exc: NotImplementedError) -> bool:
    """Whether `exc` comes from an exercise's `raise NotImplementedError()` placeholder.

    Libraries raise NotImplementedError too (TensorFlow, when NumPy meets a symbolic tensor);
    the placeholder is recognised by the line that raised it.
    """
    tb = exc.__traceback__
    if tb is None:
        return not error_message(exc)
    while tb.tb_next is not None:
        tb = tb.tb_next
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    return bool(STUB_LINE.match(line)) if line else not error_message(exc)
