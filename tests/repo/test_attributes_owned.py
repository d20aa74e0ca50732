"""Each class of a layered chain owns what it uses: none declares what it does not set.

``QuoteClient`` is a ``LiveQuotesClient``, which is a ``QuoteRequestsClient``,
a ``GatewayClient`` and a ``ClientCore``; ``Simulator`` is a ``ServerViews``.
For each class of those chains, read from its source: every ``self.x`` its
own methods read is set in its own ``__init__`` or a base's, or defined in
its own body or a base's (a method, a property, a class attribute); no
class declares an attribute (a bare annotation, or a ``TYPE_CHECKING``
stub) that it leaves to a subclass or a sibling to set; and no attribute
is first set outside ``__init__``.
"""

from __future__ import annotations

import ast
from functools import cache

import pytest

from asyncquote import QuoteClient
from asyncquote.sim import Simulator

_CHAINS = [QuoteClient, Simulator]


def _source_file(cls: type) -> str:
    # Public classes report their public home (__module__), so the file is
    # found from their own functions' code.
    for value in vars(cls).values():
        function = getattr(value, "fget", value)
        function = getattr(function, "__wrapped__", function)
        code = getattr(function, "__code__", None)
        if code is not None:
            return str(code.co_filename)
    raise LookupError(f"no function of {cls.__qualname__} to find its file by")


@cache
def _class_node(cls: type) -> ast.ClassDef:
    with open(_source_file(cls), encoding="utf-8") as source:
        tree = ast.parse(source.read())
    return next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__
    )


def _functions(node: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [stmt for stmt in node.body if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)]


def _defined(node: ast.ClassDef) -> set[str]:
    """Names the class body gives a value: methods, properties, assigned class attributes."""
    names = {function.name for function in _functions(node)}
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            names.add(ast.unparse(stmt.target))
        elif isinstance(stmt, ast.Assign):
            names.update(ast.unparse(target) for target in stmt.targets)
    return names


def _declared_only(node: ast.ClassDef) -> list[str]:
    """Bare annotations and ``if TYPE_CHECKING:`` stubs: names promised but not set here."""
    names = [
        ast.unparse(stmt.target)
        for stmt in node.body
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None
    ]
    for stmt in node.body:
        if isinstance(stmt, ast.If):
            names += [
                sub.name
                for sub in ast.walk(stmt)
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return names


def _self_attributes(
    function: ast.FunctionDef | ast.AsyncFunctionDef, context: type[ast.expr_context]
) -> set[str]:
    return {
        sub.attr
        for sub in ast.walk(function)
        if isinstance(sub, ast.Attribute)
        and isinstance(sub.value, ast.Name)
        and sub.value.id == "self"
        and isinstance(sub.ctx, context)
    }


def _set_in_init(node: ast.ClassDef) -> set[str]:
    inits = [function for function in _functions(node) if function.name == "__init__"]
    return set().union(*(_self_attributes(init, ast.Store) for init in inits))


def _problems(cls: type) -> list[str]:
    node = _class_node(cls)
    chain = [klass for klass in cls.__mro__ if klass is not object]
    owned = set(vars(object))
    for klass in chain:
        owned |= _defined(_class_node(klass)) | _set_in_init(_class_node(klass))
    name = cls.__qualname__
    problems = [f"{name} declares {attr} but does not set it" for attr in _declared_only(node)]
    for function in _functions(node):
        for attr in sorted(_self_attributes(function, ast.Load) - owned):
            problems.append(
                f"{name}.{function.name} reads self.{attr}, set by no __init__ of it or its bases"
            )
        if function.name != "__init__":
            for attr in sorted(_self_attributes(function, ast.Store) - owned):
                problems.append(f"{name}.{function.name} sets self.{attr}, which no __init__ sets")
    return problems


@pytest.mark.parametrize(
    "cls",
    [klass for top in _CHAINS for klass in top.__mro__ if klass is not object],
    ids=lambda klass: klass.__qualname__,
)
def test_each_class_of_a_chain_sets_what_it_reads(cls: type) -> None:
    assert _problems(cls) == []


def test_the_chains_are_the_ones_the_docs_describe() -> None:
    # Guards the test above against checking fewer classes than there are.
    assert [klass.__qualname__ for klass in QuoteClient.__mro__] == [
        "QuoteClient",
        "LiveQuotesClient",
        "MarketDataRequestsClient",
        "QuoteRequestsClient",
        "GatewayClient",
        "ClientCore",
        "object",
    ]
    assert [klass.__qualname__ for klass in Simulator.__mro__] == [
        "Simulator",
        "ServerViews",
        "object",
    ]
