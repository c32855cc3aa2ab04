"""Mutation testing of a lesson: do its test cells fail on small wrong changes of the reference?

A mutant is the lesson's `solutions/<topic>.py` with one small change inside a solution
region (the lines between `### BEGIN SOLUTION` and `### END SOLUTION`): an operator or a
comparison swapped, an integer constant moved by one, a slice bound moved by one, a simple
statement replaced by `pass`, two positional arguments swapped, a keyword argument dropped,
a unary minus removed or added, `True` and `False` exchanged. Each mutant is executed into a
namespace, as `solutions.mistakes.materialize` does, and the lesson's test cells (hidden tests
included, stored cases) run against it in a forked child, until one fails.

A mutant's id names the object it changes and the change, never a line number, so it stays
the same while the rest of the file is edited. Survivors that are equivalent to the reference,
or differ only outside the lesson's contract, are written down with a reason in the lesson's
optional `autograder/lessons/NN_topic/mutants.py`, as `EQUIVALENT_MUTANTS = {id: reason}`.
"""

import ast
import copy
import json
import linecache
import os
import random
import re
import select
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..grading.errors import CourseError
from .sources import SOLUTION_MARKERS

BINARY_SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.MatMult: ast.Mult,
    ast.Pow: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
COMPARISON_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
BOOLEAN_SWAPS = {ast.And: ast.Or, ast.Or: ast.And}
DROPPABLE = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Expr,
    ast.Return,
    ast.Raise,
    ast.Assert,
    ast.Delete,
    ast.Break,
    ast.Continue,
)
SHORT = 60  # characters of code quoted in a mutant's id


@dataclass(frozen=True)
class Mutant:
    """One first-order change of a module's solution code.

    Attributes:
        id: "<object>: <change>", e.g. "Conv2D.call: `outputs + self.bias` -> `outputs - ...`";
            stable across edits elsewhere in the file (a repeated change gets " #2", ...).
        path: the file's name as shown ("solutions/convolution.py").
        line: first line of the changed code in the original file.
        before, after: the changed line(s), as they were and as they are in the mutant.
        source: the whole mutated module.
    """

    id: str
    path: str
    line: int
    before: str
    after: str
    source: str

    @property
    def owner(self) -> str:
        """The changed object's qualified name ("Conv2D.call", "cross_correlate2d")."""
        return self.id.split(": ", 1)[0]

    @property
    def description(self) -> str:
        """ "file:line: id"."""
        return f"{self.path}:{self.line}: {self.id}"


# --- making mutants ------------------------------------------------------------------------------


def solution_lines(source: str) -> set[int]:
    """1-based numbers of the lines strictly inside `### BEGIN/END SOLUTION` markers."""
    inside, lines = False, set()
    for number, line in enumerate(_lines(source), 1):
        stripped = line.strip()
        if stripped in SOLUTION_MARKERS:
            inside = stripped == SOLUTION_MARKERS[0]
        elif inside:
            lines.add(number)
    return lines


def make_mutants(source: str, path: str = "<source>") -> list[Mutant]:
    """Every first-order mutant of the solution regions of `source`, in source order.

    Mutants that are the same program as the original or an earlier mutant are left out.
    """
    tree = _mark_negated(ast.parse(source))
    region = solution_lines(source)
    lines = _lines(source)
    seen, occurrences, found = {ast.dump(tree)}, Counter(), []
    for owner, target, replacement, change in _sites(tree, region):
        mutated, before, after = _splice(lines, target, replacement)
        program = ast.dump(ast.parse(mutated))
        if program in seen:
            continue
        seen.add(program)
        key = f"{owner}: {change}"
        occurrences[key] += 1
        mutant_id = key if occurrences[key] == 1 else f"{key} #{occurrences[key]}"
        found.append(Mutant(mutant_id, path, target.lineno, before, after, mutated))
    return found


