"""Read a submission's own code, before it runs, for what graded code may not contain.

The scan allows what honest lesson code needs and reports the rest, rather than listing what
is denied: imports only from the modules lesson code uses (NumPy, Keras, TensorFlow's public
API, SciPy, the standard library's maths and data structures, plotting, the course's own
package), attributes that are public, or private only on the student's own object (`self`),
dunder attributes only from a short list of harmless ones, and none of the builtins that turn
strings into code or names into objects (`getattr` and `setattr` only as a direct call on
`self`). A name that is merely mentioned counts (`fetch = getattr` is an alias of getattr), a
chain of attributes is read to its end (`np.lib.npyio.os`), and cells are read as IPython runs
them (`x = !ls` is a shell command; `ops.pad?`, help on a name, is allowed).

A module the environment does not have is not reported (importing it fails when run: a
student's own helper file that was not handed in, say).

It reads the cells a student wrote or changed; statements identical to one of the released
notebook are the course's own and are not reported. Findings withhold the notebook's points
until the instructor has reviewed it; the witness in the kernel watches what runs.
"""

import ast
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache

# Modules (and their public submodules) that lesson code may import.
ALLOWED_MODULES = frozenset(
    """numpy math cmath keras tensorflow scipy itertools functools collections dataclasses
    typing numbers random time warnings string re statistics fractions decimal copy enum abc json
    pprint textwrap operator heapq bisect datetime __future__ matplotlib course IPython.display
    sklearn skimage PIL""".split()
)
# Public parts of allowed packages that still reach the interpreter, code or other processes.
DENIED_PARTS = {
    "tensorflow": frozenset(
        """python compat core raw_ops py_function numpy_function load_op_library
        load_library saved_model sysconfig tools lite distribute""".split()
    ),
    "keras": frozenset({"src"}),
    "operator": frozenset({"attrgetter", "methodcaller"}),  # getattr by a string's name
    "numpy": frozenset({"ctypeslib", "testing", "f2py", "distutils", "core"}),
    "scipy": frozenset({"LowLevelCallable", "weave"}),
    "matplotlib": frozenset({"rcsetup", "testing", "sphinxext"}),
}
# The assertions of numpy.testing (the rest of it runs code from strings).
ALLOWED_ASSERTS = "numpy.testing.assert_"
# Names of modules that no attribute chain may reach, whatever it starts from.
MODULE_NAMES = frozenset(
    """sys os builtins importlib inspect gc ctypes subprocess threading multiprocessing socket
    pickle marshal codeop runpy pkgutil shutil posix""".split()
)
# Public names that reach raw memory (a view with strides of one's choosing reads and writes
# outside its array): honest code uses sliding_window_view.
RAW_MEMORY = frozenset({"as_strided"})
# Builtins that lesson code never needs: code from strings, objects from names, the shell.
DENIED_NAMES = frozenset(
    """eval exec compile __import__ globals locals vars breakpoint get_ipython input
    memoryview __builtins__ __loader__ __spec__ __build_class__ exit quit help""".split()
)
# Builtins allowed only as a direct call on the student's own object: getattr(self, name).
ON_SELF_ONLY = frozenset({"getattr", "setattr", "delattr"})
OWN_OBJECTS = frozenset({"self", "cls"})
HARMLESS_DUNDERS = frozenset(
    """__init__ __call__ __name__ __qualname__ __doc__ __class__ __len__ __getitem__
    __setitem__ __iter__ __next__ __contains__ __repr__ __str__ __eq__ __hash__ __version__
    __module__ __array__""".split()
)
FRAME_ATTRIBUTES = frozenset(
    """f_back f_locals f_globals f_builtins f_code f_trace tb_frame tb_next gi_frame gi_code
    cr_frame ag_frame co_code co_consts co_names""".split()
)
# IPython magics that only time or configure plots; the code they time is scanned too.
HARMLESS_MAGICS = frozenset({"matplotlib", "time", "timeit", "precision", "capture"})
CODE_MAGICS = frozenset({"time", "timeit", "capture"})  # their last argument is code, scanned
# IPython's help (`ops.pad?`, `ops.pad??`): allowed on a dotted name, which is scanned too.
HELP_MAGICS = frozenset({"pinfo", "pinfo2"})
RESERVED = frozenset({"checks"})


