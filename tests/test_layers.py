"""The layers read one way: each module imports only its own layer and those below it.

engine → networks → replay → training → drawings (viz) → application (lab). Inside the
engine layer the order is finer: the rules, then the code read from them, then the
kernels written from them, then the engine that runs them (``ENGINE``). Every import
counts: ``import``/``from`` statements anywhere in a module (inside functions too),
``importlib.import_module("...")`` and ``__import__("...")``; every module of every
subpackage must have a layer; no two modules may import each other, however
indirectly. docs/architecture.md draws the same. The checker is tried on a copy of
the tree with violations planted in it, and must catch each one.
"""

from __future__ import annotations

import ast
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tinygrad_hw", "viz", "lab")

# The engine layer, bottom to top: a module here imports only modules listed before it.
ENGINE = [
    "tinygrad_hw.checks",
    "tinygrad_hw.ieee",
    "tinygrad_hw.maths",  # the maths functions a rule may call
    "tinygrad_hw.ops",  # the rules and the op table
    "tinygrad_hw.grad_mode",
    "tinygrad_hw.value",  # Value and the one order; it reaches the kernels through the op rows
    "tinygrad_hw.codegen",  # the rules' text as code
    "tinygrad_hw.generate",  # writes kernels.py
    "tinygrad_hw.kernels",  # generated
    "tinygrad_hw.engine",  # attaches the kernels to the rows
    "tinygrad_hw.derivatives",
    "tinygrad_hw.gradcheck",
    "tinygrad_hw.testing",
    "tinygrad_hw",  # the package: its __init__ imports the engine
]

# bottom to top
LAYERS: dict[str, list[str]] = {
    "engine": ENGINE,
    "networks": [
        "tinygrad_hw.nn",
        "tinygrad_hw.losses",
        "tinygrad_hw.optim",
        "tinygrad_hw.data",
        "tinygrad_hw.atomic",
        "tinygrad_hw.history",
        "tinygrad_hw.serialize",
        "tinygrad_hw.reference",
        "tinygrad_hw.interop",
        "tinygrad_hw.predictions",
        # micrograd's API (engine and nn) on ours: from tinygrad_hw.micrograd.nn import MLP
        "tinygrad_hw.micrograd",
        "tinygrad_hw.micrograd.engine",
        "tinygrad_hw.micrograd.nn",
    ],
    "replay": [
        "tinygrad_hw.executor",
        "tinygrad_hw.codecache",
        "tinygrad_hw.straightline",
        "tinygrad_hw.looped",
        "tinygrad_hw.numpyprogram",
        "tinygrad_hw.replay",
    ],
    "training": ["tinygrad_hw.train", "tinygrad_hw.diagnose", "tinygrad_hw.recording"],
    "drawings": ["viz", "viz.*"],
    "application": ["lab", "lab.*"],
}
THIRD_PARTY_IN_THE_ENGINE = {"hypothesis"}  # tinygrad_hw.testing: the strategies for users' own tests


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the three packages, subpackages included."""
    return {_module_name(root, p): p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))}


def _matches(module: str, pattern: str) -> bool:
    return module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1]))


def layer_of(module: str, layers: dict[str, list[str]]) -> int | None:
    for rank, patterns in enumerate(layers.values()):
        if any(_matches(module, p) for p in patterns):
            return rank
    return None


def _resolve(module: str, is_package: bool, level: int, name: str) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if not level:
        return name
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def imports(module: str, path: Path, known: set[str]) -> tuple[set[str], set[str], list[str]]:
    """(project modules ``module`` imports, top-level names of the others, imports the
    checker cannot read), from every import in its text."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    unreadable: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module or "")
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            found.update(submodules)
            if len(submodules) < len(node.names):  # names from the module itself
                found.add(base)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.add(
                    _resolve(
                        module,
                        is_package,
                        len(argument.value) - len(argument.value.lstrip(".")),
                        argument.value.lstrip("."),
                    )
                )
            else:
                unreadable.append(f"{module}, line {node.lineno}: {ast.unparse(node)}")
    project = {name for name in found if name.split(".")[0] in PACKAGES}
    imported = set()
    for name in project:  # `import tinygrad_hw.engine.Value`-like names: the longest module prefix
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            imported.add(name)
    return imported, {name.split(".")[0] for name in found - project}, unreadable


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm, with an
    explicit stack: no recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    yield sorted(group)


