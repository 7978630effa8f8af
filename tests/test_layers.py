"""The layers read one way: each module imports only its own layer and those below it.

engine → networks → replay → training → drawings (viz) → application (lab). Every
import statement counts, at the top of a module or inside a function; every module
must have a layer, so a new one cannot slip past. docs/architecture.md draws the same.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# bottom to top
LAYERS: dict[str, list[str]] = {
    "engine": [
        "tinygrad_hw",
        "tinygrad_hw.checks",
        "tinygrad_hw.ieee",
        "tinygrad_hw.maths",
        "tinygrad_hw.ops",
        "tinygrad_hw.grad_mode",
        "tinygrad_hw.value",
        "tinygrad_hw.codegen",
        "tinygrad_hw.generate",
        "tinygrad_hw.kernels",
        "tinygrad_hw.engine",
        "tinygrad_hw.derivatives",
        "tinygrad_hw.gradcheck",
        "tinygrad_hw.testing",
    ],
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
    ],
    "replay": [
        "tinygrad_hw.executor",
        "tinygrad_hw.straightline",
        "tinygrad_hw.looped",
        "tinygrad_hw.numpyprogram",
        "tinygrad_hw.replay",
    ],
    "training": ["tinygrad_hw.train"],
    "drawings": ["viz", "viz.*"],
    "application": ["lab", "lab.*"],
}
PACKAGES = ("tinygrad_hw", "viz", "lab")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).glob("*.py"))}


def _layer(module: str) -> int:
    for rank, patterns in enumerate(LAYERS.values()):
        for pattern in patterns:
            if module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                return rank
    raise KeyError(module)


def _imports(module: str, source: str, is_package: bool = False) -> set[str]:
    """Every project module ``module`` imports, anywhere in its text."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] in PACKAGES)
    modules = _modules()
    return {n for n in found if n in modules}


def _upward(module: str, source: str, is_package: bool = False) -> dict[str, str]:
    """The imports of ``module`` that reach above its layer, with the layer they reach."""
    names = list(LAYERS)
    imported = _imports(module, source, is_package)
    return {m: names[_layer(m)] for m in imported if _layer(m) > _layer(module)}


def test_every_module_has_a_layer():
    unplaced = [m for m in _modules() if not any(_matches(m, p) for ps in LAYERS.values() for p in ps)]
    assert unplaced == [], f"give these a layer in tests/test_layers.py and docs/architecture.md: {unplaced}"


def _matches(module: str, pattern: str) -> bool:
    return module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1]))


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_go_down_the_layers_only(module):
    path = _modules()[module]
    upward = _upward(module, path.read_text(), path.name == "__init__.py")
    assert upward == {}, f"{module} ({list(LAYERS)[_layer(module)]}) imports from layers above it: {upward}"


def test_the_engine_layer_needs_nothing_but_the_standard_library():
    allowed_third_party = {"hypothesis"}  # tinygrad_hw.testing: the strategies for users' own tests
    for module, path in _modules().items():
        if _layer(module) != 0:
            continue
        tree = ast.parse(path.read_text())
        roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
        third_party = {r for r in roots if r not in sys.stdlib_module_names and r not in PACKAGES}
        assert third_party <= allowed_third_party, (module, third_party)


def test_the_checker_sees_upward_imports_even_inside_functions():
    engine = (ROOT / "tinygrad_hw" / "engine.py").read_text()
    assert _upward("tinygrad_hw.engine", engine) == {}
    lazy = engine + "\n\ndef _draw():\n    from viz import draw_graph\n"
    assert _upward("tinygrad_hw.engine", lazy) == {"viz": "drawings"}
    relative = "from .train import fit\n"
    assert _upward("tinygrad_hw.nn", relative) == {"tinygrad_hw.train": "training"}
    assert _upward("viz.graph", "import lab.report\n") == {"lab.report": "application"}
