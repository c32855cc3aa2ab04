"""What the grader trusts inside the sandboxed kernel, recorded before any student code runs,
and whether it is still as it was.

A check's operations run in the student's own interpreter: the agent that serves them, the
guard and its lists, the witness, and the library entry points the guard watches are Python
objects there. Rebinding one of them (a module attribute, an agent, a cached list) raises no
audit event, so the witness takes a `Snapshot` of all of them when the kernel is ready (before
the first cell) and compares identities before every operation; what changed is reported to
the grader, outside the kernel, and fails the check.

Recorded: every module of the `autograder` package that the kernel's operations run (all but
those `grader_modules.grader_only` names: its namespace, the classes and functions defined in it
with their code, defaults and closures, its containers and the instances of its classes they
hold), the `sys`, `_thread`, `threading` and `builtins` entries the guard and witness rely on,
the objects the guard resolved for every lesson (`guard.prepared_bindings`), and the kernel's
agent and its handler.
"""

import builtins
import sys
import types
from operator import is_not

from autograder.grader_modules import PACKAGE, grader_only

# Library functions the guard and the witness call, by module: rebinding one (restoring the
# thread starter the witness wraps, say) would blind them.
LIBRARY_NAMES = {
    "sys": (
        "setprofile getprofile settrace gettrace audit addaudithook _getframe _current_frames "
        "modules meta_path path_hooks"
    ).split(),
    "_thread": ["start_new_thread", "get_ident"],
    "threading": ["_start_new_thread", "get_ident"],
}
# Builtins IPython sets and unsets around every cell.
IPYTHON_BUILTINS = frozenset({"exit", "quit", "get_ipython", "display", "__IPYTHON__", "_"})
MAX_ITEMS = 20_000  # entries recorded at most (the package holds a few thousand)

_id, _len, _isinstance, _getattr = id, len, isinstance, getattr
_MISSING = object()


def _trusted(obj) -> bool:
    name = _getattr(obj, "__module__", None)
    return _isinstance(name, str) and (name == PACKAGE or name.startswith(PACKAGE + "."))


class Snapshot:
    """Identities to compare: each check is (what it is, a function returning the problem or
    None)."""

    def __init__(self):
        self.checks: list[tuple[str, object]] = []
        self.seen: set[int] = set()

    # --- recording ---------------------------------------------------------------------------

    def mapping(self, label: str, live, allow_new=None, skip=frozenset(), deep=True) -> None:
        """A namespace (`live()` gives it) whose entries must stay the same objects; new
        entries are allowed where `allow_new(value)` says so. `deep`: what the entries hold is
        recorded too (not for namespaces whose contents change by design)."""
        recorded = {k: v for k, v in live().items() if k not in skip}

        def check():
            now = live()
            for key, value in recorded.items():
                if now.get(key, _MISSING) is not value:
                    return f"{label}.{_short(key)} was replaced or removed"
            if _len(now) != _len(recorded) + _len(skip & now.keys()):
                for key, value in now.items():
                    if (
                        key not in recorded
                        and key not in skip
                        and not (allow_new and allow_new(value))
                    ):
                        return f"{label}.{_short(key)} was added"
            return None

        self.checks.append((label, check))
        if deep:
            for key, value in recorded.items():
                self.value(f"{label}.{_short(key)}", value)

    def sequence(self, label: str, container) -> None:
        recorded = tuple(container)

        def check():
            now = tuple(container)
            if _len(now) != _len(recorded) or any(map(is_not, now, recorded)):
                return f"{label} was changed"
            return None

        self.checks.append((label, check))
        for index, value in enumerate(recorded[:200]):
            self.value(f"{label}[{index}]", value)

    def function(self, label: str, fn) -> None:
        parts = ("__code__", "__defaults__", "__kwdefaults__", "__closure__")
        recorded = tuple(_getattr(fn, part, None) for part in parts)
        cells = tuple(cell.cell_contents for cell in (recorded[3] or ()) if _has_contents(cell))

        def check():
            now = tuple(_getattr(fn, part, None) for part in parts)
            if any(map(is_not, now, recorded)):
                return f"{label} was changed"
            again = tuple(c.cell_contents for c in (now[3] or ()) if _has_contents(c))
            if _len(again) != _len(cells) or any(map(is_not, again, cells)):
                return f"{label} was changed (its closure)"
            return None

        self.checks.append((label, check))
        for index, value in enumerate(cells):
            self.value(f"{label}<closure {index}>", value)

    def value(self, label: str, value) -> None:
        """Record what a trusted namespace holds, as deep as the package's own objects go."""
        if _id(value) in self.seen or _len(self.seen) > MAX_ITEMS:
            return
        self.seen.add(_id(value))
        if _isinstance(value, types.ModuleType):
            return  # the package's modules are recorded by name; others are not ours
        if _isinstance(value, type):
            if _trusted(value):
                self.mapping(label, lambda cls=value: cls.__dict__)
            return
        if _isinstance(value, types.FunctionType):
            if _trusted(value) or label.endswith(">"):
                self.function(label, value)
            return
        if _isinstance(value, (dict, types.MappingProxyType)):
            self.mapping(label, lambda d=value: d)
            return
        if _isinstance(value, (list, tuple, set, frozenset)):
            self.sequence(label, value)
            return
        if _trusted(type(value)) and hasattr(value, "__dict__"):
            self.mapping(label, lambda obj=value: obj.__dict__)

    # --- comparing ---------------------------------------------------------------------------

    def verify(self) -> list[str]:
        """What is no longer as recorded (empty when nothing changed)."""
        problems = []
        for label, check in self.checks:
            try:
                problem = check()
            except Exception as exc:  # a namespace made unreadable is a change too
                problem = f"{label} cannot be read ({type(exc).__name__})"
            if problem:
                problems.append(problem)
                if _len(problems) >= 5:
                    break
        return problems


