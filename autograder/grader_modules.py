"""Which of the grader's modules no operation runs in the student's kernel, and how the guard
knows their code when graded code enters it.

A notebook imports its lesson's `checks`, so the checks' cases, catalogues and NumPy answers
(`checks.catalogue`, `autograder.oracles`) are objects in the student's kernel, in the grading
sandbox too. No operation of a check calls them there: the grader calls them on its side. So
their code entered while an operation runs is graded code asking the grader for its answers,
and the guard counts it as a forbidden call in every lesson (`GRADER_CODE`).

The guard knows that code by the namespace it runs in (a frame's globals are its module's
dictionary, which no code can swap for another), not by a name a student could rebind. It
tells namespaces apart by identity with `object.__hash__`, a bijection of the object's address:
`id()` would do the same, but it is an audited event. It looks only at a call that enters on
the first line of some function of these modules (`first_lines`, read from their source), as it
does for the forbidden functions: most calls are then one lookup. A generator of the grader's
resumed inside a check enters elsewhere and is not seen; none of them answers for an input.
"""

import sys
from functools import cache
from types import CodeType, MappingProxyType

PACKAGE = "autograder"
# Parts of the package that only the grader's side runs (the checks, their catalogues and
# answers, the nbgrader integration): the kernel imports some of them, but no operation calls
# them.
GRADER_ONLY = (
    "autograder.checks",
    "autograder.grading",
    "autograder.authoring",
    "autograder.references",
    "autograder.oracles",
)
# A lesson's own modules are the grader's too (`autograder.lessons.NN_topic.checks`, its
# cases, catalogue, samples), except its operations (`ops`): they run in the kernel.
LESSONS = PACKAGE + ".lessons."
KERNEL_SIDE = ".ops"
# How feedback names a hit: "the grader's own code (autograder.oracles.correlate)".
GRADER_CODE = "the grader's own code"


def grader_only(name: str) -> bool:
    """Whether the module `name` is one that no operation runs in the student's kernel."""
    if name.startswith(LESSONS):
        return not name.endswith(KERNEL_SIDE)
    return any(name == part or name.startswith(part + ".") for part in GRADER_ONLY)


identity = object.__hash__  # of a dict too, whose own __hash__ is None

# (identity of a module's namespace -> (module name, the module, kept alive so that no other
# object takes its namespace's address); the first lines of their functions), fixed by `fix()`
# in the grading kernel. Modules, not their namespaces: the sandbox's integrity record, which
# checks this module before every operation, does not walk into a module.
_FIXED: tuple[MappingProxyType, frozenset] | None = None
_seen: list = [-1, (MappingProxyType({}), frozenset())]  # len(sys.modules) when found, found


@cache
def _first_lines(filename: str) -> frozenset:
    """The first line of every function, lambda and comprehension of the module `filename`."""
    lines, pending = set(), []
    try:
        with open(filename, encoding="utf-8") as source:
            pending.append(compile(source.read(), filename, "exec"))
    except (OSError, SyntaxError, ValueError):
        pass
    while pending:
        code = pending.pop()
        lines.add(code.co_firstlineno)
        pending += [c for c in code.co_consts if type(c) is CodeType]
    return frozenset(lines)


def _find() -> tuple[MappingProxyType, frozenset]:
    found, lines = {}, set()
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if type(name) is str and grader_only(name) and type(namespace) is dict:
            found[identity(namespace)] = (name, module)
            filename = namespace.get("__file__")
            if type(filename) is str and filename.endswith(".py"):
                lines |= _first_lines(filename)
    return MappingProxyType(found), frozenset(lines)


def namespaces() -> tuple[MappingProxyType, frozenset]:
    """The namespaces of the grader-only modules imported here and the first lines of their
    functions: as `fix()` found them, or (in the student's own kernel) as they are now."""
    if _FIXED is not None:
        return _FIXED
    if _seen[0] != len(sys.modules):
        _seen[:] = [len(sys.modules), _find()]
    return _seen[1]


def fix() -> None:
    """Fix the grader-only modules as imported now (the grading kernel, before any student
    code runs): removing one from `sys.modules` later hides nothing."""
    global _FIXED
    _FIXED = _find()
