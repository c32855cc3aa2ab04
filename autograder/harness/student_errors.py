"""An exception raised by student code, described as data a check turns into feedback."""

import linecache
import os
import re
import sysconfig
from dataclasses import dataclass


@dataclass(frozen=True)
class StudentError:
    """An exception the student's code raised: its type, its message, whether it was the
    exercise's `raise NotImplementedError()` placeholder."""

    type: str
    message: str
    stub: bool = False
    where: str = ""  # "line 7 of call: out = ops.matmul(a, b)", the notebook's line that raised
    # the notebook's line that the grader's call entered, when it is not `where` ("line 4 of
    # call: windows = im2col(x, size)", where a given function raised)
    called_from: str = ""


ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")
KERAS_WRAPPER = "Exception encountered when calling"
KERAS_ARGUMENTS = "Arguments received by"
AUTOGRAPH_TRACE = "in user code:"
# TensorFlow's autograph rewrites a traced function into such a file: its lines are autograph's
# (`ag__.converted_call(...)`), not the student's
AUTOGRAPH_FILE = "__autograph_generated_file"
# TensorFlow's eager errors wrap the message: "{{function_node __wrapped__AddV2_device_...}}
# Incompatible shapes: [2,4] vs. [2,3] [Op:AddV2] name: "; only the middle is for a student.
TF_OP_PREFIX = re.compile(r"^\{\{function_node [^}]*\}\}\s*")
TF_OP_SUFFIX = re.compile(r"\[Op:\w+\](?: name: ?\S*)?\s*")
ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt): ?(.*)$")
STUB_LINE = re.compile(r"^\s*raise\s+NotImplementedError\s*(\(\s*\))?\s*$")


# A frame TensorFlow lists in an error inside a tf.function: `File "...", line 7, in f  *`,
# then the line's source.
AUTOGRAPH_FRAME = re.compile(r'^File "([^"]+)", line (\d+), in (\w+)')


def describe(exc: BaseException) -> StudentError:
    stub = isinstance(exc, NotImplementedError) and is_stub(exc)
    where, entered = raised_where(exc)
    traced = traced_where(exc)
    if traced and traced != where:  # the line inside the tf.function, and the one that called it
        where, entered = traced, entered or where
    return StudentError(type(exc).__name__, error_message(exc), stub, where, entered)


def traced_where(exc: BaseException) -> str:
    """The "line N of f: <source>" of the last frame in the notebook's own code that TensorFlow
    lists in an error raised inside a tf.function (its traceback ends at the function's call),
    else ""."""
    try:
        lines = [ln.strip() for ln in ANSI_CODES.sub("", str(exc)).splitlines()]
    except Exception:
        return ""
    found = ""
    for index, line in enumerate(lines[:-1]):
        frame, source = AUTOGRAPH_FRAME.match(line), lines[index + 1]
        if frame and AUTOGRAPH_FRAME.match(source):  # TensorFlow listed no source for it
            source = linecache.getline(frame.group(1), int(frame.group(2))).strip()
        if frame and source and not _is_library(frame.group(1)):
            found = f"line {frame.group(2)} of {frame.group(3)}: {source[:160]}"
    return found


def _is_library(filename: str) -> bool:
    real = os.path.realpath(filename) if not filename.startswith("<") else filename
    generated = os.path.basename(real).startswith(AUTOGRAPH_FILE)
    packages = "site-packages" in real or "dist-packages" in real
    return real.startswith(LIBRARY_FOLDERS) or packages or generated


LIBRARY_FOLDERS = tuple(
    os.path.realpath(p) + os.sep
    for p in {
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        os.path.dirname(os.path.dirname(__file__)),  # the autograder package
    }
)


# Frames of a comprehension are reported as the function they are written in (its line there
# is the same).
COMPREHENSIONS = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})


def raised_where(exc: BaseException) -> tuple[str, str]:
    """("line N of f: <source>" of the innermost frame of the traceback in the notebook's own
    code, not in Python's library, an installed package or the autograder; the same of the
    outermost such frame when it is another function, else ""); ("", "") when there is none."""
    found: list[tuple[tuple, str]] = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        if not _is_library(filename):
            source = linecache.getline(filename, tb.tb_lineno).strip()
            if source and code.co_name not in COMPREHENSIONS:
                function = (filename, code.co_name, code.co_firstlineno)
                found.append((function, f"line {tb.tb_lineno} of {code.co_name}: {source[:160]}"))
        tb = tb.tb_next
    if not found:
        return "", ""
    (outer, entered), (inner, where) = found[0], found[-1]
    return where, entered if outer != inner else ""


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
    if lines and lines[0].startswith(KERAS_WRAPPER) and lines[1:2] == [AUTOGRAPH_TRACE]:
        lines = lines[1:]  # Keras's wrapper around an error inside a tf.function
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
    line = _without_op_wrapping(lines[0]) if lines else ""
    return line if len(line) <= 500 else line[:497] + "..."


def _without_op_wrapping(line: str) -> str:
    """The line without TensorFlow's prefix and suffix; the suffix is looked for at the last
    "[Op:" only, so that a long line of the student's costs linear time."""
    line = TF_OP_PREFIX.sub("", line)
    at = line.rfind("[Op:")
    if at >= 0 and TF_OP_SUFFIX.fullmatch(line, at):
        line = line[:at].rstrip()
    return line


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
