"""tools/api_coverage.py (the generator of docs/api_coverage.md) runs, and the issue-11 names of the Python
surface (everything but the dtype names and native ops another change brings) are present."""
import importlib.util
import pathlib

TOOL = pathlib.Path(__file__).resolve().parents[1] / "tools" / "api_coverage.py"
NATIVE_OR_DTYPE = {"long", "int64", "float32", "float", "double", "bool", "bfloat16", "topk", "multinomial", "randperm",
                   "roll", "sort", "argsort", "cumsum", "type", "normal_", "uniform_", "repeat", "all", "any",
                   "scatter_", "exp_"}


def _tool():
    spec = importlib.util.spec_from_file_location("api_coverage", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_lists_every_namespace_and_the_python_surface_is_present():
    tool = _tool()
    text = tool.report()
    for label, _, _ in tool.NAMESPACES:
        assert f"| `{label}` |" in text
    spaces = {label: ours for label, _, ours in tool.NAMESPACES}
    missing = [f"{label}.{name}" for label, names in tool.ISSUE_11.items() for name in names.split()
               if name not in NATIVE_OR_DTYPE and not hasattr(spaces[label], name)]
    assert missing == []
