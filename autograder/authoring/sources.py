"""Read the source text of top-level functions and classes without importing their modules."""

import ast
import importlib.util
import linecache
import re
from pathlib import Path

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def module_path(module: str) -> Path:
    """The file of `module` (e.g. "solutions.convolution"), found without importing it.

    LookupError says which is missing: the package (not installed) or only the module in an
    installed package (a lesson's reference module not written yet)."""
    spec = _spec(module)
    if spec is not None and spec.origin is not None:
        return Path(spec.origin)
    package, _, name = module.rpartition(".")
    found = _spec(package) if package else None
    if found is None or not found.submodule_search_locations:
        top = module.split(".")[0]
        install = "; install it with `pip install -e ./solutions`" if top == "solutions" else ""
        raise LookupError(
            f"cannot find module {module!r}: package {top!r} is not installed{install}"
        )
    where = Path(next(iter(found.submodule_search_locations))) / f"{name}.py"
    raise LookupError(
        f"cannot find module {module!r}: there is no {where} (a lesson's reference code is "
        "solutions/<topic>.py, see docs/authoring.md)"
    )


def _spec(module: str):
    try:
        return importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a parent package is missing
        return None


def object_source(ref: str) -> str:
    """Source of the top-level object `ref` ("package.module:name"), decorators included."""
    module, _, name = ref.partition(":")
    if not name:
        raise ValueError(
            f"object reference must look like 'package.module:name'. Received: {ref!r}"
        )
    path = module_path(module)
    text = path.read_text()
    lines = text.splitlines()
    node, first, last = _definition_span(ast.parse(text).body, name, lines)
    if node is None:
        raise LookupError(f"{path} has no top-level function or class named {name!r}")
    return "\n".join(lines[first - 1 : last])


def released_namespace(module: str, names=None) -> dict:
    """Run `module` (e.g. "solutions.dropout") as the release shows it, and return its namespace:
    the solution regions of the top-level functions and classes `names` (all when None) are
    replaced by nbgrader's stub. For tests of what a student's unfinished notebook does."""
    out, inside, owner = [], False, None
    for line in module_path(module).read_text().splitlines():
        if line.startswith(("def ", "class ")):
            owner = line.split()[1].split("(")[0].rstrip(":")
        stripped = line.strip()
        if stripped in SOLUTION_MARKERS and (names is None or owner in names):
            inside = stripped == SOLUTION_MARKERS[0]
            if inside:
                indent = line[: len(line) - len(line.lstrip())]
                out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            continue
        if not inside:
            out.append(line)
    source, filename = "\n".join(out) + "\n", f"<released {module}>"
    # As IPython does for notebook cells, so that tracebacks (and stub detection) see the code.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": f"{module}__released"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def strip_solution_markers(source: str) -> str:
    """Drop the `### BEGIN/END SOLUTION` comment lines, keeping the code between them."""
    kept = [line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS]
    return "\n".join(kept)


def rename_object(source: str, old: str, new: str) -> str:
    """Rename the function or class defined by `source` from `old` to `new`."""
    pattern = re.compile(rf"^(\s*(?:async\s+)?(?:def|class)\s+){re.escape(old)}\b", re.M)
    renamed, count = pattern.subn(rf"\g<1>{new}", source, count=1)
    if count != 1:
        raise ValueError(f"no definition of {old!r} found in the given source")
    return renamed


def _definition_span(tree_body, name: str, lines: list[str]):
    """(node, first line, last line) of the definition `name`, 1-based and inclusive.

    The span runs past the last statement over comment lines indented deeper than the
    definition (such as a closing `### END SOLUTION`), which the syntax tree leaves out.
    """
    for node in tree_body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            last = node.end_lineno
            index = last  # 0-based index of the line after the definition
            while index < len(lines):
                line = lines[index]
                depth = len(line) - len(line.lstrip())
                if line.strip() and not (line.lstrip().startswith("#") and depth > node.col_offset):
                    break
                index += 1
                if line.strip():
                    last = index
            return node, first, last
    return None, None, None


def replace_definition(source: str, target: str, new_source: str) -> str:
    """Swap the definition of `target` ("name" or "Class.method") in `source` for `new_source`.

    `new_source` is the text of one function or class under any name; it is renamed to the
    target's name and indented to the target's depth.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    owner, _, method = target.partition(".")
    node, first, last = _definition_span(tree.body, owner, lines)
    if node is None:
        raise LookupError(f"no definition of {owner!r} in the given source")
    if method:
        node, first, last = _definition_span(node.body, method, lines)
        if node is None:
            raise LookupError(f"class {owner!r} has no method {method!r}")
    new_name = method or owner
    old_name = ast.parse(new_source).body[0].name
    text = rename_object(new_source, old_name, new_name)
    indent = " " * node.col_offset
    text = "\n".join(indent + line if line.strip() else "" for line in text.splitlines())
    return "\n".join(lines[: first - 1] + text.splitlines() + lines[last:])