def _short(key) -> str:
    """A namespace key for a report: a name as it is, anything else cut short."""
    if isinstance(key, str) and len(key) <= 60:
        return key
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def take(kernel=None) -> Snapshot:
    """Record the trusted objects of this interpreter now (before any student code runs)."""
    from autograder import guard

    snap = Snapshot()
    modules = {
        name: module
        for name, module in list(sys.modules.items())
        if (name == PACKAGE or name.startswith(PACKAGE + ".")) and not grader_only(name)
    }
    registry = sys.modules
    recorded_modules = dict(modules)

    def check_modules():
        for name, module in recorded_modules.items():
            if registry.get(name) is not module:
                return f"the module {name} was replaced"
        return None

    snap.checks.append(("sys.modules", check_modules))

    def a_package_module(value) -> bool:  # a submodule imported later is no change
        return _isinstance(value, types.ModuleType) and value.__name__.startswith(PACKAGE + ".")

    for name, module in modules.items():
        snap.seen.add(_id(module))
        snap.mapping(name, lambda m=module: m.__dict__, allow_new=a_package_module)
    for name, attributes in LIBRARY_NAMES.items():
        library = sys.modules.get(name)
        if library is not None:
            snap.mapping(
                name, lambda m=library, a=attributes: {n: m.__dict__.get(n) for n in a}, deep=False
            )
    snap.mapping("builtins", lambda: builtins.__dict__, skip=IPYTHON_BUILTINS)
    for dotted, parent, attribute, obj in guard.prepared_bindings():

        def check(parent=parent, attribute=attribute, obj=obj, dotted=dotted):
            if _getattr(parent, attribute, _MISSING) is not obj:
                return f"{dotted}, which the guard watches, was replaced"
            return None

        snap.checks.append((dotted, check))
    if kernel is not None:
        agent = kernel._agent
        snap.mapping(
            "the kernel",
            lambda: {
                "agent": kernel._agent,
                "handler": kernel.shell_handlers.get("cnn_course_request"),
            },
            deep=False,
        )
        snap.mapping(
            "the grader's agent",
            lambda: {k: agent.__dict__.get(k) for k in ("namespace", "objects")},
            deep=False,
        )
    return snap
