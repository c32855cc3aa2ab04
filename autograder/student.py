"""Run a student's function or layer inside a check: guarded, with errors turned into feedback."""

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