@dataclass(frozen=True)
class Finding:
    """One construct a graded notebook may not contain, and where it is."""

    cell: int
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.what}"


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def python_source(source: str) -> str:
    """The cell as the Python IPython runs (magics and `!` commands become calls)."""
    try:
        return _transformer().transform_cell(source)
    except Exception:  # IPython cannot read it either: it fails when run
        return source


@lru_cache(maxsize=512)
def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def module_problem(dotted: str) -> str | None:
    """Why lesson code may not use the module or module attribute `dotted`, or None."""
    parts = dotted.split(".")
    if any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts):
        return f"the private {dotted}"
    if any(p in MODULE_NAMES for p in parts):
        return dotted
    root = parts[0]
    allowed = root in ALLOWED_MODULES or ".".join(parts[:2]) in ALLOWED_MODULES
    if not allowed:
        # a module the environment does not have cannot be imported: it fails when run
        return dotted if _is_module(root) else None
    if dotted.startswith(ALLOWED_ASSERTS) and len(parts) == 3:
        return None
    if set(parts[1:]) & DENIED_PARTS.get(root, frozenset()):
        return dotted
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, modules: dict[str, str]):
        self.modules = modules  # names bound to modules -> the module's dotted name
        self.found: list[tuple[ast.AST, str]] = []
        self.statement: ast.AST | None = None
        self.allowed_calls: set[int] = set()

    def flag(self, node, what):
        self.found.append((self.statement, getattr(node, "lineno", 0), what))

    def visit(self, node):
        if isinstance(node, ast.stmt):
            outer, self.statement = self.statement, node
            try:
                return super().visit(node)
            finally:
                self.statement = outer
        return super().visit(node)

    # imports

    def visit_Import(self, node):
        for alias in node.names:
            problem = module_problem(alias.name)
            if problem:
                self.flag(node, f"imports {problem}")
            if alias.asname:
                self.modules[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.modules[root] = root
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if node.level:
            self.flag(node, "uses a relative import")
        wrong_module = module_problem(module) if module else None
        if wrong_module and all(
            alias.name != "*" and module_problem(f"{module}.{alias.name}") is None
            for alias in node.names
        ):
            wrong_module = None  # from IPython import display: each name is allowed
        if wrong_module:
            self.flag(node, f"imports {wrong_module}")
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if alias.name == "*":
                self.flag(node, f"imports * from {module}")
                continue
            problem = None if wrong_module else module_problem(full)
            if problem:
                self.flag(node, f"imports {problem}")
            elif alias.name in DENIED_NAMES or alias.name in ON_SELF_ONLY:
                self.flag(node, f"imports {full}")
            elif alias.name in RAW_MEMORY:
                self.flag(node, f"imports {full}, which reaches memory outside its array")
            self.modules[alias.asname or alias.name] = full
        self.generic_visit(node)

    # names and attributes

    def visit_Name(self, node):
        if id(node) in self.allowed_calls:
            return
        if node.id in DENIED_NAMES:
            self.flag(node, f"uses {node.id}")
        elif node.id in ON_SELF_ONLY:
            self.flag(node, f"uses {node.id} on something other than its own object")
        elif node.id in RESERVED:
            self.flag(node, f"uses `{node.id}`, the grader's module, outside the test cells")
        elif node.id.startswith("__") and node.id not in HARMLESS_DUNDERS:
            self.flag(node, f"uses {node.id}")

    def visit_Attribute(self, node):
        attr = node.attr
        chain = _chain(node)
        if attr.startswith("__") and attr.endswith("__"):
            if attr not in HARMLESS_DUNDERS:
                self.flag(node, f"reaches into Python's internals (.{attr})")
        elif attr in FRAME_ATTRIBUTES:
            self.flag(node, f"reaches into the interpreter's frames (.{attr})")
        elif attr.startswith("_") and not _on_own_object(node.value):
            self.flag(node, f"reaches private internals (.{attr})")
        elif attr in MODULE_NAMES:
            self.flag(node, f"reaches the module {attr} through an attribute (.{attr})")
        elif attr in RAW_MEMORY:
            self.flag(node, f"uses {attr}, which reaches memory outside its array")
        elif chain and chain[0] in self.modules and isinstance(node.ctx, ast.Load):
            dotted = ".".join([self.modules[chain[0]], *chain[1:]])
            if dotted.startswith(ALLOWED_ASSERTS) and module_problem(dotted) is None:
                return  # np.testing.assert_allclose: its path through numpy.testing is fine
            if not self._reported_inside(node):
                problem = module_problem(dotted)
                if problem:
                    self.flag(node, f"uses {problem}")
        if isinstance(node.ctx, ast.Store | ast.Del) and chain and chain[0] in self.modules:
            self.flag(node, f"changes the module {'.'.join(chain[:-1])} (.{attr})")
        self.generic_visit(node)

    def _reported_inside(self, node) -> bool:
        """Whether a shorter prefix of this chain was already reported (one finding a chain)."""
        inner = node.value
        while isinstance(inner, ast.Attribute):
            chain = _chain(inner)
            if chain and chain[0] in self.modules:
                if module_problem(".".join([self.modules[chain[0]], *chain[1:]])):
                    return True
            inner = inner.value
        return False

    def visit_Call(self, node):
        func = node.func
        if _public_getattr(node):
            # getattr(x, "dtype", None) reads x.dtype: scanned as that attribute
            attribute = ast.Attribute(node.args[0], node.args[1].value, ast.Load())
            self.visit(ast.copy_location(attribute, node))
            for extra in node.args[2:]:
                self.visit(extra)
            return
        if _help_on_a_name(node):
            self.allowed_calls.add(id(func))
        elif isinstance(func, ast.Name) and func.id in ON_SELF_ONLY:
            target = node.args[0] if node.args else None
            name = node.args[1] if len(node.args) > 1 else None
            constant = isinstance(name, ast.Constant) and isinstance(name.value, str)
            if _on_own_object(target) and not (
                constant and name.value.startswith("__") and name.value not in HARMLESS_DUNDERS
            ):
                self.allowed_calls.add(id(func))
        elif _is_magic_call(func):
            self._magic(node)
            return
        self.generic_visit(node)

    def _magic(self, node):
        """`get_ipython().run_line_magic(name, line)` or `.run_cell_magic(name, line, body)`,
        or `.system(...)`: harmless magics are allowed and the code they time is scanned."""
        kind = node.func.attr
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        name = args[0] if args else None
        if kind in ("run_line_magic", "run_cell_magic") and name in HARMLESS_MAGICS:
            code = args[-1] if name in CODE_MAGICS else None
            if isinstance(code, str) and code.strip():
                self._nested(code, node)
            return
        line = args[1] if len(args) > 1 else None
        if kind == "run_line_magic" and name in HELP_MAGICS and _dotted_name(line):
            self._nested(line, node)
            return
        if kind == "run_line_magic" and name == "config" and _plot_setting(line):
            return
        if kind in ("system", "getoutput"):
            self.flag(node, "runs a shell command")
        else:
            self.flag(node, f"uses the magic %{name or '?'}")

    def _nested(self, code: str, node):
        try:
            tree = ast.parse(python_source(code))
        except SyntaxError:
            return
        inner = _Scanner(self.modules)
        inner.statement = self.statement
        inner.visit(tree)
        line = getattr(node, "lineno", 0)
        self.found += [(self.statement, line, what) for _, _, what in inner.found]


def _public_getattr(node) -> bool:
    """getattr(x, "name") or getattr(x, "name", default) with a public name written out."""
    name = node.args[1] if len(node.args) > 1 else None
    return (
        isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) in (2, 3)
        and not node.keywords
        and isinstance(name, ast.Constant)
        and isinstance(name.value, str)
        and name.value.isidentifier()
        and not name.value.startswith("_")
    )


