"""The package's layers, read from the code itself (docs/architecture.md, "Layers").

Every module's imports are read with ``ast`` (those inside functions too: a lazy import is
still a dependency).  A module may import from its own subpackage and from the layers below
it, never from a layer above or from a sibling subpackage of its layer; modules never import
each other in a cycle; and no module uses another module's private (``_``) names.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evalkit"

#: The layers, bottom first; subpackages of one layer are siblings and never import each other.
LAYERS: dict[str, int] = {
    "base": 0,       # errors, i18n, resources, dates, registry, checks
    "mcda": 1,
    "data": 2,
    "rubric": 3,
    "evaluate": 4,
    "synth": 4,
    "publish": 5,
    "top": 6,        # cli (a package: one module per command), __main__, the package's public face
}
TOP = {"evalkit.cli", "evalkit.__main__", "evalkit"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _room(module: str) -> str:
    """The layer's name of a module: its subpackage, ``base`` or ``top``."""
    if module in TOP or module.startswith("evalkit.cli."):
        return "top"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "base"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not MODULES[module].name == "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("evalkit")]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not target.startswith("evalkit"):
                continue
            for a in node.names:  # `from evalkit.evaluate import pipeline` imports a module
                sub = f"{target}.{a.name}"
                out.append((sub, [], node.lineno) if sub in MODULES else (target, [a.name], node.lineno))
    return out


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for target, _, _ in _imports(module):
            if target in MODULES and target != module and target != "evalkit":
                graph[module].add(target)
    return graph


def test_every_module_is_in_a_known_room() -> None:
    unknown = {m: _room(m) for m in MODULES if _room(m) not in LAYERS}
    assert not unknown, unknown


def test_no_upward_or_sideways_import() -> None:
    bad = []
    for module in MODULES:
        here = _room(module)
        for target, _, line in _imports(module):
            if target not in MODULES or target == "evalkit":
                continue
            there = _room(target)
            if LAYERS[there] > LAYERS[here] or (there != here and LAYERS[there] == LAYERS[here]):
                bad.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} ({here}) imports "
                           f"{target} ({there})")
    assert not bad, "\n".join(bad)


def test_no_import_cycle() -> None:
    graph = _edges()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_no_use_of_another_modules_private_names() -> None:
    bad = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}  # local name -> evalkit module bound to it
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(module, node)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in MODULES:
                        aliases[a.asname or a.name] = sub
                    elif target.startswith("evalkit") and target != module and a.name.startswith("_") \
                            and not a.name.startswith("__"):
                        bad.append(f"{path.name}:{node.lineno}: from {target} import {a.name}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODULES and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and aliases[node.value.id] != module
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", ["stats", "weights", "rank", "load_dataset", "load_rubric"])
def test_the_public_api_keeps_working(name: str) -> None:
    import evalkit

    assert getattr(evalkit, name) is not None


#: The size limits of docs/architecture.md: a module about 600 lines, a function about 80 lines
#: of code (its docstring not counted).  A numeric kernel that must stay whole says so at its
#: top with the marker below, and is then exempt.
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 600, 80
KERNEL_MARKER = "numeric kernel: kept whole"


def _code_lines(node: ast.AST) -> int:
    body = node.body  # type: ignore[attr-defined]
    start = body[0].end_lineno + 1 if (body and isinstance(body[0], ast.Expr)
                                       and isinstance(body[0].value, ast.Constant)
                                       and isinstance(body[0].value.value, str) and len(body) > 1) else node.lineno
    return node.end_lineno - start + 1  # type: ignore[attr-defined]


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES and KERNEL_MARKER not in text[:2000]:
            too_long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _code_lines(node) > MAX_FUNCTION_LINES:
                segment = ast.get_docstring(node) or ""
                if KERNEL_MARKER not in segment:
                    too_long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.name} "
                                    f"({_code_lines(node)} lines of code)")
    assert not too_long, "\n".join(too_long)