def _lines(source: str) -> list[str]:
    """The lines of `source` with their ends, split where the syntax tree counts lines (not at
    a form feed or a Unicode line separator inside a string, as `str.splitlines` would)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", source)


def _sites(tree: ast.Module, region: set[int]) -> Iterator[tuple[str, ast.AST, ast.AST, str]]:
    """(owner, node to replace, its replacement, change) for every mutation, in source order."""
    for owner, node, context in _nodes(tree, [], None):
        if not all(n in region for n in range(node.lineno, node.end_lineno + 1)):
            continue
        for replacement, change in _mutations(node):
            if isinstance(node, ast.Constant | ast.UnaryOp | ast.Slice) and context is not None:
                change = f"in `{_short(context)}`: {change}"
            yield owner, node, replacement, change


def _nodes(
    node: ast.AST, owners: list[str], context: ast.expr | None
) -> Iterator[tuple[str, ast.AST, ast.expr | None]]:
    """(qualified owner name, node, enclosing expression) for every node with a position,
    depth first in source order; nothing inside f-strings (their positions are unreliable)
    or docstrings. The enclosing expression (not a unary minus, constant or slice) quotes
    where a constant or a slice sits."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.JoinedStr):
            continue
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield from _nodes(child, [*owners, child.name], None)
            continue
        if hasattr(child, "lineno") and not _is_docstring(child):
            yield ".".join(owners) or "<module>", child, context
        inner = context
        if isinstance(child, ast.expr) and not isinstance(
            child, ast.Constant | ast.UnaryOp | ast.Slice
        ):
            inner = child
        if isinstance(child, ast.Tuple) and isinstance(node, ast.Subscript):
            inner = context  # x[:, 1:]: quote the subscript, not "(:, 1:)"
        elif isinstance(child, ast.stmt):
            inner = None
        yield from _nodes(child, owners, inner)


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _mutations(node: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """(replacement node, change) for each mutation of `node` itself."""
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY_SWAPS:
        yield _changed(node, op=BINARY_SWAPS[type(node.op)]())
    elif isinstance(node, ast.AugAssign) and type(node.op) in BINARY_SWAPS:
        yield _changed(node, op=BINARY_SWAPS[type(node.op)]())
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in COMPARISON_SWAPS:
                ops = [*node.ops[:i], COMPARISON_SWAPS[type(op)](), *node.ops[i + 1 :]]
                yield _changed(node, ops=ops)
    elif isinstance(node, ast.BoolOp):
        yield _changed(node, op=BOOLEAN_SWAPS[type(node.op)]())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        yield node.operand, f"`{_short(node)}` -> `{_short(node.operand)}`"
    elif isinstance(node, ast.Constant):
        yield from _constant_mutations(node)
    elif isinstance(node, ast.Slice):
        yield from _slice_mutations(node)
    elif isinstance(node, ast.Call):
        yield from _call_mutations(node)
    if isinstance(node, DROPPABLE):
        yield ast.Pass(), f"`{_short(node)}` -> `pass`"


def _changed(node: ast.AST, **fields) -> tuple[ast.AST, str]:
    new = copy.copy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new, f"`{_short(node)}` -> `{_short(new)}`"


def _constant_mutations(node: ast.Constant) -> Iterator[tuple[ast.AST, str]]:
    value = node.value
    if isinstance(value, bool):
        yield _changed(node, value=not value)
        return
    if isinstance(value, int):
        yield _changed(node, value=value + 1)
        yield _changed(node, value=value - 1)
    if isinstance(value, int | float) and value and not getattr(node, "negated", False):
        yield _changed(node, value=-value)


def _slice_mutations(node: ast.Slice) -> Iterator[tuple[ast.AST, str]]:
    if node.lower is None:
        yield _changed(node, lower=ast.Constant(1))
    else:
        yield _changed(node, lower=_plus(node.lower, 1))
        yield _changed(node, lower=_plus(node.lower, -1))
    if node.upper is None:
        yield _changed(node, upper=ast.Constant(-1))
    else:
        yield _changed(node, upper=_plus(node.upper, 1))
        yield _changed(node, upper=_plus(node.upper, -1))


def _plus(expr: ast.expr, k: int) -> ast.expr:
    """`expr + k`, folded when `expr` is an integer literal."""
    literal = _int_literal(expr)
    if literal is not None:
        return ast.Constant(literal + k)
    return ast.BinOp(expr, ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


def _int_literal(expr: ast.expr) -> int | None:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = _int_literal(expr.operand)
        return None if inner is None else -inner
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    return None


def _call_mutations(node: ast.Call) -> Iterator[tuple[ast.AST, str]]:
    name = _short(node.func)
    args = node.args
    for i in range(len(args) - 1):
        first, second = args[i], args[i + 1]
        if isinstance(first, ast.Starred) or isinstance(second, ast.Starred):
            continue
        if ast.dump(first) == ast.dump(second):
            continue
        swapped = copy.copy(node)
        swapped.args = [*args[:i], second, first, *args[i + 2 :]]
        yield swapped, f"swap `{_short(first)}` and `{_short(second)}` in `{name}(...)`"
    for i, keyword in enumerate(node.keywords):
        if keyword.arg is None:
            continue
        dropped = copy.copy(node)
        dropped.keywords = [*node.keywords[:i], *node.keywords[i + 1 :]]
        yield dropped, f"drop `{keyword.arg}=` from `{name}(...)`"


def _short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


def _splice(lines: list[str], target: ast.AST, replacement: ast.AST) -> tuple[str, str, str]:
    """(mutated source, original lines, mutated lines): `target`'s text replaced."""
    text = ast.unparse(replacement)
    if isinstance(target, ast.expr) and not isinstance(target, ast.Slice):
        text = f"({text})"
    first, last = target.lineno - 1, target.end_lineno - 1
    start = _column(lines[first], target.col_offset)
    end = _column(lines[last], target.end_col_offset)
    changed = lines[first][:start] + text + lines[last][end:]
    before = "".join(lines[first : last + 1])
    source = "".join(lines[:first]) + changed + "".join(lines[last + 1 :])
    return source, before.rstrip("\n"), changed.rstrip("\n")


def _column(line: str, byte_offset: int) -> int:
    """The character column of a UTF-8 byte offset in `line` (the syntax tree counts bytes)."""
    return len(line.encode()[:byte_offset].decode())


def _mark_negated(tree: ast.AST) -> ast.AST:
    """Mark the operands of unary minuses: `-1` is UnaryOp(USub, Constant(1)), and negating
    its 1 again is no insertion of a minus (removing it is a mutation of its own)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            node.operand.negated = True
    return tree


# --- selecting mutants ---------------------------------------------------------------------------


def lesson_mutants(
    lesson: str, only: list[str] | None = None, limit: int | None = None, seed: int = 0
) -> tuple[str, list[Mutant]]:
    """(reference module, mutants of lesson "NN_topic"'s reference), restricted to `only`
    (object names, "Conv2D" taking its methods, or mutant ids) and to `limit` of them drawn
    at random with `seed`."""
    from .. import lessons
    from .sources import module_path

    if lesson not in lessons.names():
        raise CourseError(lessons.not_found(lesson))
    module = f"solutions.{lessons.topic(lesson)}"
    try:
        path = module_path(module)
    except LookupError as exc:
        raise CourseError(str(exc)) from exc
    found = make_mutants(path.read_text(), f"solutions/{path.name}")
    if only:
        owners = {m.owner for m in found}
        unknown = [n for n in only if not any(_selected(m, [n]) for m in found)]
        if unknown:
            raise CourseError(
                f"{path.name} has no object or mutant {unknown[0]!r} with solution code; "
                f"objects with mutants: {', '.join(sorted(owners))} (ids: --list)"
            )
        found = [m for m in found if _selected(m, only)]
    if limit is not None and limit < len(found):
        chosen = set(random.Random(seed).sample(range(len(found)), limit))
        found = [m for i, m in enumerate(found) if i in chosen]
    return module, found


def _selected(mutant: Mutant, only: list[str]) -> bool:
    """Whether `mutant` is named by `only`: its id, its object, or the object's class."""
    return any(n in (mutant.id, mutant.owner) or mutant.owner.startswith(n + ".") for n in only)


# --- running mutants -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the test cells made of one mutant.

    status: "killed" (a cell failed or raised), "timeout" (counted as killed), "survived",
    "equivalent" (survived, and written down as equivalent), or "stillborn" (the module does
    not compile or raises when run). `cell` is the grade id of the cell that killed it.
    """

    mutant: Mutant
    status: str
    cell: str | None = None
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Summary:
    """The outcomes of a run, and its length in seconds."""

    outcomes: tuple[Outcome, ...]
    seconds: float

    def count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def killed(self) -> int:
        return self.count("killed", "timeout")

    @property
    def scored(self) -> int:
        """Mutants the score counts: all but the stillborn and the equivalent."""
        return len(self.outcomes) - self.count("stillborn", "equivalent")

    def line(self) -> str:
        score = f"{self.killed}/{self.scored}"
        if self.scored:
            score += f" = {self.killed / self.scored:.0%}"
        return (
            f"{len(self.outcomes)} mutants: {self.killed} killed ({self.count('timeout')} by "
            f"timeout), {self.count('survived')} survived, {self.count('equivalent')} "
            f"equivalent, {self.count('stillborn')} stillborn; score {score}; "
            f"{self.seconds:.0f} s"
        )


def execute(source: str, module: str, label: str) -> dict:
    """Run a (mutated) module's source into a fresh namespace, as `materialize` does."""
    filename = f"<{module} {label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = {"__name__": f"{module}__{label}"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def run_lesson(
    lesson: str,
    notebook: Path,
    only: list[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    timeout: float | None = None,
    say: Callable[[str], None] = print,
) -> Summary:
    """Run the lesson's test cells on each selected mutant; report each and return the tally."""
    from .. import lessons
    from .notebook_tests import read_test_cells
    from .sources import module_path

    started = time.monotonic()
    module, mutants = lesson_mutants(lesson, only, limit, seed)
    if not notebook.is_file():
        raise CourseError(f"no notebook {notebook}; pass --notebooks PATH")
    cells = read_test_cells(notebook)
    checks = lessons.module(lesson, "checks")
    listed = lessons.optional(lesson, "mutants")
    equivalent = dict(getattr(listed, "EQUIVALENT_MUTANTS", {}) if listed else {})
    import keras  # noqa: F401  imported before forking, so that every child starts fast

    say(f"{lesson}: {len(mutants)} mutants of {module}")
    summary = run_mutants(
        module_path(module).read_text(), module, mutants, cells, checks, equivalent, timeout, say
    )
    if not only and limit is None:
        for stale in sorted(set(equivalent) - {m.id for m in mutants}):
            say(f"note: EQUIVALENT_MUTANTS entry {stale!r} matches no mutant; remove it")
    summary = Summary(summary.outcomes, time.monotonic() - started)
    say(summary.line())
    return summary


def run_mutants(
    reference: str,
    module: str,
    mutants: list[Mutant],
    cells: dict[str, str],
    checks,
    equivalent: dict[str, str] | None = None,
    timeout: float | None = None,
    say: Callable[[str], None] = print,
) -> Summary:
    """Run the test `cells` ({grade id: source}) with `checks` on the `reference` source of
    `module`, then on each mutant, each in a forked child; report a line per mutant.

    A mutant is killed by the first cell that fails or raises, or when it runs over `timeout`
    seconds (default: 10 times the reference's run, plus 10). Survivors whose id is in
    `equivalent` ({id: reason}) are reported as equivalent.
    """
    from ..feedback import CheckFailed  # noqa: F401  imported here, not in every child
    from .notebook_tests import run_test_cell  # noqa: F401

    started = time.monotonic()
    equivalent = equivalent or {}
    times = _reference_times(reference, module, cells, checks)
    cap = timeout or 10 * sum(times.values()) + 10
    say(f"reference passes {len(cells)} cells in {sum(times.values()):.1f} s; {cap:.0f} s a mutant")
    outcomes = []
    for mutant in mutants:
        outcome = _run_mutant(mutant, module, _order(cells, times, mutant), checks, cap)
        if outcome.status == "survived" and mutant.id in equivalent:
            outcome = Outcome(mutant, "equivalent", None, equivalent[mutant.id], outcome.seconds)
        outcomes.append(outcome)
        say(_report_line(outcome, mutant.id in equivalent))
    return Summary(tuple(outcomes), time.monotonic() - started)


def _report_line(outcome: Outcome, listed: bool) -> str:
    status, mutant = outcome.status, outcome.mutant
    line = f"{status:<10} {mutant.description}"
    if status == "killed":
        line += f"  [by {outcome.cell}]" if outcome.cell else f"  [{outcome.detail}]"
        if listed:
            line += " (listed as equivalent, but killed: remove it from EQUIVALENT_MUTANTS)"
    elif status in ("stillborn", "equivalent", "timeout"):
        line += f"  [{outcome.detail}]"
    elif status == "survived":
        line += f"\n    - {_flat(mutant.before)}\n    + {_flat(mutant.after)}"
    return line


def _flat(code: str, width: int = 160) -> str:
    """Code on one line, cut at `width` characters (the id says what changed)."""
    text = " ".join(code.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _order(
    cells: dict[str, str], seconds: dict[str, float], mutant: Mutant
) -> list[tuple[str, str]]:
    """(grade id, source) of the cells to try on `mutant`: those naming its top-level object
    first, each group cheapest first by the reference's times (a survivor meets them all)."""
    top = mutant.owner.split(".")[0]
    naming = re.compile(rf"\b{re.escape(top)}\b")
    order = sorted(cells, key=lambda c: (not naming.search(cells[c]), seconds[c]))
    return [(c, cells[c]) for c in order]


def _reference_times(source: str, module: str, cells: dict[str, str], checks) -> dict[str, float]:
    """{grade id: seconds} of the unchanged reference; CourseError if it fails a cell."""

    def run():
        namespace = execute(source, module, "reference")
        times, failures = {}, {}
        for grade_id in cells:
            start = time.perf_counter()
            failure = _cell_failure(cells[grade_id], namespace, checks)
            times[grade_id] = time.perf_counter() - start
            if failure:
                failures[grade_id] = failure
        return {"times": times, "failures": failures}

    result = _isolated(run, None)
    if result is None or "error" in result:
        raise CourseError(
            f"the reference of {module} could not be run ({(result or {}).get('error')}); "
            "fix it before testing mutants"
        )
    if result["failures"]:
        cell, failure = next(iter(result["failures"].items()))
        raise CourseError(
            f"the unchanged reference {module} fails cell {cell} ({failure}); mutation "
            "testing needs a reference that passes every cell"
        )
    return result["times"]


def _run_mutant(
    mutant: Mutant, module: str, order: list[tuple[str, str]], checks, cap: float
) -> Outcome:
    """Run the cells `order` ([(grade id, source)]) on `mutant` until one fails."""

    def run():
        try:
            namespace = execute(mutant.source, module, "mutant")
        except Exception as exc:  # the mutated module does not compile or raises when run
            return {"status": "stillborn", "detail": _one_line(exc)}
        for grade_id, source in order:
            failure = _cell_failure(source, namespace, checks)
            if failure:
                return {"status": "killed", "cell": grade_id, "detail": failure}
        return {"status": "survived"}

    start = time.monotonic()
    result = _isolated(run, cap)
    seconds = time.monotonic() - start
    if result is None:
        return Outcome(mutant, "timeout", None, f"over {cap:.0f} s", seconds)
    if "error" in result:
        return Outcome(mutant, "killed", None, result["error"], seconds)
    return Outcome(mutant, result["status"], result.get("cell"), result.get("detail", ""), seconds)


def _cell_failure(source: str, namespace: dict, checks) -> str | None:
    """None if the test cell passes on `namespace`, else why it failed, in one line."""
    from ..feedback import CheckFailed
    from .notebook_tests import run_test_cell

    try:
        run_test_cell(source, namespace, checks)
    except CheckFailed as failure:
        return _one_line(failure)
    except Exception as exc:
        return f"{type(exc).__name__}: {_one_line(exc)}"
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _isolated(function: Callable[[], dict], timeout: float | None) -> dict | None:
    """`function()` in a forked child (see `_in_child`), or in this process when its
    TensorFlow runtime has already run, since a child forked then can hang."""
    if _tensorflow_running():
        return _in_process(function, timeout)
    return _in_child(function, timeout)


def _tensorflow_running() -> bool:
    context = sys.modules.get("tensorflow.python.eager.context")
    if context is None:
        return False
    try:
        return bool(context.context()._initialized)
    except Exception:  # a TensorFlow without that attribute: do not risk a fork
        return True


class _Expired(BaseException):
    """Raised by the alarm in `_in_process` (not an Exception, so checks do not catch it)."""


def _in_process(function: Callable[[], dict], timeout: float | None) -> dict | None:
    """`function()` here, stopped by SIGALRM after `timeout` seconds (then None). Weaker than
    a child: a hang inside one native call is not interrupted, and a mutant can leave state
    behind (Keras's global settings) for the next."""

    def expire(signum, frame):
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return json.loads(json.dumps(function()))
    except _Expired:
        return None
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {_one_line(exc)}"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_child(function: Callable[[], dict], timeout: float | None) -> dict | None:
    """`function()` run in a forked child: its JSON-able result; {"error": ...} if the child
    died without one; None if it ran over `timeout` seconds (the child is then killed).

    Forking after TensorFlow is imported but before it runs anything keeps each child's start
    cheap; a child of a process whose TensorFlow runtime has run an op can hang, so the
    parent never runs one.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(read_end)
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            try:
                result = function()
            except Exception as exc:
                result = {"error": f"{type(exc).__name__}: {_one_line(exc)}"}
            data = json.dumps(result).encode()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    deadline = None if timeout is None else time.monotonic() + timeout
    chunks, finished = [], False
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                continue
            chunk = pipe.read(1 << 16)
            if not chunk:
                finished = True
                break
            chunks.append(chunk)
    if not finished:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return None
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"error": f"the child died ({_exit_text(status)})"}
    return json.loads(b"".join(chunks))


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