def _help_on_a_name(node) -> bool:
    """help(ops.pad): help on an object named in the code (a string would be looked up, even
    imported, by name)."""
    return (
        isinstance(node.func, ast.Name)
        and node.func.id == "help"
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Name | ast.Attribute)
    )


def _plot_setting(line) -> bool:
    """`%config InlineBackend.figure_format = 'retina'`: a setting of inline plots, to a
    literal (IPython executes the line, so any other value would be code the scan skips)."""
    try:
        (statement,) = ast.parse(line.strip()).body
        (target,) = statement.targets
        ast.literal_eval(statement.value)
    except Exception:  # not one assignment of a literal
        return False
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "InlineBackend"
    )


def _dotted_name(text) -> bool:
    """Whether `text` is a name or a chain of attributes (`ops.pad`), nothing else."""
    return isinstance(text, str) and all(part.isidentifier() for part in text.strip().split("."))


def _chain(node) -> list[str]:
    """["np", "lib", "npyio"] for np.lib.npyio; [] when the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return []


def _on_own_object(node) -> bool:
    if isinstance(node, ast.Name):
        return node.id in OWN_OBJECTS
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _is_magic_call(func) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ("run_line_magic", "run_cell_magic", "system", "getoutput")
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    )


def _parse(source: str):
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def fingerprint(text: str) -> str:
    """A short, stable hash of `text` (a cell's stripped source, a statement unparsed)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _statement_print(statement) -> str:
    # unparsed, not dumped: the text is the same in every Python that Validate may run on
    return fingerprint(ast.unparse(statement))


def scan_cell(source: str, cell: int, modules: dict[str, str], given=frozenset()) -> list[Finding]:
    """Findings in one cell's source; statements whose fingerprint is in `given` (the released
    notebook's) are the course's own. Unparseable cells have none: they fail when run."""
    tree = _parse(source)
    if tree is None:
        return []
    scanner = _Scanner(modules)
    scanner.visit(tree)
    return [
        Finding(cell, line, what)
        for statement, line, what in scanner.found
        if statement is None or _statement_print(statement) not in given
    ]


@dataclass(frozen=True)
class Release:
    """What the scan needs of the released notebook: what its code binds to modules (np ->
    numpy, ...), the fingerprints of its code cells and of its statements (the course's own).
    `cnn-course release` stores it in the released notebook, where Validate reads it."""

    modules: dict[str, str]
    cells: frozenset[str]
    statements: frozenset[str]

    KEY = "cnn_course_scan"  # in the notebook's metadata

    @classmethod
    def of(cls, release_nb) -> "Release":
        sources = [cell.source for cell in release_nb.cells if cell.cell_type == "code"]
        modules: dict[str, str] = {}
        statements: set[str] = set()
        for tree in filter(None, map(_parse, sources)):
            for node in ast.walk(tree):
                if isinstance(node, ast.stmt):
                    statements.add(_statement_print(node))
                if isinstance(node, ast.Import):
                    for a in node.names:
                        bound = a.asname or a.name.split(".")[0]
                        modules[bound] = a.name if a.asname else bound
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    for a in node.names:
                        modules[a.asname or a.name] = f"{node.module}.{a.name}"
        for name in RESERVED:
            modules.pop(name, None)
        cells = frozenset(fingerprint(source.strip()) for source in sources)
        return cls(modules, cells, frozenset(statements))

    def metadata(self) -> dict:
        return {
            "modules": dict(sorted(self.modules.items())),
            "cells": sorted(self.cells),
            "statements": sorted(self.statements),
        }

    @classmethod
    def from_metadata(cls, metadata) -> "Release | None":
        """The Release stored in a notebook's metadata, or None when it is missing or is not
        made of strings (the notebook is the student's: this only serves Validate)."""
        data = metadata.get(cls.KEY) if isinstance(metadata, dict) else None
        if not isinstance(data, dict):
            return None
        modules, cells, statements = (data.get(k) for k in ("modules", "cells", "statements"))
        lists = isinstance(cells, list) and isinstance(statements, list)
        if not (lists and isinstance(modules, dict)):
            return None
        if not all(isinstance(s, str) for s in [*modules, *modules.values(), *cells, *statements]):
            return None
        return cls(dict(modules), frozenset(cells), frozenset(statements))


def scan_notebook(nb, release, is_test_cell) -> list[Finding]:
    """Findings in the cells of `nb` that the student wrote or changed (cell numbers from 1);
    `release` is the released notebook or its `Release`."""
    if not isinstance(release, Release):
        release = Release.of(release)
    findings = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or is_test_cell(cell):
            continue
        if fingerprint(cell.source.strip()) in release.cells:
            continue
        findings += scan_cell(cell.source, number, dict(release.modules), release.statements)
    return findings
