"""Every method of the storage ports has a contract test that runs on every backend.

The repositories are the unit of work's attributes (bot.kernel.ports.UnitOfWork); a method
counts as covered when a test of this suite taking the `storage` fixture (the in-memory fake,
SQLite and PostgreSQL) calls it as `<uow>.<repository>.<method>(...)`, itself or through a
helper of its module or of builders.py. A test on the SQL backends alone does not count: the
fake could drift.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, get_type_hints

from bot.kernel import ports

if TYPE_CHECKING:
    from collections.abc import Iterator

SUITE = Path(__file__).parent
ALL_BACKENDS_FIXTURE = "storage"
# How the suite's modules name builders.py when they import it.
BUILDERS_ALIASES = frozenset({"make", "builders"})


def port_methods() -> set[tuple[str, str]]:
    """(repository attribute, method) for each public method of each repository port."""
    found: set[tuple[str, str]] = set()
    for attribute, port in get_type_hints(ports.UnitOfWork).items():
        if not (inspect.isclass(port) and port.__module__ == ports.__name__):
            continue
        for name, member in vars(port).items():
            if not name.startswith("_") and inspect.isfunction(member):
                found.add((attribute, name))
    return found


Functions = dict[str, ast.AsyncFunctionDef | ast.FunctionDef]


def functions_of(tree: ast.Module) -> Functions:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def reached(start: ast.AST, own: Functions, builders: Functions) -> Iterator[ast.AST]:
    """`start` and every helper (or fixture) of its module or of builders.py it names."""
    seen: set[int] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and inner.id in own:
                todo.append(own[inner.id])
            elif isinstance(inner, ast.arg) and inner.arg in own:
                todo.append(own[inner.arg])  # a fixture of the module
            elif (
                isinstance(inner, ast.Attribute)
                and isinstance(inner.value, ast.Name)
                and inner.value.id in BUILDERS_ALIASES
                and inner.attr in builders
            ):
                todo.append(builders[inner.attr])


def repository_calls(node: ast.AST) -> Iterator[tuple[str, str]]:
    """(repository attribute, method) of each `<x>.<repository>.<method>(...)` call."""
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and isinstance(inner.func.value, ast.Attribute)
        ):
            yield inner.func.value.attr, inner.func.attr


def covered_on_every_backend() -> set[tuple[str, str]]:
    builders = functions_of(ast.parse((SUITE / "builders.py").read_text()))
    covered: set[tuple[str, str]] = set()
    for path in sorted(SUITE.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        own = functions_of(ast.parse(path.read_text()))
        for name, test in own.items():
            takes = {arg.arg for arg in test.args.args}
            if name.startswith("test_") and ALL_BACKENDS_FIXTURE in takes:
                for node in reached(test, own, builders):
                    covered.update(repository_calls(node))
    return covered


def test_the_ports_are_found() -> None:
    methods = port_methods()
    assert ("panels", "save") in methods
    assert ("data_protection", "sweep") in methods
    assert ("activities", "first_time") in methods
    assert len({attribute for attribute, _ in methods}) == 19


def test_every_repository_method_has_a_contract_test_on_every_backend() -> None:
    missing = sorted(port_methods() - covered_on_every_backend())
    assert missing == [], "no contract test on every backend calls: " + ", ".join(
        f"uow.{attribute}.{method}" for attribute, method in missing
    )
