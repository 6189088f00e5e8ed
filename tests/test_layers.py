"""The layer order of the package (README, Development): a module imports only its own layer
and the layers below it, and the packages of one layer never import each other in a circle.

Every `facedub` import counts, also those inside functions and under TYPE_CHECKING: a lazy
import is still a dependency. The root `facedub/__init__.py` is the public facade above all
layers; lower modules may read only its `__version__` (`from facedub import __version__`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "src" / "facedub"

# Low to high. Names in one tuple are one layer: they may import each other (without cycles).
# serve/ and batch/ are listed before they exist so that they land in their place.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("types", "errors", "devices", "media", "fsutil", "spread", "threads", "locations",
     "progress"),
    ("faces",),
    ("faceset",),
    ("extract",),
    ("models",),
    ("engines",),
    ("composite",),
    ("provenance",),
    ("swap", "train", "evaluate"),
    ("serve", "batch"),
    ("cli", "__main__"),
)
LAYER_OF = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_TOP_LEVEL_FILES = 12  # Python files, __init__.py and __main__.py included
ROOT_NAMES = {"__version__"}  # what lower layers may take from the facade


def _component(module: str) -> str | None:
    """`facedub.faces.align` -> "faces"; None for the root package itself."""
    parts = module.split(".")
    if parts[0] != "facedub":
        raise ValueError(module)
    return parts[1] if len(parts) > 1 else None


def _is_submodule(name: str) -> bool:
    return (PACKAGE_ROOT / f"{name}.py").is_file() or (PACKAGE_ROOT / name).is_dir()


def _imported(tree: ast.AST, package: str) -> Iterator[tuple[int, str | None, str]]:
    """(line, component, what) for every facedub import; component None: the root facade."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "facedub" or alias.name.startswith("facedub."):
                    yield node.lineno, _component(alias.name), alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "facedub":
                for alias in node.names:
                    target = alias.name if _is_submodule(alias.name) else None
                    yield node.lineno, target, alias.name
            elif base.startswith("facedub."):
                yield node.lineno, _component(base), base


def _modules() -> Iterator[tuple[Path, str, str | None]]:
    """(file, its package's dotted name, its component) for every module of facedub."""
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        relative = path.relative_to(PACKAGE_ROOT)
        if relative == Path("__init__.py"):
            continue  # the facade: above every layer
        package = ".".join(["facedub", *relative.parts[:-1]])
        yield path, package, relative.parts[0].removesuffix(".py")


def _import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Component -> components it imports, and the violations of the order found on the way."""
    graph: dict[str, set[str]] = {}
    problems = []
    for path, package, component in _modules():
        assert component is not None
        where = path.relative_to(PACKAGE_ROOT.parent)
        if component not in LAYER_OF:
            problems.append(f"{where}: `{component}` has no layer; add it to LAYERS and the "
                            "README's Development section")
            continue
        graph.setdefault(component, set())
        for line, target, what in _imported(ast.parse(path.read_text(), str(path)), package):
            if target is None:
                if what not in ROOT_NAMES and what != "facedub":
                    problems.append(f"{where}:{line}: imports `{what}` from the facade; import "
                                    "it from its own module")
                continue
            if target == component:
                continue
            if target not in LAYER_OF:
                problems.append(f"{where}:{line}: imports `{what}`, which has no layer")
            elif LAYER_OF[target] > LAYER_OF[component]:
                problems.append(f"{where}:{line}: `{component}` (layer {LAYER_OF[component]}) "
                                f"imports `{what}` from the higher layer {LAYER_OF[target]}")
            graph[component].add(target)
    return graph, problems


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the component graph, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_module_imports_a_higher_layer() -> None:
    _, problems = _import_graph()
    assert not problems, "\n".join(problems)


def test_no_package_cycles() -> None:
    graph, _ = _import_graph()
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_top_level_holds_the_stages_and_a_handful_of_core_modules() -> None:
    files = sorted(p.name for p in PACKAGE_ROOT.glob("*.py"))
    assert len(files) <= MAX_TOP_LEVEL_FILES, files


@pytest.mark.parametrize(("source", "expected"), [
    ("from facedub.swap import swap", "swap"),
    ("import facedub.faces.align", "faces"),
    ("from facedub import media", "media"),
    ("from facedub import __version__", None),
    ("from . import masks", "faces"),
    ("from ..engines import base", "engines"),
])
def test_imports_are_read_as_written(source: str, expected: str | None) -> None:
    # The checker itself: relative imports resolve against facedub.faces.
    found = [target for _, target, _ in _imported(ast.parse(source), "facedub.faces")]
    assert found == [expected]


def test_a_violation_and_a_cycle_are_caught() -> None:
    tree = ast.parse("def f():\n    from facedub.train.loop import train\n")
    assert [t for _, t, _ in _imported(tree, "facedub.engines")] == ["train"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
