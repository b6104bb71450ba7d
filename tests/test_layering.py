"""The Python package forms layers: no import cycles and no imports hidden inside functions (STYLE.md).

The layers today, each importing only from those before it: errors, dtypes, _core, _convert, _repr <- device
<- tensor <- autograd (grad_mode, function, broadcast, engine, api) <- creation <- ops.indexing <-
ops.elementwise <- ops.shape, ops.reduction, ops.rows, ops.random <- ops.linalg <- ops.conv <- ops.fused <-
nn <- optim, coreml, serialization <- the package. Tensor methods are attached by the ops modules
(tensor_method), so tensor.py imports no op."""
import ast
import graphlib
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "tensorlogic"

SKIPPED = ()

# The native extension (pybind11, built from python/src): a leaf of the graph.
NATIVE = ("tensorlogic._core",)

# (module, imported name): why the import must happen inside a function.
ALLOWED_LOCAL = {
    ("tensorlogic.coreml.programs", "coremltools"):
        "an optional dependency (the `apple` extra) that takes seconds to load (it loads torch); "
        "imported when the first Core ML model is built",
}


def _modules():
    """{dotted name: (path, is_package)} for every module of the package outside SKIPPED."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("tensorlogic",) + path.relative_to(PACKAGE).with_suffix("").parts
        package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if package else parts)
        if not any(name == s or name.startswith(s + ".") for s in SKIPPED):
            found[name] = (path, package)
    return found


def _targets(node, module, package):
    """The dotted names an import statement reads (`from a import b` gives a.b, which may be a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parent = module.split(".")
        if not package:
            parent = parent[:-1]
        parent = parent[:len(parent) - (node.level - 1)]
        base = ".".join(parent + ([node.module] if node.module else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _scan():
    """(import graph over the package's modules, imports found inside functions, hidden import calls)."""
    modules = _modules()
    graph, local, hidden = {name: set() for name in NATIVE}, [], []
    for name, (path, package) in modules.items():
        graph[name] = set()

        def visit(node, in_function, name=name, package=package, path=path):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = _targets(node, name, package)
                if in_function:
                    root = targets[0].split(".")[0] if targets[0] else ""
                    if (name, root) not in ALLOWED_LOCAL:
                        local.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
                else:
                    # `from . import x` reads module x when it exists, else a name of the package itself.
                    named = [t for t in targets[1:] if t in modules or t in NATIVE]
                    graph[name].update(named or [t for t in targets[:1] if t in modules])
            elif isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func in ("__import__", "importlib.import_module", "import_module"):
                    hidden.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
            inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for child in ast.iter_child_nodes(node):
                visit(child, inner)

        visit(ast.parse(path.read_text(), str(path)), False)
        graph[name].discard(name)
    return graph, local, hidden


GRAPH, LOCAL, HIDDEN = _scan()


def test_the_scan_sees_the_package():
    assert {"tensorlogic", "tensorlogic.tensor", "tensorlogic.ops.elementwise", "tensorlogic.nn.module"} <= set(GRAPH)
    assert "tensorlogic.tensor" in GRAPH["tensorlogic.ops.elementwise"]
    assert "tensorlogic.ops.indexing" in GRAPH["tensorlogic.ops.shape"]


def test_no_import_cycles():
    try:
        order = list(graphlib.TopologicalSorter(GRAPH).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle: {' -> '.join(e.args[1])}")
    assert order.index("tensorlogic.tensor") < order.index("tensorlogic.ops.elementwise")


def test_no_imports_inside_functions():
    assert not LOCAL, "imports inside functions (move them to the top of the module; an import that would " \
                      "close a cycle belongs in a higher layer):\n" + "\n".join(LOCAL)


def test_no_imports_by_call():
    assert not HIDDEN, "imports by a call hide an edge from the import graph:\n" + "\n".join(HIDDEN)


def test_every_allowed_local_import_still_exists():
    for module, imported in ALLOWED_LOCAL:
        path, _ = _modules()[module]
        source = path.read_text()
        assert f"import {imported}" in source, f"{module} no longer imports {imported}: drop it from ALLOWED_LOCAL"
