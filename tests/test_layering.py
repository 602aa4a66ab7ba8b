"""No module escapes the import contracts, and the client imports only the standard library.

`lint-imports` checks the contracts of `pyproject.toml`, but a module that no contract names is
unconstrained. These tests read the contracts and walk the package: every top-level module is in the
package layers, every module of a feature is in a layer of the within-feature contract, every module
from the output shapes down and every core module is in the no-Flask contract, every module of the
lowest layer in the pure contract. The client and the entry are read as source (their syntax tree),
since "standard library only" is not a list of names to forbid.
"""

from __future__ import annotations

import ast
import pkgutil
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "sdl_tracker"
# Libraries of the doors and the client: packages that are not features.
NOT_FEATURES = {"api", "web", "client"}
# The core: below every door library; it imports no feature and no Flask.
CORE_FROM = "sdl_tracker.schema"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def _names(layer: str) -> list[str]:
    """The module names of one layer: `(views) : (api)` or `a | b`."""
    return [name.strip().strip("()").strip() for name in re.split(r"[:|]", layer) if name.strip()]


def _matches(module: str, patterns: list[str]) -> bool:
    """Whether import-linter's module expressions (`*` is one segment) name the module."""
    return any(
        re.fullmatch(r"\.".join("[^.]+" if part == "*" else re.escape(part) for part in pattern.split(".")), module)
        for pattern in patterns
    )


def _top_level() -> set[str]:
    return {info.name for info in pkgutil.iter_modules([str(PACKAGE)])}


def _features() -> set[str]:
    return {info.name for info in pkgutil.iter_modules([str(PACKAGE)]) if info.ispkg} - NOT_FEATURES


def _feature_modules(feature: str) -> Iterator[str]:
    """The modules of a feature, relative to it (`views`, `services`...); a subpackage counts as its name."""
    for info in pkgutil.walk_packages([str(PACKAGE / feature)]):
        yield info.name


def _feature_layers() -> list[list[str]]:
    return [_names(layer) for layer in _contracts()["features"]["layers"]]


def test_every_top_level_module_is_in_the_package_layers() -> None:
    layers = _contracts()["packages"]["layers"]
    layered = {name.removeprefix("sdl_tracker.") for layer in layers for name in _names(layer)}
    # The client has its own contract (below) and imports nothing of the server.
    assert _top_level() - {"client"} - layered == set()
    assert layered - _top_level() == set()


def test_every_feature_is_a_container_of_the_feature_layers() -> None:
    containers = {name.removeprefix("sdl_tracker.") for name in _contracts()["features"]["containers"]}
    assert containers == _features()


@pytest.mark.parametrize("feature", sorted(_features()))
def test_every_module_of_a_feature_is_in_a_layer(feature: str) -> None:
    layered = {name for layer in _feature_layers() for name in layer}
    unlayered = sorted(set(_feature_modules(feature)) - layered)
    assert unlayered == [], f"sdl_tracker.{feature}: put {unlayered} in a layer of the 'features' contract"


def test_no_feature_layer_names_a_module_twice() -> None:
    names = [name for layer in _feature_layers() for name in layer]
    assert len(names) == len(set(names))


def test_output_shapes_services_models_rules_and_the_core_are_in_the_no_flask_contract() -> None:
    contracts = _contracts()
    sources = contracts["no-flask"]["source_modules"]
    layers = _feature_layers()
    below_door_helpers = {name for layer in layers[layers.index(["schemas"]) :] for name in layer}
    missing = [
        f"sdl_tracker.{feature}.{module}"
        for feature in sorted(_features())
        for module in _feature_modules(feature)
        if module in below_door_helpers and not _matches(f"sdl_tracker.{feature}.{module}", sources)
    ]
    package_layers = contracts["packages"]["layers"]
    core_start = next(i for i, layer in enumerate(package_layers) if CORE_FROM in _names(layer))
    core = [name for layer in package_layers[core_start:] for name in _names(layer)]
    missing += [name for name in core if not _matches(name, sources)]
    assert missing == []
    assert contracts["no-flask"]["forbidden_modules"] == ["flask", "werkzeug", "flask_wtf", "wtforms"]


def test_the_lowest_feature_layer_is_in_the_pure_contract() -> None:
    sources = _contracts()["pure"]["source_modules"]
    lowest = set(_feature_layers()[-1])
    missing = [
        f"sdl_tracker.{feature}.{module}"
        for feature in sorted(_features())
        for module in _feature_modules(feature)
        if module in lowest and not _matches(f"sdl_tracker.{feature}.{module}", sources)
    ]
    assert missing == []


