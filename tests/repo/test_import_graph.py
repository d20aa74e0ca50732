"""The package's import graph has no cycles, ``TYPE_CHECKING`` imports included.

import-linter's contracts ([tool.importlinter] in pyproject.toml, run by
``make lint``) say which way each import may point; this test says the
simpler thing they rest on: no module reaches, however indirectly, back to
itself. It reads the same graph (grimp's, which import-linter builds on).
"""

from __future__ import annotations

import pytest

grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (the dev extra)")

# Each edge left out, and why; the same as import-linter's ignored import.
ALLOWED = {
    # Typing only: the exceptions' gateway_status is typed as the GatewayStatus
    # model, as users see it; nothing is imported at run time.
    ("asyncquote._base.errors", "asyncquote._models.health"),
}


def import_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports[child]))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_import_cycles_finds_a_cycle_and_only_that() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(imports) == [["a", "b", "c"]]


def test_the_package_has_no_import_cycles() -> None:
    graph = grimp.build_graph("asyncquote", cache_dir=None)
    imports = {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if (module, imported) not in ALLOWED
        }
        for module in graph.modules
    }
    assert import_cycles(imports) == []