def violations(root: Path, layers: dict[str, list[str]] = LAYERS) -> list[str]:
    """Everything that breaks the layering of the tree under ``root``, one line each."""
    found = modules(root)
    known = set(found)
    names = list(layers)
    engine = layers["engine"]
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for module, path in found.items():
        rank = layer_of(module, layers)
        if rank is None:
            problems.append(f"{module} has no layer: give it one in tests/test_layers.py and docs/architecture.md")
            continue
        imported, others, unreadable = imports(module, path, known)
        graph[module] = imported
        problems += [f"an import the checker cannot read: {line}" for line in unreadable]
        for target in sorted(imported):
            target_rank = layer_of(target, layers)
            if target_rank is not None and target_rank > rank:
                problems.append(f"{module} ({names[rank]}) imports {target} ({names[target_rank]}), a layer above")
            elif target in engine and module in engine and engine.index(target) >= engine.index(module):
                problems.append(f"{module} imports {target}, above it in the engine's order (ENGINE)")
        if rank == 0:
            outside = {n for n in others if n not in sys.stdlib_module_names} - THIRD_PARTY_IN_THE_ENGINE
            problems += [
                f"{module} (engine) imports {name}: the engine needs the standard library only"
                for name in sorted(outside)
            ]
    problems += [f"import cycle: {' <-> '.join(group)}" for group in _cycles(graph)]
    return problems


def test_the_layers_hold():
    assert violations(ROOT) == []


def test_every_engine_module_is_in_the_engines_order():
    engine = {m for m in modules(ROOT) if layer_of(m, LAYERS) == 0}
    assert engine == set(ENGINE)


# -- the checker, tried on a copy of the tree with violations planted --------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    assert violations(tmp_path) == []  # the copy is as clean as the tree
    return tmp_path


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def test_it_catches_import_module_of_the_application_in_the_rules(tree: Path):
    _append(
        tree / "tinygrad_hw" / "ops.py",
        'def _report():\n    import importlib\n\n    return importlib.import_module("lab.report")',
    )
    assert "tinygrad_hw.ops (engine) imports lab.report (application), a layer above" in violations(tree)


def test_it_catches_the_rules_importing_the_engine(tree: Path):
    _append(tree / "tinygrad_hw" / "ops.py", "from .engine import Value")
    found = violations(tree)
    assert "tinygrad_hw.ops imports tinygrad_hw.engine, above it in the engine's order (ENGINE)" in found
    assert any(line.startswith("import cycle:") and "tinygrad_hw.ops" in line for line in found)


def test_it_catches_a_subpackage_importing_the_cli(tree: Path):
    sub = tree / "tinygrad_hw" / "extras"
    sub.mkdir()
    (sub / "__init__.py").write_text("")
    (sub / "helper.py").write_text("import lab.cli\n")
    assert "tinygrad_hw.extras.helper has no layer: give it one in tests/test_layers.py and docs/architecture.md" in (
        violations(tree)
    )
    placed = {**LAYERS, "networks": [*LAYERS["networks"], "tinygrad_hw.extras", "tinygrad_hw.extras.*"]}
    assert violations(tree, placed) == [
        "tinygrad_hw.extras.helper (networks) imports lab.cli (application), a layer above"
    ]


def test_it_catches_a_cycle_inside_one_layer_and_imports_it_cannot_read(tree: Path):
    _append(tree / "tinygrad_hw" / "nn.py", "from . import losses")  # losses imports nothing of nn... yet
    _append(tree / "tinygrad_hw" / "losses.py", "def _late():\n    from .nn import MLP\n\n    return MLP")
    _append(tree / "tinygrad_hw" / "optim.py", "def _load(name):\n    return __import__(name)")
    found = violations(tree)
    assert "import cycle: tinygrad_hw.losses <-> tinygrad_hw.nn" in found
    assert "an import the checker cannot read: tinygrad_hw.optim, line" in "\n".join(found)


def test_it_catches_a_third_party_import_in_the_engine(tree: Path):
    _append(tree / "tinygrad_hw" / "value.py", "def _arrays():\n    import numpy\n\n    return numpy")
    assert "tinygrad_hw.value (engine) imports numpy: the engine needs the standard library only" in violations(tree)