def test_the_client_contract_forbids_every_other_part_of_the_package() -> None:
    contract = _contracts()["client"]
    assert contract["source_modules"] == ["sdl_tracker.client"]
    assert {name.removeprefix("sdl_tracker.") for name in contract["forbidden_modules"]} == _top_level() - {"client"}


def test_every_module_of_the_client_is_in_a_client_layer() -> None:
    layered = [name for layer in _contracts()["client-layers"]["layers"] for name in _names(layer)]
    modules = {f"sdl_tracker.client.{info.name}" for info in pkgutil.iter_modules([str(PACKAGE / "client")])}
    assert sorted(layered) == sorted(modules)


# The client and the entry: the standard library and the client only, read from their source.


def _imports(tree: ast.AST, package: str) -> Iterator[tuple[str, str | None, int]]:
    """(absolute module, the enclosing top-level function or None, line) of every import in the tree."""

    def walk(node: ast.AST, function: str | None) -> Iterator[tuple[str, str | None, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, function, child.lineno
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - child.level + 1])
                else:
                    base = ""
                if child.module:
                    yield ".".join(filter(None, [base, child.module])), function, child.lineno
                else:  # `from . import x`: each name may be a module
                    for alias in child.names:
                        yield f"{base}.{alias.name}", function, child.lineno
            elif isinstance(child, ast.Call) and (
                (isinstance(child.func, ast.Name) and child.func.id == "__import__")
                or (isinstance(child.func, ast.Attribute) and child.func.attr == "import_module")
            ):
                yield "<dynamic import>", function, child.lineno
            else:
                inner = child.name if function is None and isinstance(child, ast.FunctionDef) else function
                yield from walk(child, inner)

    yield from walk(tree, None)


def foreign_imports(source: str, package: str, lazy: dict[str, str] | None = None) -> list[str]:
    """The imports of a module's source that are neither standard library nor the client.

    `lazy` maps a module that may be imported only inside one top-level function to that function.
    """
    lazy = lazy or {}
    foreign = []
    for module, function, line in _imports(ast.parse(source), package):
        if module == "sdl_tracker.client" or module.startswith("sdl_tracker.client."):
            continue
        top = module.split(".")[0]
        if top in sys.stdlib_module_names and top != "sdl_tracker":
            continue
        if module in lazy and function == lazy[module]:
            continue
        foreign.append(f"line {line}: {module}" + (f" (in {function})" if function else ""))
    return foreign


def _client_sources() -> Iterator[tuple[Path, str]]:
    for path in sorted((PACKAGE / "client").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1]).removesuffix(".__init__")
        yield path, package


@pytest.mark.parametrize(("path", "package"), list(_client_sources()), ids=lambda value: str(value))
def test_the_client_imports_only_the_standard_library(path: Path, package: str) -> None:
    assert foreign_imports(path.read_text(encoding="utf-8"), package) == []


def test_the_entry_imports_the_server_only_inside_main() -> None:
    source = (PACKAGE / "entry.py").read_text(encoding="utf-8")
    assert foreign_imports(source, "sdl_tracker", lazy={"sdl_tracker.cli": "main"}) == []
    assert "sdl_tracker.cli" in {module for module, _, _ in _imports(ast.parse(source), "sdl_tracker")}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import requests", ["line 1: requests"]),
        ("from ..sboms import validation", ["line 1: sdl_tracker.sboms"]),
        ("from .. import create_app", ["line 1: sdl_tracker.create_app"]),
        ("def f():\n    import flask", ["line 2: flask (in f)"]),
        ("import importlib\nimportlib.import_module('flask')", ["line 2: <dynamic import>"]),
        ("from .cli import main", []),
        ("import json, urllib.request\nfrom __future__ import annotations", []),
    ],
)
def test_the_check_finds_what_is_not_standard_library(source: str, found: list[str]) -> None:
    assert foreign_imports(source, "sdl_tracker.client") == found


def test_the_lazy_server_import_is_allowed_only_inside_its_function() -> None:
    lazy = {"sdl_tracker.cli": "main"}
    assert foreign_imports("def main():\n    from .cli import main", "sdl_tracker", lazy) == []
    assert foreign_imports("from .cli import main", "sdl_tracker", lazy) == ["line 1: sdl_tracker.cli"]
    assert foreign_imports("def other():\n    from .cli import x", "sdl_tracker", lazy) == [
        "line 2: sdl_tracker.cli (in other)"
    ]
