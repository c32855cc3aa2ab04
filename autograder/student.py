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
            if not is_stub(exc):  # e.g. NumPy called on a symbolic tensor inside call()
                raise CheckFailed(
                    f"{what} raised NotImplementedError: {str(exc).splitlines()[0]}",
                    details,
                    "the traceback above shows the line of your code where it happened",
                ) from exc
            raise CheckFailed(
                f"{what} is not implemented yet.", details, NOT_IMPLEMENTED_HINT
            ) from exc
        except Exception as exc:
            message = str(exc).strip().splitlines()
            first = message[0] if message else ""
            raise CheckFailed(
                f"{what} raised {type(exc).__name__}: {first}",
                details,
                "the traceback above shows the line of your code where it happened",
            ) from exc
    if hits:
        used = hits[0]
        raise CheckFailed(
            f"{what} calls {forbidden.label} ({used}), which this lesson forbids.",
            details,
            forbidden.hint,
        )
    return result


STUB_LINE = re.compile(r"^\s*raise\s+NotImplementedError\s*(\(\s*\))?\s*$")


def is_stub(exc: NotImplementedError) -> bool:
    """Whether `exc` comes from an exercise's `raise NotImplementedError()` placeholder.

    Libraries raise NotImplementedError too (TensorFlow, when NumPy meets a symbolic tensor);
    the placeholder is recognised by the line that raised it.
    """
    tb = exc.__traceback__
    if tb is None:
        return not str(exc)
    while tb.tb_next is not None:
        tb = tb.tb_next
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    return bool(STUB_LINE.match(line)) if line else not str(exc)
