"""Run one operation on student code here, under the guard, and report what happened as data.

This is the same in the student's own kernel (a check calls it directly) and in the grading
sandbox (the agent calls it for a request from the grader): the result is plain data or an
object that stays here, the student's exception is described rather than raised, and the
forbidden functions entered are listed.
"""

import linecache
import os
import re
import sysconfig
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..guard import forbid, implied_op_types
from . import ops
from .values import NotData, to_plain


@dataclass(frozen=True)
class StudentError:
    """An exception the student's code raised: its type, its message, whether it was the
    exercise's `raise NotImplementedError()` placeholder."""

    type: str
    message: str
    stub: bool = False
    where: str = ""  # "line 7: out = ops.matmul(a, b)", the student's line that raised


@dataclass
class Result:
    """What an operation gave.

    `value` is plain data, or (when `is_object`) an object that stays where it was made;
    `integrity` lists what the grading sandbox saw the code do that it should not (always
    empty in the student's own kernel).
    """

    value: object = None
    is_object: bool = False
    error: StudentError | None = None
    forbidden: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)


class Pending:
    """An argument to resolve just before the operation runs, under the guard (attribute
    lookups on student objects run student code)."""

    def resolve(self):
        raise NotImplementedError


def _resolve(value):
    if isinstance(value, Pending):
        return value.resolve()
    if type(value) in (list, tuple):
        return type(value)(_resolve(v) for v in value)
    if type(value) is dict:
        return {k: _resolve(v) for k, v in value.items()}
    return value


# (names, op_types, hits) of the guard of the operation running now
_GUARD: ContextVar[tuple | None] = ContextVar("guard", default=None)


def execute(op: str, args, kwargs, names=(), op_types=(), catch_interrupt=False) -> Result:
    """Run `ops.OPERATIONS[op](*args, **kwargs)` guarded against `names` and `op_types`."""
    operation = ops.OPERATIONS[op]
    result = Result()
    caught = (Exception, KeyboardInterrupt) if catch_interrupt else Exception
    with forbid(names, op_types) as hits:
        token = _GUARD.set((tuple(names), tuple(op_types), hits))
        try:
            raw = operation(*_resolve(list(args)), **_resolve(dict(kwargs)))
            try:
                result.value = to_plain(raw)
            except NotData:
                result.value, result.is_object = raw, True
        except caught as exc:
            result.error = describe(exc)
        finally:
            _GUARD.reset(token)
    result.forbidden = list(hits)
    return result


@contextmanager
def allowing(names):
    """Inside an operation, a block where the forbidden functions `names` (and the op types
    only they imply) are allowed; every other hit still counts. Outside one: no effect."""
    current = _GUARD.get()
    allowed = set(names)
    if current is None or not allowed:
        yield
        return
    watched, op_types, hits = current
    kept = tuple(name for name in watched if name not in allowed)
    dropped = set(implied_op_types(allowed)) - set(implied_op_types(kept))
    with forbid(kept, tuple(t for t in op_types if t not in dropped)) as inner:
        try:
            yield
        finally:
            hits.extend([name for name in inner if name not in hits])


# --- describing an exception ---------------------------------------------------------------------

ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")
KERAS_WRAPPER = "Exception encountered when calling"
KERAS_ARGUMENTS = "Arguments received by"
AUTOGRAPH_TRACE = "in user code:"
ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt): ?(.*)$")
STUB_LINE = re.compile(r"^\s*raise\s+NotImplementedError\s*(\(\s*\))?\s*$")


def describe(exc: BaseException) -> StudentError:
    stub = isinstance(exc, NotImplementedError) and is_stub(exc)
    return StudentError(type(exc).__name__, error_message(exc), stub, student_line(exc))


LIBRARY_FOLDERS = tuple(
    os.path.realpath(p) + os.sep
    for p in {
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        os.path.dirname(os.path.dirname(__file__)),  # the autograder package
    }
)


def student_line(exc: BaseException) -> str:
    """The line "line N: <source>" of the innermost frame of the traceback in the student's own code
    (not in Python's library, an installed package or the autograder), or ""."""
    found = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        real = os.path.realpath(filename) if not filename.startswith("<") else filename
        if not real.startswith(LIBRARY_FOLDERS) and "site-packages" not in real:
            source = linecache.getline(filename, tb.tb_lineno).strip()
            if source:
                found = f"line {tb.tb_lineno}: {source[:160]}"
        tb = tb.tb_next
    return found


def error_message(exc: BaseException) -> str:
    """The first informative line of an exception's message.

    Keras re-raises errors from a layer's call() under the line "Exception encountered when
    calling X.call()."; the original message follows it.
    """
    try:
        text = str(exc)
    except Exception:
        text = ""
    lines = [ln.strip() for ln in ANSI_CODES.sub("", text).splitlines() if ln.strip()]
    if lines and lines[0] == AUTOGRAPH_TRACE:
        # an error inside a tf.function: TensorFlow lists the frames, then "TypeError: ..."
        for index, line in enumerate(lines):
            found = ERROR_LINE.match(line)
            if found:
                lines = [found.group(1)] * bool(found.group(1)) + lines[index + 1 :]
                break
    if lines and lines[0].startswith(KERAS_WRAPPER):
        lines = lines[1:]
        if lines and lines[0].startswith(KERAS_ARGUMENTS):  # the original message was empty
            return ""
    line = lines[0] if lines else ""
    return line if len(line) <= 500 else line[:497] + "..."


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
