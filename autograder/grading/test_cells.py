"""Test cells as the grader reads them: calls of the lesson's checks, run on the grader's side.

A lesson's test cell is a few lines `checks.check_name(Object, hidden=True)`. The grader does
not send it to the student's kernel: it parses it, calls the same check function here with a
`Ref` for each notebook object the cell names, and writes the cell's output itself. So nothing
in the student's kernel decides whether a check passed.
"""

import ast
import base64
import contextlib
import importlib
import io
import traceback
from dataclasses import dataclass, field

import nbformat

from ..feedback import (
    CheckFailed,
    fold_text,
    local_keras_settings,
    traceback_lines,
    with_settings_note,
)
from ..harness.remote import session_of

CHECKS = "checks"


@dataclass(frozen=True)
class CheckCall:
    """One `checks.<name>(...)` call: positional arguments are ("name", notebook object) or
    ("value", a literal)."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


class NotChecks(ValueError):
    """A test cell that is not only calls of the checks module."""


def _argument(node):
    if isinstance(node, ast.Name):
        return ("name", node.id)
    try:
        return ("value", ast.literal_eval(node))
    except ValueError:
        raise NotChecks(f"argument {ast.unparse(node)!r} is neither a name nor a literal") from None


def parse(source: str) -> list[CheckCall]:
    """The check calls of a test cell; NotChecks if it holds anything else."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotChecks(f"not valid Python: {exc}") from None
    calls = []
    for statement in tree.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        func = getattr(call, "func", None)
        if not (
            isinstance(call, ast.Call)
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == CHECKS
            and func.attr.startswith("check_")
        ):
            raise NotChecks(f"line {statement.lineno} is not a call of {CHECKS}.check_*")
        if any(keyword.arg is None for keyword in call.keywords):
            raise NotChecks("** arguments are not allowed")
        args = tuple(_argument(a) for a in call.args)
        kwargs = {}
        for keyword in call.keywords:
            kind, value = _argument(keyword.value)
            if kind != "value":
                raise NotChecks(f"keyword {keyword.arg} must be a literal")
            kwargs[keyword.arg] = value
        calls.append(CheckCall(func.attr, args, kwargs))
    return calls


def course_imports(release_nb) -> list[str]:
    """The modules the released notebook's own code imports (its cells other than solution
    cells), submodules named in `from package import name` included, in notebook order.

    The grading kernel imports them before any cell runs: what they do as they load (Keras
    pulls in urllib3, which binds a socket to see whether IPv6 works) is the course's doing,
    not the student's.
    """
    modules: list[str] = []
    for cell in release_nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            modules += [name for name in names if name not in modules]
    return modules


def checks_module_name(release_nb) -> str | None:
    """The module the released notebook imports as `checks` (from the course's own cells)."""
    for cell in release_nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.asname == CHECKS:
                        return f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname == CHECKS:
                        return alias.name
    return None


def import_checks(name: str):
    """The module `checks_module_name` names, found as the notebook's import finds it
    (`from autograder.checks import convolution`: a submodule, or a name of the package)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        parent, _, attr = name.rpartition(".")
        module = getattr(importlib.import_module(parent), attr, None)
        if module is None:
            raise
        return module


@dataclass
class Verdict:
    """What a test cell printed and its failure (None: it passed); for a failed check, the
    catalogued mistake it named ({"id": ..., "title": ...}, which `cnn-course report` counts),
    the picture of the mismatch, if any (PNG bytes, drawn here, on the grader's side), and the
    failure folded: the message without the mistake's explanation and the hint (`shown`), and
    those (`hidden`), which feedback pages put behind a fold."""

    stdout: str = ""
    failure: str | None = None
    ename: str = "CheckFailed"
    mistake: dict | None = None
    figure: bytes | None = None
    shown: str | None = None
    hidden: list[str] = field(default_factory=list)


def run_calls(calls: list[CheckCall], module, objects) -> Verdict:
    """Run the check calls in order on this side; `objects(name)` gives the notebook object
    (a `Ref`) a call names. The first failure ends the cell, as an exception would."""
    printed = io.StringIO()
    verdict = Verdict()
    with contextlib.redirect_stdout(printed):
        for call in calls:
            check = getattr(module, call.name, None)
            if not callable(check):
                verdict.failure = f"the grader has no check named {call.name}"
                verdict.ename = "GraderError"
                break
            args = [objects(value) if kind == "name" else value for kind, value in call.args]
            try:
                check(*args, **call.kwargs)
            except CheckFailed as failure:
                settings = _keras_settings(args)
                verdict.failure = with_settings_note(str(failure), settings)
                if failure.mistake is not None:
                    verdict.mistake = {"id": failure.mistake.id, "title": failure.mistake.title}
                verdict.figure = _figure(failure)
                shown, verdict.hidden = failure.folded()
                verdict.shown = with_settings_note(shown, settings)
                break
    verdict.stdout = printed.getvalue()
    return verdict


def _keras_settings(args) -> dict | None:
    """Keras's global settings in the kernel that ran the checked objects (None if unknown)."""
    session = session_of(args)
    try:
        if session is None:
            return local_keras_settings()
        result = session.perform("keras_settings", (), {})
    except Exception:  # noqa: BLE001  a note is never worth a grading error
        return None
    return result.value if result.error is None else None


def _figure(failure: CheckFailed) -> bytes | None:
    """The failure's picture, drawn from the arrays the grader holds; None if there is none or
    it cannot be drawn (the text says what the picture would show)."""
    try:
        return failure.figure()
    except Exception:  # noqa: BLE001  a picture is never worth a grading error
        return None


FIGURE_TEXT = "[a picture of the mismatch: expected, yours and their difference]"


def write_outputs(cell, verdict: Verdict, execution_count: int) -> None:
    """Give the cell the outputs a kernel would have produced: the printed lines and, when it
    failed, an error whose traceback is only the feedback, then what the student's own kernel
    shows under it: the picture of the mismatch (a PNG) and the mistake's explanation and the
    hint (text, as `fold_text` writes it; the feedback page shows it behind a fold).

    The error's value is the whole message (the grading summary and report read it)."""
    cell.outputs = []
    if verdict.stdout:
        cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=verdict.stdout))
    if verdict.failure is not None:
        cell.outputs.append(
            nbformat.v4.new_output(
                "error",
                ename=verdict.ename,
                evalue=verdict.failure,
                traceback=traceback_lines(verdict.shown or verdict.failure),
            )
        )
        if verdict.figure:
            png = base64.b64encode(verdict.figure).decode("ascii")
            data = {"image/png": png, "text/plain": FIGURE_TEXT}
            cell.outputs.append(nbformat.v4.new_output("display_data", data=data))
        if verdict.shown and verdict.hidden:
            text = fold_text(verdict.hidden)
            cell.outputs.append(nbformat.v4.new_output("display_data", data={"text/plain": text}))
    cell.execution_count = execution_count


def grader_error(exc: BaseException) -> Verdict:
    """A verdict for a check that could not be run (a bug of the grader, not the student's)."""
    where = traceback.extract_tb(exc.__traceback__)[-1:]
    place = f" at {where[0].filename}:{where[0].lineno}" if where else ""
    return Verdict(
        failure=(
            f"The grader could not run this check ({type(exc).__name__}: {exc}{place}).\n"
            "  Your instructor will see this note and grade the cell by hand."
        ),
        ename="GraderError",
    )
